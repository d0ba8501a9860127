"""The frozen specification of a panel model: what to estimate and how to compute its errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .absorb import FE_DOF, effect_columns
from .covariance import COVARIANCES
from .estimators import ESTIMATORS as ESTIMATOR_TYPES
from .formula import FormulaError, parse_formula_cached, term_names

__all__ = ["COV_TYPES", "EFFECTS", "ESTIMATORS", "FE_DOF", "SMALL_SAMPLE", "PanelModelSpec"]

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


def _items(value, key: str, example: str) -> tuple[str, ...]:
    """Names given as a tuple or list of strings, or one string joined by ``+`` (from a
    configuration file); ``()`` for ``None``."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.split("+") if value.strip() else []
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [value]
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise ValueError(f"{key} lists names as a tuple of strings (for example {example}); found {value!r}")
    return tuple(v.strip() for v in items)


def _effect_names(value) -> tuple[str, ...]:
    names = []
    for item in _items(value, "absorb", "('town_id', 'year', 'region^year')"):
        try:
            names.append("^".join(effect_columns(item)))
        except ValueError as exc:
            raise ValueError(f"absorb: {exc}") from None
    if len(set(names)) != len(names):
        raise ValueError(f"absorb lists an effect twice: {names}")
    return tuple(names)


def _term_names(value, key: str) -> tuple[str, ...]:
    out = []
    for item in _items(value, key, "('x2',) or ('z1', 'log(z2)')"):
        try:
            out.extend(term_names(item))
        except FormulaError as exc:
            raise ValueError(f"{key}: {exc}") from None
    if len(set(out)) != len(out):
        raise ValueError(f"{key} lists a variable twice: {out}")
    return tuple(out)


def _agree(key: str, given: tuple, written: tuple, formula: str) -> tuple:
    """The part given as a field or written in the formula after ``|`` (both: the same)."""
    if given and written and given != written:
        raise ValueError(f"{key}={given!r} differs from the formula's {written!r} ({formula!r}); give "
                         f"the {key} part once, in the formula or as {key}=")
    return given or written


