"""Transparent threshold typologies and their comparison with clusters.

A :class:`RuleTypology` crosses named binary criteria, each a threshold condition on
features ("corp_share >= 0.2"; comparisons joined by ``and`` / ``or``, ``and`` binding
tighter). With ``m`` criteria there are ``2^m`` types, numbered in the order of
``itertools.product([True, False], repeat=m)``: type 1 meets every criterion, the last meets
none.

Presets
-------
``study_2x2`` (the motivating study's typology: embedded in corporate networks or not x tied
to agglomerations or not):

* *embedded*: ``corp_share >= 0.20``. A fifth of the town's employment in firms of
  vertically integrated groups mirrors the 20 % employment criterion of Russian monotowns
  (Government Decree No. 709 of 29 July 2014): at that share the corporation's decisions
  shape the town's labour market. ``corp_share`` is the feature the study's hypothesis
  names (employment in firms of large vertically integrated corporations).
* *tied to an agglomeration*: ``dist_core_km <= 300``. Distance to the nearest core is the
  most robust proxy of agglomeration ties that every dataset supports (coordinates only);
  300 km is about a return trip by road within a working day in the North, the range over
  which supply, service and shift-commuting ties with a core are routine. ``core_access``
  (gravity access) depends on the distance-decay exponent and on core populations, so it
  is not a portable threshold. Adjust the radius to the region's transport network.

``monotown``: ``largest_employer_share >= 0.20``, the employment criterion of Decree No. 709
(one town-forming employer with at least 20 % of the average headcount); the decree's other
criteria (population above 3,000, the employer's output share) need data the feature table
does not hold.

:func:`reconcile` compares two typologies of the same towns: cross-tabulation, adjusted Rand
index (Hubert & Arabie 1985), adjusted mutual information (Vinh, Epps & Bailey 2010,
arithmetic normalization, as scikit-learn) and Cramer's V with its bias-corrected version
(Bergsma 2013).
"""

from __future__ import annotations

import itertools
import operator
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from sklearn.base import BaseEstimator
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

from ..exceptions import TypologyWarning

__all__ = ["PRESETS", "Reconciliation", "RuleTypology", "reconcile"]

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq,
        "!=": operator.ne}
_CMP = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")

PRESETS = {
    "study_2x2": (
        {"embedded": "corp_share >= 0.2", "tied": "dist_core_km <= 300"},
        {(True, True): "embedded in corporate networks, tied to an agglomeration",
         (True, False): "embedded in corporate networks, far from agglomerations",
         (False, True): "outside corporate networks, tied to an agglomeration",
         (False, False): "detached: outside corporate networks, far from agglomerations"},
    ),
    "monotown": (
        {"monotown": "largest_employer_share >= 0.2"},
        {(True,): "monotown", (False,): "not a monotown"},
    ),
}


def _parse(label: str, cond) -> list[list[tuple[str, str, float]]]:
    """A condition as OR of ANDs of (feature, op, value)."""
    if isinstance(cond, tuple) and len(cond) == 3 and isinstance(cond[0], str):
        cond = [cond]
    if isinstance(cond, list) and all(isinstance(c, tuple) and len(c) == 3 for c in cond):
        for f, op, v in cond:
            if op not in _OPS or not isinstance(f, str):
                raise ValueError(f"criterion {label!r}: bad comparison {(f, op, v)}; operators are {list(_OPS)}")
        return [[(f, op, float(v)) for f, op, v in cond]]
    if not isinstance(cond, str):
        raise TypeError(f"criterion {label!r} must be a string like 'corp_share >= 0.2', a tuple "
                        f"(feature, op, value) or a list of such tuples; found {type(cond).__name__}")
    out = []
    for alt in re.split(r"\s+or\s+", cond.strip()):
        conj = []
        for part in re.split(r"\s+and\s+", alt):
            m = _CMP.match(part)
            if not m:
                raise ValueError(f"criterion {label!r}: cannot read {part!r}; expected 'feature op number' "
                                 f"with op one of {', '.join(_OPS)}, joined by 'and' / 'or'")
            conj.append((m.group(1), m.group(2), float(m.group(3))))
        out.append(conj)
    return out


def _text(parsed) -> str:
    return " or ".join(" and ".join(f"{f} {op} {v:g}" for f, op, v in conj) for conj in parsed)


