"""Join counts: are towns of the same type neighbours more often than chance?

On the binary weights ``b_ij`` (1 where ``w_ij != 0``), the joins between types ``r`` and ``s``
are ``J_rs = 1/2 sum_ij b_ij [type_i = r] [type_j = s]``; ``J_rr`` counts the same-type joins
(for symmetric weights, each pair of neighbouring towns once), ``J = S0 / 2`` all joins and
``different = J - sum_r J_rr``. With two types coded 0 ("white") and 1 ("black") these are
esda's ``bb = J_11``, ``ww = J_00`` and ``bw = J_01 + J_10`` (``esda.Join_Counts``).

Inference, per type, on the same-type count:

* analytic, under non-free sampling (the counts of each type fixed; Cliff & Ord 1981,
  ch. 2; R spdep ``joincount.test(sampling="nonfree")``), with ``n_r`` towns of type ``r``
  and ``n`` towns (spdep's ``adjust.n``: islands not counted), ``(k)_m = k (k - 1) ... (k - m + 1)``:
  ``E[J_rr] = S0 (n_r)_2 / (2 (n)_2)`` and
  ``Var[J_rr] = [S1 (n_r)_2/(n)_2 + (S2 - 2 S1)(n_r)_3/(n)_3 + (S0^2 + S1 - S2)(n_r)_4/(n)_4] / 4 - E^2``;
  ``z = (J_rr - E) / sqrt(Var)`` and ``p_norm`` its upper tail (more same-type joins than
  chance: spdep's ``alternative="greater"``);
* permutations of the types over the towns: ``p_sim = (#{J_rr* >= J_rr} + 1) / (R + 1)``,
  the upper tail, as esda's ``p_sim_bb`` (not folded). ``different`` has the same upper-tail
  ``p_sim_different`` (esda's ``p_sim_bw`` for two types; its lower tail is
  ``1 - p_sim_different + 1/(R + 1)`` up to ties).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)

from .autocorrelation import permuter
from .weights import SpatialWeights, SpatialWeightsWarning

__all__ = ["JoinCountsResult", "join_counts"]


@dataclass(frozen=True)
class JoinCountsResult:
    """Join counts of a categorical variable.

    ``types``: one row per type with ``n_towns``, ``joins`` (same-type ``J_rr``), ``expected``,
    ``variance``, ``z``, ``p_norm`` (non-free sampling, upper tail), ``mean_sim``, ``p_sim``;
    ``crosstab``: ``J_rs`` (rows: the focal town's type); ``total`` joins ``J``; ``different``
    joins and ``p_sim_different``; ``n`` towns, ``permutations``, ``dropped`` towns with no type.
    """

    types: pd.DataFrame
    crosstab: pd.DataFrame
    total: float
    different: float
    p_sim_different: float
    n: int
    permutations: int
    weights_kind: str
    dropped: pd.Index = field(repr=False)

    @property
    def bb(self) -> float:
        """Joins between towns of the second type (esda's ``bb``; two types only)."""
        return float(self._two().iloc[1, 1])

    @property
    def ww(self) -> float:
        """Joins between towns of the first type (esda's ``ww``; two types only)."""
        return float(self._two().iloc[0, 0])

    @property
    def bw(self) -> float:
        """Joins between towns of different types (esda's ``bw``; two types only)."""
        return float(self.different) if len(self._two()) == 2 else np.nan

    def _two(self) -> pd.DataFrame:
        if len(self.crosstab) != 2:
            raise ValueError(f"bb / ww / bw are defined for two types; there are {len(self.crosstab)}: "
                             "read types and crosstab")
        return self.crosstab


def _codes(labels, weights: SpatialWeights, missing: str) -> tuple[np.ndarray, pd.Index, SpatialWeights, pd.Index]:
    """Type codes in the weights' order (types sorted), the types, the weights kept, the dropped."""
    if not isinstance(weights, SpatialWeights):
        raise TypeError(f"join_counts: weights must be a features.spatial.SpatialWeights, got {type(weights).__name__}")
    if isinstance(labels, pd.Series):
        extra = labels.index.difference(weights.ids)
        if len(extra):
            raise KeyError(f"join_counts: labels for town_id not in the weights ({weights.kind}): {list(extra[:5])}")
        lab = labels.reindex(weights.ids)
    else:
        lab = pd.Series(np.asarray(labels), index=weights.ids)
        if len(lab) != weights.n:
            raise ValueError(f"join_counts: {len(lab)} labels for {weights.n} towns")
    gone = lab.isna().to_numpy()
    dropped = weights.ids[gone]
    if gone.any():
        if missing == "raise":
            raise ValueError(f"join_counts: no type for town_id {list(dropped[:5])} ({int(gone.sum())} town(s))")
        warnings.warn(f"join_counts: {len(dropped)} town(s) with no type left out ({list(dropped[:10])})",
                      SpatialWeightsWarning, stacklevel=3)
        weights = weights.reindex(weights.ids[~gone])
        lab = lab[~gone]
    codes, types = pd.factorize(lab, sort=True)
    if len(types) < 2:
        raise ValueError(f"join_counts: needs at least two types, got {list(types)}")
    return codes.astype(np.int64), pd.Index(types, name="type"), weights, dropped


def _moments(s0: float, s1: float, s2: float, n: int, nr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-free sampling moments of the same-type counts (spdep ``joincount.test``)."""
    def falling(x, m):
        out = np.ones_like(x, dtype=float)
        for j in range(m):
            out = out * (x - j)
        return out

    nf = float(n)
    e = s0 * falling(nr, 2) / (2.0 * nf * (nf - 1))
    v = (s1 * falling(nr, 2) / (nf * (nf - 1))
         + (s2 - 2 * s1) * falling(nr, 3) / (nf * (nf - 1) * (nf - 2))
         + (s0 * s0 + s1 - s2) * falling(nr, 4) / (nf * (nf - 1) * (nf - 2) * (nf - 3)))
    return e, 0.25 * v - e**2


def join_counts(labels, weights: SpatialWeights, permutations: int = 999, random_state=None,
                missing: str = "drop") -> JoinCountsResult:
    """Join counts of a categorical variable (types of towns) on the binary weights.

    Parameters
    ----------
    labels : Series indexed by town_id (or array in the weights' order)
        Any categories (strings, booleans, integers); types are sorted.
    weights : SpatialWeights
        Binarized (``weights.transformed("b")``): a join is a pair of neighbours.
    permutations : int
        Random permutations of the labels over the towns (0: none).
    random_state : None, int, SeedSequence, Generator or RandomState
        As :func:`features.spatial.moran`; a ``RandomState`` reproduces esda's
        ``Join_Counts`` draws after ``numpy.random.seed``.
    missing : {"drop", "raise"}
        Towns with no label.

    References
    ----------
    Cliff, A. D. & Ord, J. K. (1981) *Spatial Processes*, Pion, ch. 1-2; R spdep
    ``joincount.test``; esda 2.9 ``esda.Join_Counts``.
    """
    if not isinstance(permutations, int | np.integer) or permutations < 0:
        raise ValueError(f"join_counts: permutations must be a non-negative integer, got {permutations!r}")
    if missing not in ("drop", "raise"):
        raise ValueError(f"join_counts: missing must be 'drop' or 'raise', got {missing!r}")
    codes, types, w, dropped = _codes(labels, weights, missing)
    b = w.transformed("b")
    k = len(types)
    coo = b.sparse.tocoo()
    rows, cols, data = coo.row, coo.col, coo.data

    def counts(c: np.ndarray) -> np.ndarray:
        return np.bincount(c[rows] * k + c[cols], weights=data, minlength=k * k).reshape(k, k) / 2.0

    table = counts(codes)
    same = np.diag(table).copy()
    total = float(data.sum() / 2.0)
    different = total - same.sum()
    n_eff = b.n - len(b.islands)
    nr = np.bincount(codes, minlength=k).astype(float)
    e, v = _moments(b.s0, b.s1, b.s2, n_eff, nr)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(v > 0, (same - e) / np.sqrt(np.where(v > 0, v, 1.0)), np.nan)
    p_norm = np.where(np.isfinite(z), scipy.stats.norm.sf(z), np.nan)
    mean_sim = np.full(k, np.nan)
    p_sim = np.full(k, np.nan)
    p_diff = np.nan
    if permutations:
        perm = permuter(random_state)
        sims = np.empty((permutations, k))
        for r in range(permutations):  # O(number of joins) per draw
            sims[r] = np.diag(counts(perm(codes)))
        mean_sim = sims.mean(axis=0)
        p_sim = ((sims >= same).sum(axis=0) + 1.0) / (permutations + 1.0)
        sim_diff = total - sims.sum(axis=1)
        p_diff = float(((sim_diff >= different).sum() + 1.0) / (permutations + 1.0))
    frame = pd.DataFrame({"n_towns": nr.astype(np.int64), "joins": same, "expected": e, "variance": v, "z": z,
                          "p_norm": p_norm, "mean_sim": mean_sim, "p_sim": p_sim}, index=types)
    cross = pd.DataFrame(table, index=types.rename("focal"), columns=types.rename("neighbor"))
    return JoinCountsResult(frame, cross, total, float(different), p_diff, int(b.n), int(permutations), w.kind,
                            dropped)