def _check_iv(spec, regressors: tuple) -> None:
    """Endogenous regressors and instruments: both or neither, no overlap, enough instruments."""
    endog, z = spec.endog, spec.instruments
    if bool(endog) != bool(z):
        raise ValueError("instrumental variables need both endog (the endogenous regressors) and instruments "
                         f"(the excluded instruments); found endog={endog!r}, instruments={z!r}")
    if not endog:
        return
    both = [v for v in endog if v in z]
    if both:
        raise ValueError(f"{', '.join(both)}: listed as endogenous and as an instrument; an instrument must be "
                         "excluded from the regressors")
    included = [v for v in (*endog, *z) if v in regressors]
    if included:
        raise ValueError(f"{', '.join(included)}: in the formula's regressors and in endog/instruments; the "
                         "regressors of the formula are the exogenous ones, write the endogenous regressors only "
                         "in endog (or after '|' as 'w ~ z1 + z2') and the instruments only in instruments")
    if len(z) < len(endog):
        raise ValueError(f"{len(endog)} endogenous regressor(s) ({', '.join(endog)}) and {len(z)} instrument(s) "
                         f"({', '.join(z)}): the model is not identified; give at least as many instruments as "
                         "endogenous regressors")


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
    estimator : {"within", "random", "pooled", "between", "first_difference", "iv", "ppml"}
        ``within``: fixed effects (``effects`` absorbed by demeaning); ``random``: one-way
        random town effects, Swamy-Arora variance components (Baltagi 2021, sec. 2.3; the
        unbalanced-panel version of Baltagi and Chang 1994 as in plm); ``pooled``: OLS;
        ``between``: OLS on the means of towns (or of years); ``first_difference``: OLS on
        differences between consecutive calendar years within towns; ``iv``: two-stage least
        squares with ``endog`` and ``instruments`` and any absorbed effects
        (:mod:`models.iv`; ``within`` with instruments is the same estimator); ``ppml``:
        Poisson pseudo-maximum likelihood with any absorbed effects (:mod:`models.ppml`).
        ``iv`` and ``ppml`` take ``cov_type`` ``"unadjusted"``, ``"robust"`` or
        ``"clustered"``.
    effects : {"entity", "time", "twoway", None}
        Effects of the model. Default: ``"entity"`` for within, random, between and first
        differences, ``None`` for pooled. Year effects with random town effects: add
        ``C(year)`` to the formula. Exclusive with ``absorb``.
    absorb : tuple of str
        Effects absorbed by a ``within`` model, any number: columns or index levels, ``a^b``
        for an interaction (one effect per combination, fixest's syntax), e.g.
        ``("town_id", "year", "region^year")``; also written in the formula after ``|``,
        ``"y ~ x | town_id + region^year"``. ``effects="twoway"`` is ``absorb=("town_id",
        "year")`` computed by the exact two-way projection (numbers equal to rounding).
        Removed by :func:`models.absorb.demean`; singletons are dropped across all effects.
    endog, instruments : tuple of str
        Endogenous regressors and their excluded instruments (terms such as ``"x2"``,
        ``"log(z1)"``), also written as fixest's last formula part ``"y ~ x | fe | x2 ~ z1 +
        z2"``; at least as many instruments as endogenous regressors, none of them among the
        formula's regressors. Only estimators that estimate instrumental variables fit them.
    cov_type : {"unadjusted", "robust", "clustered", "driscoll_kraay", "wild_bootstrap"}
        Covariance of the estimates (see :mod:`models.covariance` for every convention).
        ``wild_bootstrap`` reports the clustered standard errors and takes p-values and
        confidence intervals from a wild cluster bootstrap restricted by the null.
    cluster : str
        ``"entity"``, ``"time"``, ``"entity+time"`` (two-way clustering) or the name of a data
        column or index level (for example ``"region"``); two or three names joined by ``+``
        cluster two or three ways (Cameron, Gelbach and Miller 2011).
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
        Towns (or years, or levels of an absorbed effect) with one observation in a
        fixed-effects model carry no information; ``"drop"`` (default, as ``reghdfe`` and
        ``fixest``) removes and reports them, repeatedly across all effects.
    fe_tol, fe_maxiter : float, int
        Convergence tolerance and sweep limit of the demeaning by absorbed effects
        (:func:`models.absorb.demean`; default ``1e-8`` and ``10_000``, as reghdfe).
    conley_km : float, optional
        ``cov_type="conley"``: the distance cut-off in km of Conley's (1999) spatial HAC errors
        (:func:`models.covariance.cov_conley`; pairs of towns farther apart get weight 0).
    conley_kernel : {"uniform", "bartlett"}
        Weight of a pair of towns at distance ``d``: 1 within the cut-off (``"uniform"``,
        Hsiang 2010's default) or ``1 - d / conley_km`` (``"bartlett"``).
    conley_lags : int or "all"
        Serial correlation within towns: Bartlett weights ``1 - l/(L+1)`` up to ``L`` years apart
        (default 0: none), or ``"all"``: every pair of years of a town, weight 1.
    coordinates : tuple of str
        The columns (or index levels) of latitude and longitude in degrees, default
        ``("lat", "lon")``.
    fe_dof : {"fixest", "firstpair"}
        Degrees of freedom of absorbed effects (:func:`models.absorb.absorbed_dof`):
        ``"fixest"`` (default, fixest's and pyfixest's default count, so that standard errors
        agree with theirs) counts every effect's levels less one, plus the constant;
        ``"firstpair"`` (reghdfe) counts the redundant levels of the first two effects exactly
        (connected components), the others as levels less one. They differ only when the first
        two effects are not connected. Effects nested in a cluster are not counted in the
        clustered ``K`` (fixest's ``fixef.K="nested"``, reghdfe).
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
    absorb: tuple[str, ...] = ()
    endog: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    fe_tol: float = 1e-8
    fe_maxiter: int = 10_000
    fe_dof: str = "fixest"
    conley_km: float | None = None
    conley_kernel: str = "uniform"
    conley_lags: int | str = 0
    coordinates: tuple[str, ...] = ("lat", "lon")

    def __post_init__(self):
        if not isinstance(self.formula, str) or "~" not in self.formula:
            raise ValueError(f"formula must be a string 'y ~ x1 + x2'; found {self.formula!r}")
        if not _known(self.estimator, ESTIMATOR_TYPES):
            raise ValueError(f"estimator must be one of {_listing(ESTIMATOR_TYPES)}; found {self.estimator!r}")
        estimator = ESTIMATOR_TYPES[self.estimator]
        self._check_parts(estimator)
        allowed = estimator.effects
        if self.absorb:
            if self.effects not in (_NOT_SET, None):
                raise ValueError(f"absorb and effects are exclusive: absorb lists every effect (effects='twoway' is "
                                 f"absorb=('town_id', 'year')); found effects={self.effects!r} and "
                                 f"absorb={self.absorb!r}")
            object.__setattr__(self, "effects", None)
        else:
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
        self._check_cov_type(estimator)
        if covariance.linear_only and not estimator.linear:
            linear = [name for name, e in ESTIMATOR_TYPES.items() if e.linear]
            raise ValueError(f"cov_type={self.cov_type!r} is available for the {_and(linear)} estimators "
                             f"(linear in the outcome); found estimator={self.estimator!r}")
        if not isinstance(self.cluster, str) or not self.cluster.strip():
            raise ValueError(f"cluster must be 'entity', 'time', 'entity+time' or a column name; found {self.cluster!r}")
        parts = [p.strip() for p in self.cluster.split("+")]
        if len(parts) > 3 or any(not p for p in parts) or len(set(parts)) != len(parts):
            raise ValueError(f"cluster names one, two or three different dimensions joined by '+'; found "
                             f"{self.cluster!r}")
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
        if isinstance(self.fe_tol, bool) or not isinstance(self.fe_tol, int | float) or not 0 < self.fe_tol < 1:
            raise ValueError(f"fe_tol must be a number in (0, 1); found {self.fe_tol!r}")
        if isinstance(self.fe_maxiter, bool) or not isinstance(self.fe_maxiter, int) or self.fe_maxiter < 1:
            raise ValueError(f"fe_maxiter must be an integer >= 1; found {self.fe_maxiter!r}")
        if not _known(self.fe_dof, FE_DOF):
            raise ValueError(f"fe_dof must be one of {_listing(FE_DOF)}; found {self.fe_dof!r}")
        self._check_conley(covariance)

    def _check_conley(self, covariance) -> None:
        """The cut-off, kernel, lags and coordinates of Conley errors."""
        coords = _items(self.coordinates, "coordinates", "('lat', 'lon')")
        if len(coords) != 2:
            raise ValueError(f"coordinates names two columns, latitude and longitude; found {self.coordinates!r}")
        object.__setattr__(self, "coordinates", coords)
        km = self.conley_km
        if km is not None and (isinstance(km, bool) or not isinstance(km, int | float) or not 0 < km < np.inf):
            raise ValueError(f"conley_km must be a positive number of km; found {km!r}")
        if covariance.uses_coordinates and km is None:
            raise ValueError(f"cov_type={self.cov_type!r} needs the distance cut-off conley_km (in km, e.g. 100)")
        if not _known(self.conley_kernel, ("uniform", "bartlett")):
            raise ValueError(f"conley_kernel must be 'uniform' or 'bartlett'; found {self.conley_kernel!r}")
        lags = self.conley_lags
        if not (lags == "all" or (isinstance(lags, int) and not isinstance(lags, bool) and lags >= 0)):
            raise ValueError(f"conley_lags must be a non-negative integer or 'all'; found {lags!r}")

    def _check_parts(self, estimator) -> None:
        """Resolve ``absorb``, ``endog`` and ``instruments`` (fields or the formula's parts after
        ``|``, normalized to tuples) and check them."""
        form = parse_formula_cached(self.formula) if "|" in self.formula else None
        absorb = _agree("absorb", _effect_names(self.absorb), form.absorb if form else (), self.formula)
        endog = _agree("endog", _term_names(self.endog, "endog"), form.endog_names if form else (), self.formula)
        z = _agree("instruments", _term_names(self.instruments, "instruments"),
                   form.instrument_names if form else (), self.formula)
        for key, value in (("absorb", absorb), ("endog", endog), ("instruments", z)):
            object.__setattr__(self, key, value)
        if absorb and not estimator.absorb:
            takes = [name for name, e in ESTIMATOR_TYPES.items() if e.absorb]
            raise ValueError(f"absorb={absorb!r}: estimator {self.estimator!r} absorbs no effects; absorbed effects "
                             f"are for the {_or(takes)} estimator(s)")
        if not endog and estimator.instruments and estimator.fit is not None:
            raise ValueError(f"estimator {self.estimator!r} needs endog (the endogenous regressors) and instruments "
                             "(the excluded instruments), as endog=('x2',), instruments=('z1', 'z2') or the formula "
                             "part 'y ~ x1 | effects | x2 ~ z1 + z2'")
        if endog and not estimator.instruments:
            takes = [name for name, e in ESTIMATOR_TYPES.items() if e.instruments]
            raise ValueError(f"endog={endog!r}: estimator {self.estimator!r} does not estimate endogenous regressors "
                             f"with instruments; use estimator {_or(takes)}")
        _check_iv(self, (form or parse_formula_cached(self.formula)).regressor_names if endog else ())

    def _check_cov_type(self, estimator) -> None:
        """Estimators that fit themselves (and instrumental variables) take fewer covariances."""
        iv = ESTIMATOR_TYPES.get("iv") if self.endog else None
        allowed = estimator.cov_types or (iv.cov_types if iv is not None else None)
        if allowed and self.cov_type not in allowed:
            what = f"estimator={self.estimator!r}" + (" with instruments" if self.endog else "")
            raise ValueError(f"cov_type={self.cov_type!r} is not available for {what}; it takes {_or(allowed)}")

    @property
    def absorb_label(self) -> str:
        """The absorbed effects as written after ``|`` (``"town_id + region^year"``), or ``""``."""
        return " + ".join(self.absorb)

    @property
    def cluster_dims(self) -> tuple[str, ...]:
        """The cluster dimensions, e.g. ``("entity", "time")``."""
        return tuple(p.strip() for p in self.cluster.split("+"))

    @property
    def label(self) -> str:
        return self.name or self.formula