class RuleTypology(BaseEstimator):
    """Threshold typology: named binary criteria crossed into ``2^m`` types.

    Parameters
    ----------
    criteria : dict, optional
        Criterion label -> condition (``"corp_share >= 0.2"``, ``"a > 1 and b <= 2 or c == 0"``,
        a tuple ``(feature, op, value)`` or a list of tuples joined by "and"), in order.
    names : dict, optional
        Tuple of booleans (one per criterion, in order) -> type name. Default names list the
        criteria met and not met ("embedded, not tied").
    preset : {"study_2x2", "monotown"}, optional
        Use a preset's criteria and names (see the module docstring); ``names`` may still
        override them.
    missing : {"raise", "unclassified"}
        A town lacking a feature a criterion needs: error listing such towns, or type 0
        "unclassified" (counted in ``counts_``).

    The rules need no data, so :meth:`predict` and :meth:`assign` work before :meth:`fit`;
    ``fit(X)`` records ``labels_`` and ``counts_`` of the reference towns; ``type_names_``,
    ``n_types_`` and :attr:`features` follow from the parameters alone.

    Examples
    --------
    >>> rt = RuleTypology(preset="study_2x2")
    >>> rt.describe().loc[1, "rule"]
    'corp_share >= 0.2 and dist_core_km <= 300'
    """

    def __init__(self, criteria=None, names=None, preset=None, missing="raise"):
        self.criteria = criteria
        self.names = names
        self.preset = preset
        self.missing = missing

    @classmethod
    def study_2x2(cls, corp_threshold: float = 0.20, distance_km: float = 300.0) -> RuleTypology:
        """The study's 2 x 2 with other thresholds (see the module docstring for the defaults)."""
        crit = {"embedded": f"corp_share >= {float(corp_threshold)!r}",
                "tied": f"dist_core_km <= {float(distance_km)!r}"}
        return cls(criteria=crit, names=dict(PRESETS["study_2x2"][1]))

    @classmethod
    def monotown(cls, threshold: float = 0.20) -> RuleTypology:
        """Monotown criterion ``largest_employer_share >= threshold`` (Decree No. 709: 0.20)."""
        return cls(criteria={"monotown": f"largest_employer_share >= {float(threshold)!r}"},
                   names=dict(PRESETS["monotown"][1]))

    # ------------------------------------------------------------------ definition
    def _definition(self):
        if self.preset is not None:
            if self.preset not in PRESETS:
                raise ValueError(f"preset must be one of {sorted(PRESETS)}; found {self.preset!r}")
            if self.criteria is not None:
                raise ValueError("give either preset or criteria, not both")
            crit, names = PRESETS[self.preset]
            names = {**names, **(self.names or {})}
        else:
            if not self.criteria:
                raise ValueError("criteria must be a non-empty dict {label: condition}, or choose a preset "
                                 f"among {sorted(PRESETS)}")
            if not isinstance(self.criteria, dict):
                raise TypeError(f"criteria must be a dict {{label: condition}}, found {type(self.criteria).__name__}")
            crit, names = self.criteria, dict(self.names or {})
        if self.missing not in ("raise", "unclassified"):
            raise ValueError(f"missing must be 'raise' or 'unclassified'; found {self.missing!r}")
        labels = list(crit)
        parsed = [_parse(lab, crit[lab]) for lab in labels]
        combos = list(itertools.product([True, False], repeat=len(labels)))
        bad = [k for k in names if tuple(k) not in combos]
        if bad:
            raise ValueError(f"names keys must be tuples of {len(labels)} booleans (one per criterion "
                             f"{labels}); found {bad}")
        type_names = {}
        for i, combo in enumerate(combos, start=1):
            default = ", ".join(lab if met else f"not {lab}" for lab, met in zip(labels, combo, strict=True))
            type_names[i] = names.get(combo, default)
        if self.missing == "unclassified":
            type_names = {0: "unclassified (missing features)", **type_names}
        return labels, parsed, combos, type_names

    @property
    def features(self) -> list[str]:
        """Features the criteria use, in order of first use."""
        _, parsed, _, _ = self._definition()
        seen = []
        for p in parsed:
            for conj in p:
                for f, _, _ in conj:
                    if f not in seen:
                        seen.append(f)
        return seen

    @property
    def type_names_(self) -> dict:
        """Type -> name (the rules need no fit, so this is available before ``fit``)."""
        return self._definition()[3]

    @property
    def n_types_(self) -> int:
        return 2 ** len(self._definition()[0])

    def describe(self) -> pd.DataFrame:
        """One row per type: name and the rule that defines it."""
        labels, parsed, combos, names = self._definition()
        rows = []
        for i, combo in enumerate(combos, start=1):
            parts = [(_text(p) if met else f"not ({_text(p)})") for p, met in zip(parsed, combo, strict=True)]
            rows.append({"type": i, "name": names[i], "rule": " and ".join(parts)})
        return pd.DataFrame(rows).set_index("type")

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, X) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict]:
        labels, parsed, combos, names = self._definition()
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a DataFrame indexed by town_id, found {type(X).__name__}")
        needed = self.features
        absent = [f for f in needed if f not in X.columns]
        if absent:
            raise ValueError(f"X lacks the features the criteria use: {absent}")
        nonnum = [f for f in needed if not pd.api.types.is_numeric_dtype(X[f].dtype)]
        if nonnum:
            raise ValueError(f"criteria features must be numeric; {nonnum} are not")
        V = {f: X[f].to_numpy(dtype=float) for f in needed}
        miss = np.zeros(len(X), dtype=bool)
        for f in needed:
            miss |= ~np.isfinite(V[f])
        if miss.any() and self.missing == "raise":
            ex = ", ".join(map(str, X.index[miss][:5]))
            raise ValueError(f"{int(miss.sum())} towns lack a feature the criteria need ({needed}), e.g. {ex}; "
                             f"pass missing='unclassified' to give them type 0")
        met = np.zeros((len(X), len(labels)), dtype=bool)
        for j, p in enumerate(parsed):
            col = np.zeros(len(X), dtype=bool)
            for conj in p:
                c = np.ones(len(X), dtype=bool)
                for f, op, v in conj:
                    with np.errstate(invalid="ignore"):
                        c &= _OPS[op](V[f], v)
                col |= c
            met[:, j] = col
        # type number = position of the row's combination in product([True, False], repeat=m)
        weights = 2 ** np.arange(len(labels) - 1, -1, -1)
        types = ((~met).astype(np.int64) * weights).sum(axis=1) + 1
        types[miss] = 0
        crit = pd.DataFrame(met, index=X.index, columns=labels)
        crit.loc[miss] = False
        return crit, types, miss, names

    def fit(self, X, y=None) -> RuleTypology:
        """Type the reference towns ``X``: ``labels_`` and ``counts_`` (towns per type)."""
        crit, types, _, names = self._evaluate(X)
        self.labels_ = pd.Series(types, index=X.index, name="type")
        self.counts_ = self.labels_.value_counts().reindex(list(names), fill_value=0).rename("towns")
        self.counts_.index.name = "type"
        self.feature_names_in_ = np.asarray(self.features, dtype=object)
        return self

    def predict(self, X) -> pd.Series:
        """Type of each town of ``X`` (0 = unclassified when ``missing="unclassified"``)."""
        _, types, _, _ = self._evaluate(X)
        return pd.Series(types, index=X.index, name="type")

    def fit_predict(self, X, y=None) -> pd.Series:
        return self.fit(X).labels_

    def assign(self, X) -> pd.DataFrame:
        """``type``, ``type_name`` and one boolean column per criterion for each town of ``X``."""
        crit, types, _, names = self._evaluate(X)
        out = pd.DataFrame({"type": types, "type_name": [names[t] for t in types]}, index=X.index)
        return out.join(crit)


