"""Local Moran (LISA) with cluster labels after a false discovery rate correction.

The statistic and its conditional-permutation pseudo p-values are ``esda.Moran_Local`` (esda
2.9) on the weights as they are: this module aligns the values by ``town_id``, passes the
weights as a ``libpysal.graph.Graph`` and a seed, and labels the towns.

* Anselin (1995): ``I_i = (n - 1) z_i sum_j w_ij z_j / sum_k z_k^2`` with ``z`` the values
  minus their mean (esda's scaling; R spdep ``localmoran(..., mlvar=FALSE)`` gives the same
  numbers). Moments under total randomization (``expected``, ``variance``; Sokal, Oden &
  Thomson 1998, eqs. A3-A4) and under conditional randomization (``expected_cond``,
  ``variance_cond``, eqs. A7-A8), ``z = (I_i - expected) / sqrt(variance)``. esda's ``EI``,
  ``VI``, ``EIc``, ``VIc`` are the moments of Anselin's ``n / (n - 1) I_i`` (``m2`` with
  divisor ``n``: spdep's ``mlvar=TRUE`` scaling), not of its own ``Is``; here they are scaled by
  ``(n - 1) / n`` and its square, so that they are the moments of ``Is`` and ``z`` is spdep's
  ``Z.Ii`` (``localmoran(..., mlvar=TRUE)``, ``conditional=FALSE``; ``z_cond`` with
  ``conditional=TRUE``), which is scale-free.
* ``p_sim``: conditional randomization (town ``i``'s value held fixed, its neighbours drawn
  from the other ``n - 1`` values), esda's folded pseudo p-value
  ``(min(larger, R - larger) + 1) / (R + 1)`` (esda 2.9's ``alternative="directed"``, its
  default; without keeping the ``n x R`` simulations, so memory stays linear in ``n``).
* Quadrants of the Moran scatter plot: ``high-high`` (``z_i > 0`` and lag ``> 0``),
  ``low-low``, ``high-low`` (``z_i > 0``, lag ``<= 0``), ``low-high``; esda's ``q`` codes
  1, 3, 4, 2.
* False discovery rate: Benjamini & Hochberg (1995) step-up on ``p_sim``. ``q_value`` is the
  BH-adjusted p-value (``statsmodels.stats.multitest.multipletests(method="fdr_bh")``) and a
  town is significant when ``q_value <= fdr``. esda's ``esda.fdr(p, alpha)`` returns a cut-off
  for the same procedure with two differences: it compares with ``<`` where BH uses ``<=``, and
  when no p-value passes it returns the Bonferroni bound ``alpha / n`` instead of rejecting
  nothing. ``fdr=None`` labels on the uncorrected ``p_sim <= alpha``.
* Islands (towns with no neighbour) are not tested: their ``p_sim``, ``q_value``, ``z`` and
  ``quadrant`` are missing and their cluster is ``"not significant"``; the correction counts
  the other towns only. (esda gives an island ``I_i = 0`` and, every permuted value being 0
  too, the smallest possible ``p_sim = 1 / (R + 1)``.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .autocorrelation import align_values
from .weights import SpatialWeights

__all__ = ["CLUSTERS", "QUADRANTS", "benjamini_hochberg", "local_moran"]

#: esda's quadrant codes and their labels.
QUADRANTS = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
#: The cluster labels, the last one for towns that are not significant.
CLUSTERS = ("high-high", "low-low", "high-low", "low-high", "not significant")


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values: ``q_(i) = min_{j >= i} min(1, n p_(j) / j)``
    over the p-values sorted in increasing order (statsmodels' ``fdr_bh``)."""
    p = np.asarray(p, dtype=float)
    n = len(p)
    if n == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def _z(stat, e, v) -> np.ndarray:
    """``(stat - e) / sqrt(v)``, NaN where the variance is 0 (an island)."""
    ok = v > 0
    return np.where(ok, (stat - e) / np.sqrt(np.where(ok, v, 1.0)), np.nan)


