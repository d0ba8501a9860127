"""The frozen specification of a panel model: what to estimate and how to compute its errors."""

from __future__ import annotations

from dataclasses import dataclass

from .covariance import COVARIANCES
from .estimators import ESTIMATORS as ESTIMATOR_TYPES

__all__ = ["COV_TYPES", "EFFECTS", "ESTIMATORS", "SMALL_SAMPLE", "PanelModelSpec"]

# the names a specification accepts come from the registries of estimators and covariances
# (validation reads the registries themselves, so an entry added later is accepted too)
ESTIMATORS = tuple(ESTIMATOR_TYPES)
def _effects() -> tuple:
    """Every effect some registered estimator accepts, in registration order."""
    return tuple(dict.fromkeys(e for entry in ESTIMATOR_TYPES.values() for e in entry.effects))


EFFECTS = _effects()
COV_TYPES = tuple(COVARIANCES)
SMALL_SAMPLE = ("stata", "plm", "none")
BOOTSTRAP_WEIGHTS = ("rademacher", "webb")

_NOT_SET = "__default__"


def _known(value, names) -> bool:
    """``value`` is one of ``names`` (False for a value that cannot be one, e.g. a list from a
    configuration file, instead of a TypeError)."""
    return isinstance(value, str | None) and value in names


def _listing(values) -> str:
    return ", ".join(repr(v) for v in values)