@dataclass(frozen=True)
class Reconciliation:
    """Agreement between two typologies of the same towns (read-only).

    Attributes
    ----------
    crosstab : DataFrame
        Towns by type of the first (rows) and second (columns) typology.
    ari, ami : float
        Adjusted Rand index; adjusted mutual information (arithmetic normalization).
    cramers_v, cramers_v_corrected : float
        Cramer's V, ``sqrt(chi2 / (n (min(r, c) - 1)))`` with chi2 without continuity
        correction, and Bergsma's (2013) bias-corrected V.
    chi2, p_value : float
        Pearson's chi-squared test of independence and its p-value, ``dof`` degrees of freedom.
    n : int
        Towns typed by both; ``left_out`` counts towns typed by only one of them.
    """

    crosstab: pd.DataFrame
    ari: float
    ami: float
    cramers_v: float
    cramers_v_corrected: float
    chi2: float
    p_value: float
    dof: int
    n: int
    left_out: dict

    def summary(self) -> str:
        return (f"{self.n} towns: adjusted Rand {self.ari:.3f}, adjusted mutual information {self.ami:.3f}, "
                f"Cramer's V {self.cramers_v:.3f} (bias-corrected {self.cramers_v_corrected:.3f}; chi2 = "
                f"{self.chi2:.1f}, dof {self.dof}, p = {self.p_value:.3g})")