def _esda_seed(random_state) -> int | None:
    """esda's ``seed`` (an int for its legacy generator) from ``random_state``."""
    if random_state is None:
        return None
    if isinstance(random_state, int | np.integer):
        return int(random_state)
    if isinstance(random_state, np.random.SeedSequence):
        return int(random_state.generate_state(1)[0] % (2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    raise TypeError("random_state must be None, an int, a numpy SeedSequence, Generator or RandomState; "
                    f"got {type(random_state).__name__}")


def local_moran(values, weights: SpatialWeights, permutations: int = 999, random_state=None,
                fdr: float | None = 0.05, alpha: float = 0.05, missing: str = "drop") -> pd.DataFrame:
    """Local Moran's I of every town, its pseudo p-value and its cluster label.

    Parameters
    ----------
    values : Series indexed by town_id, or array in the weights' order
    weights : SpatialWeights
        Used as they are (row-standardized by default); subset when towns lack values.
    permutations : int
        Conditional permutations per town (esda's ``crand``; at least 1).
    random_state : None, int, SeedSequence, Generator or RandomState
        An int is esda's ``seed``: the same p-values as ``esda.Moran_Local(..., seed=int)``.
    fdr : float or None
        False discovery rate of the Benjamini-Hochberg correction (see the module); ``None``
        for no correction.
    alpha : float
        Level of the uncorrected labels (``fdr=None``).
    missing : {"drop", "raise"}

    Returns
    -------
    DataFrame indexed by ``town_id`` (the towns used) with ``value``, ``lag`` (of the centred
    values), ``Is``, ``expected``, ``variance``, ``z``, ``expected_cond``, ``variance_cond``,
    ``z_cond``, ``p_sim``, ``q_value``, ``significant``, ``quadrant`` and ``cluster`` (the quadrant of a
    significant town, else ``"not significant"``). ``attrs["dropped"]`` lists the towns left out.

    References
    ----------
    Anselin, L. (1995) "Local indicators of spatial association - LISA", *Geographical
    Analysis* 27(2); Sokal, R. R., Oden, N. L. & Thomson, B. A. (1998) *Geographical Analysis*
    30(4); Benjamini, Y. & Hochberg, Y. (1995) *JRSS B* 57(1); esda 2.9 ``esda.Moran_Local``.
    """
    from esda.moran import Moran_Local

    if not isinstance(permutations, int | np.integer) or permutations < 1:
        raise ValueError(f"local_moran: permutations must be a positive integer, got {permutations!r}")
    for name, level in (("fdr", fdr), ("alpha", alpha)):
        if level is not None and not 0 < level < 1:
            raise ValueError(f"local_moran: {name} must be in (0, 1), got {level!r}")
    y, w, dropped = align_values(values, weights, "local_moran", missing)
    with warnings.catch_warnings():  # esda 2.9 announces a two-sided default for a later release
        warnings.filterwarnings("ignore", "The alternative hypothesis for conditional", DeprecationWarning)
        lm = Moran_Local(y, w.to_libpysal(), transformation="o", permutations=int(permutations),
                         keep_simulations=False, seed=_esda_seed(random_state))
    # esda's crand returns (larger + 1) / (R + 1) in float32: recover the exact ratio in float64
    r1 = float(permutations) + 1.0
    p = np.round(np.asarray(lm.p_sim, dtype=float) * r1) / r1
    island = np.diff(w.sparse.indptr) == 0  # no neighbour, no test: esda would give them 1 / (R + 1)
    p[island] = np.nan
    q = np.full(len(p), np.nan)
    q[~island] = benjamini_hochberg(p[~island])
    sig = (q <= fdr) if fdr is not None else (p <= alpha)
    codes = np.where(island, -1, np.asarray(lm.q) - 1)
    quadrant = pd.Categorical.from_codes(codes, [QUADRANTS[c] for c in (1, 2, 3, 4)])
    cluster = np.where(sig, np.asarray(quadrant.astype(object)), "not significant")
    c = (len(y) - 1) / len(y)  # esda's moments are those of n / (n - 1) Is (see the module)
    e, v, ec, vc = c * lm.EI, c * c * lm.VI, c * lm.EIc, c * c * lm.VIc
    out = pd.DataFrame({
        "value": y, "lag": w.sparse @ (y - y.mean()), "Is": lm.Is, "expected": e, "variance": v,
        "z": _z(lm.Is, e, v), "expected_cond": ec, "variance_cond": vc, "z_cond": _z(lm.Is, ec, vc),
        "p_sim": p, "q_value": q, "significant": sig,
        "quadrant": pd.Categorical(quadrant, categories=CLUSTERS[:4]),
        "cluster": pd.Categorical(cluster, categories=CLUSTERS),
    }, index=w.ids.rename("town_id"))
    out.attrs["dropped"] = list(dropped)
    out.attrs["fdr"] = fdr
    return out