def _and(names, word: str = "and") -> str:
    """``"a, b and c"``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {word} " + names[-1]


def _or(names) -> str:
    return _and(names, "or")


@dataclass(frozen=True)
class PanelModelSpec:
    """Specification of a linear panel model (frozen; validated on creation).

    Parameters
    ----------
    formula : str
        Wilkinson formula of column names, ``"y ~ x1 + x2 + x1:x2"``; ``a*b`` expands to
        ``a + b + a:b``; ``- 1`` (or ``+ 0``) removes the intercept. Functions:
        ``log(x)``, ``log1p(x)``, ``sqrt(x)``, ``lag(x, k)`` (value of ``x`` in the same town
        ``k`` years earlier, calendar years, default ``k = 1``), ``C(g)`` (a categorical: string,
        categorical or integer column, or the ``year`` / ``town_id`` index level). See
        :mod:`models.formula` for the coding of categoricals and interactions.
    estimator : {"within", "random", "pooled", "between", "first_difference"}
        ``within``: fixed effects (``effects`` absorbed by demeaning); ``random``: one-way
        random town effects, Swamy-Arora variance components (Baltagi 2021, sec. 2.3; the
        unbalanced-panel version of Baltagi and Chang 1994 as in plm); ``pooled``: OLS;
        ``between``: OLS on the means of towns (or of years); ``first_difference``: OLS on
        differences between consecutive calendar years within towns.
    effects : {"entity", "time", "twoway", None}
        Effects of the model. Default: ``"entity"`` for within, random, between and first
        differences, ``None`` for pooled. Year effects with random town effects: add
        ``C(year)`` to the formula.
    cov_type : {"unadjusted", "robust", "clustered", "driscoll_kraay", "wild_bootstrap"}
        Covariance of the estimates (see :mod:`models.covariance` for every convention).
        ``wild_bootstrap`` reports the clustered standard errors and takes p-values and
        confidence intervals from a wild cluster bootstrap restricted by the null.
    cluster : str
        ``"entity"``, ``"time"``, ``"entity+time"`` (two-way clustering) or the name of a data
        column (for example ``"region"``); two names joined by ``+`` cluster two ways.
    cluster_small_sample : {"stata", "plm", "none"}
        Small-sample factor of clustered errors. ``"stata"``: CRV1,
        ``G/(G-1) (N-1)/(N-K)`` with the effects nested in the clusters not counted in ``K``
        (``xtreg, fe vce(cluster)``, ``reghdfe``); ``"plm"``: plm's ``vcovHC(type="sss")``
        (``K`` = coefficients plm reports, slopes only for within); ``"none"``: no factor (plm's
        and linearmodels' defaults).
    dk_lags : int, optional
        Bartlett lags of Driscoll-Kraay errors; default ``floor(4 (T/100)^(2/9))`` (Hoechle 2007).
    bootstrap_reps : int
        Wild bootstrap replications (default 999). Rademacher and Webb weights enumerate all
        ``m^G`` weight vectors (``m`` = 2 or 6, ``G`` clusters) once instead when
        ``m^G <= max(bootstrap_reps, 2048)``, as ``boottest`` does.
    bootstrap_weights : {"rademacher", "webb"}
        Wild bootstrap weights: Rademacher (+-1) or Webb's (2014) six-point distribution.
    random_state : int, optional
        Seed of the wild bootstrap.
    mundlak : bool
        With ``estimator="random"`` (or ``"pooled"``): add the town means of the time-varying
        regressors (``mean(x)``), the correlated random effects model of Mundlak (1978).
    singletons : {"drop", "keep"}
        Towns (or years) with one observation in a fixed-effects model carry no information;
        ``"drop"`` (default, as ``reghdfe`` and ``fixest``) removes and reports them.
    name : str, optional
        Label of the model in tables.
    """

    formula: str
    estimator: str = "within"
    effects: str | None = _NOT_SET  # type: ignore[assignment]
    cov_type: str = "clustered"
    cluster: str = "entity"
    cluster_small_sample: str = "stata"
    dk_lags: int | None = None
    bootstrap_reps: int = 999
    bootstrap_weights: str = "rademacher"
    random_state: int | None = None
    mundlak: bool = False
    singletons: str = "drop"
    name: str | None = None

    def __post_init__(self):
        if not isinstance(self.formula, str) or "~" not in self.formula:
            raise ValueError(f"formula must be a string 'y ~ x1 + x2'; found {self.formula!r}")
        if not _known(self.estimator, ESTIMATOR_TYPES):
            raise ValueError(f"estimator must be one of {_listing(ESTIMATOR_TYPES)}; found {self.estimator!r}")
        estimator = ESTIMATOR_TYPES[self.estimator]
        allowed = estimator.effects
        if self.effects == _NOT_SET:
            object.__setattr__(self, "effects", allowed[0])
        if not _known(self.effects, _effects()):
            raise ValueError(f"effects must be one of {_listing(_effects())}; found {self.effects!r}")
        if self.effects not in allowed:
            hint = estimator.effects_hint.get(self.effects)
            raise ValueError(f"estimator {self.estimator!r} takes effects in {_listing(allowed)}; "
                             f"found {self.effects!r}" + (f" ({hint})" if hint else ""))
        if not _known(self.cov_type, COVARIANCES):
            raise ValueError(f"cov_type must be one of {_listing(COVARIANCES)}; found {self.cov_type!r}")
        covariance = COVARIANCES[self.cov_type]
        if covariance.linear_only and not estimator.linear:
            linear = [name for name, e in ESTIMATOR_TYPES.items() if e.linear]
            raise ValueError(f"cov_type={self.cov_type!r} is available for the {_and(linear)} estimators "
                             f"(linear in the outcome); found estimator={self.estimator!r}")
        if not isinstance(self.cluster, str) or not self.cluster.strip():
            raise ValueError(f"cluster must be 'entity', 'time', 'entity+time' or a column name; found {self.cluster!r}")
        parts = [p.strip() for p in self.cluster.split("+")]
        if len(parts) > 2 or any(not p for p in parts):
            raise ValueError(f"cluster names one or two dimensions joined by '+'; found {self.cluster!r}")
        if covariance.one_cluster_dimension and len(parts) != 1:
            raise ValueError(f"cov_type={self.cov_type!r} takes one cluster dimension; found cluster={self.cluster!r}")
        if not _known(self.cluster_small_sample, SMALL_SAMPLE):
            raise ValueError(f"cluster_small_sample must be one of {_listing(SMALL_SAMPLE)}; "
                             f"found {self.cluster_small_sample!r}")
        if self.dk_lags is not None and (not isinstance(self.dk_lags, int) or self.dk_lags < 0):
            raise ValueError(f"dk_lags must be a non-negative integer or None; found {self.dk_lags!r}")
        if not isinstance(self.bootstrap_reps, int) or self.bootstrap_reps < 19:
            raise ValueError(f"bootstrap_reps must be an integer >= 19; found {self.bootstrap_reps!r}")
        if not _known(self.bootstrap_weights, BOOTSTRAP_WEIGHTS):
            raise ValueError(f"bootstrap_weights must be one of {_listing(BOOTSTRAP_WEIGHTS)}; "
                             f"found {self.bootstrap_weights!r}")
        if self.mundlak and not estimator.mundlak:
            takes = [name for name, e in ESTIMATOR_TYPES.items() if e.mundlak]
            raise ValueError(f"mundlak=True adds town means to a {_or(takes)} model; found estimator={self.estimator!r}")
        if not _known(self.singletons, ("drop", "keep")):
            raise ValueError(f"singletons must be 'drop' or 'keep'; found {self.singletons!r}")

    @property
    def cluster_dims(self) -> tuple[str, ...]:
        """The cluster dimensions, e.g. ``("entity", "time")``."""
        return tuple(p.strip() for p in self.cluster.split("+"))

    @property
    def label(self) -> str:
        return self.name or self.formula