def _as_labels(obj, what: str) -> pd.Series:
    if hasattr(obj, "labels_") and hasattr(obj, "type_names_"):
        names = obj.type_names_
        return obj.labels_.map(lambda t: f"{t}: {names[t]}").rename(what)
    if isinstance(obj, pd.DataFrame):
        col = "type_name" if "type_name" in obj.columns else "type" if "type" in obj.columns else None
        if col is None:
            raise ValueError(f"{what}: a DataFrame must have a 'type_name' or 'type' column")
        if col == "type_name" and "type" in obj.columns:
            return (obj["type"].astype(str) + ": " + obj["type_name"].astype(str)).rename(what)
        return obj[col].rename(what)
    if isinstance(obj, pd.Series):
        return obj.rename(what)
    raise TypeError(f"{what} must be a fitted TownTypology or RuleTypology, a Series of types indexed by "
                    f"town_id, or an assign() DataFrame; found {type(obj).__name__}")


def cramers_v(table: np.ndarray) -> tuple[float, float, float, float, int]:
    """Cramer's V, bias-corrected V (Bergsma 2013), chi2, p-value and dof of a contingency table."""
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    n = t.sum()
    r, c = t.shape
    if min(r, c) < 2:
        return float("nan"), float("nan"), 0.0, 1.0, 0
    chi2, p, dof, _ = chi2_contingency(t, correction=False)
    phi2 = chi2 / n
    v = float(np.sqrt(phi2 / (min(r, c) - 1)))
    phi2c = max(0.0, phi2 - (r - 1) * (c - 1) / (n - 1))
    rc, cc = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    den = min(rc - 1, cc - 1)
    vc = float(np.sqrt(phi2c / den)) if den > 0 else float("nan")
    return v, vc, float(chi2), float(p), int(dof)


def reconcile(clusters, rules) -> Reconciliation:
    """Compare two typologies of the same towns (e.g. clusters with a threshold typology).

    Parameters
    ----------
    clusters, rules : fitted TownTypology / RuleTypology, Series or assign() DataFrame
        Types indexed by town_id. Towns typed by only one of them are left out of the
        comparison, counted in ``left_out`` and reported by a ``TypologyWarning``.
    """
    a = _as_labels(clusters, "clusters")
    b = _as_labels(rules, "rules")
    for s, what in ((a, "clusters"), (b, "rules")):
        if s.index.has_duplicates:
            raise ValueError(f"{what} has duplicated town_id values")
    common = a.index.intersection(b.index, sort=False)
    only_a, only_b = len(a) - len(common), len(b) - len(common)
    nan_rows = a.loc[common].isna().to_numpy() | b.loc[common].isna().to_numpy()
    common = common[~nan_rows]
    if only_a or only_b or nan_rows.any():
        warnings.warn(f"reconcile compares the {len(common)} towns typed by both: {only_a} towns only in clusters, "
                      f"{only_b} only in rules, {int(nan_rows.sum())} without a type are left out",
                      TypologyWarning, stacklevel=2)
    if len(common) < 2:
        raise ValueError(f"reconcile needs at least 2 towns typed by both typologies, found {len(common)}")
    x, y = a.loc[common], b.loc[common]
    tab = pd.crosstab(x, y)
    v, vc, chi2, p, dof = cramers_v(tab.to_numpy())
    return Reconciliation(
        crosstab=tab, ari=float(adjusted_rand_score(x, y)), ami=float(adjusted_mutual_info_score(x, y)),
        cramers_v=v, cramers_v_corrected=vc, chi2=chi2, p_value=p, dof=dof, n=len(common),
        left_out={"only_clusters": int(only_a), "only_rules": int(only_b), "untyped": int(nan_rows.sum())})
