"""Dynamics of towns: shift-share decompositions and growth rates.

Shift-share (Dunn 1960; Dunn, E. S. "A statistical and analytical technique for regional
analysis", *Papers and Proceedings of the Regional Science Association* 6): the change of a
town's employment between a base year 0 and a year 1 splits into

* ``national_share = e_r0 * g`` with ``g = e_n1 / e_n0 - 1`` the national growth rate,
* ``industry_mix = sum_s e_rs0 (g_s - g)`` with ``g_s = e_ns1 / e_ns0 - 1``,
* ``competitive = sum_s (e_rs1 - e_rs0 (1 + g_s))``,

which sum to ``total_change = e_r1 - e_r0`` exactly. National totals include the town.
Zero-safe: a sector absent nationally in the base year (``e_ns0 = 0``) has no growth rate; its
base employment in the town is 0 too, so it gets ``g_s := 0`` and all its year-1 employment
goes to the competitive component, which keeps the identity. (``REAT::shift`` and
``REAT::shiftd`` give the same three components where all rates are defined.)

Esteban-Marquillas (1972, *Regional and Urban Economics* 2(3)) splits the competitive
component with the homothetic employment ``e*_rs0 = e_r0 e_ns0 / e_n0`` (the town's size with
the national structure): ``competitive = homothetic_competitive + allocation``, with
``homothetic_competitive = sum_s e*_rs0 (g_rs - g_s)`` and
``allocation = sum_s (e_rs0 - e*_rs0)(g_rs - g_s)``, ``g_rs = e_rs1 / e_rs0 - 1``. For a sector
new to the town (``e_rs0 = 0``) ``g_rs`` is undefined: its whole competitive term ``e_rs1`` is
put in ``allocation`` (the town's specialization changed), so the split still adds up.

Suppressed cells: a sector suppressed in the town in either year is left out of both years
(every component and the total change refer to the sectors published in both years).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["annualized_growth", "shift_share"]

_COMPONENTS = ["national_share", "industry_mix", "competitive", "total_change"]
_EM = ["homothetic_competitive", "allocation"]


def _as_2d(x, name: str) -> tuple[np.ndarray, pd.Index | None, pd.Index]:
    if isinstance(x, pd.DataFrame):
        return x.to_numpy(dtype=float, na_value=np.nan), x.index, x.columns
    if isinstance(x, pd.Series):
        return x.to_numpy(dtype=float, na_value=np.nan)[None, :], None, x.index
    raise TypeError(f"{name} must be a Series indexed by sector or a DataFrame (rows = towns, columns = sectors)")


def shift_share(e_r0, e_r1, e_n0, e_n1, method: str = "dunn"):
    """Shift-share decomposition of a town's employment change (Dunn 1960).

    Parameters
    ----------
    e_r0, e_r1 : Series indexed by sector, or DataFrame (rows = towns, columns = sectors)
        The town's employment in the base year and in the final year.
    e_n0, e_n1 : Series indexed by sector, or DataFrame with the same rows as ``e_r0``
        National (reference) employment in the two years, the town included.
    method : {"dunn", "esteban-marquillas"}
        ``"esteban-marquillas"`` adds ``homothetic_competitive`` and ``allocation``.

    Returns
    -------
    Series (for Series input) or DataFrame (one row per town) with ``national_share``,
    ``industry_mix``, ``competitive``, ``total_change`` (and the Esteban-Marquillas split).
    ``national_share + industry_mix + competitive == total_change``.
    """
    if method not in ("dunn", "esteban-marquillas"):
        raise ValueError(f"method must be 'dunn' or 'esteban-marquillas', got {method!r}")
    r0, idx, cols = _as_2d(e_r0, "e_r0")
    r1, idx1, cols1 = _as_2d(e_r1, "e_r1")
    n0, _, ncols0 = _as_2d(e_n0, "e_n0")
    n1, _, ncols1 = _as_2d(e_n1, "e_n1")
    for name, c in (("e_r1", cols1), ("e_n0", ncols0), ("e_n1", ncols1)):
        if not pd.Index(c).equals(pd.Index(cols)):
            raise ValueError(f"{name} must have the same sectors, in the same order, as e_r0")
    if r1.shape != r0.shape:
        raise ValueError("e_r0 and e_r1 must have the same shape")
    for name, a in (("e_r0", r0), ("e_r1", r1), ("e_n0", n0), ("e_n1", n1)):
        if (a < 0).any():
            raise ValueError(f"{name} holds negative employment")
    if np.isnan(n0).any() or np.isnan(n1).any():
        raise ValueError("national employment must not have missing values")
    n0 = np.broadcast_to(n0, r0.shape)
    n1 = np.broadcast_to(n1, r0.shape)
    keep = ~(np.isnan(r0) | np.isnan(r1))
    r0 = np.where(keep, r0, 0.0)
    r1 = np.where(keep, r1, 0.0)
    N0, N1 = n0.sum(axis=1), n1.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(N0 > 0, N1 / np.where(N0 > 0, N0, 1.0) - 1.0, np.nan)
        g_s = np.where(n0 > 0, n1 / np.where(n0 > 0, n0, 1.0) - 1.0, 0.0)
    er0 = r0.sum(axis=1)
    national = er0 * g
    mix = (r0 * (g_s - g[:, None])).sum(axis=1)
    comp_terms = r1 - r0 * (1.0 + g_s)
    competitive = comp_terms.sum(axis=1)
    total = r1.sum(axis=1) - er0
    undefined = np.isnan(g)
    res = {
        "national_share": national,
        "industry_mix": np.where(undefined, np.nan, mix),
        "competitive": np.where(undefined, np.nan, competitive),
        "total_change": total,
    }
    if method == "esteban-marquillas":
        with np.errstate(invalid="ignore", divide="ignore"):
            hom = er0[:, None] * np.where(N0[:, None] > 0, n0 / np.where(N0 > 0, N0, 1.0)[:, None], 0.0)
            g_rs = np.where(r0 > 0, r1 / np.where(r0 > 0, r0, 1.0) - 1.0, 0.0)
        defined = r0 > 0
        hom_terms = np.where(defined, hom * (g_rs - g_s), 0.0)
        res["homothetic_competitive"] = np.where(undefined, np.nan, hom_terms.sum(axis=1))
        res["allocation"] = np.where(undefined, np.nan, (comp_terms - hom_terms).sum(axis=1))
    out = pd.DataFrame(res, index=idx)
    if idx is None:
        return out.iloc[0].rename("shift_share")
    return out


def annualized_growth(x0, x1, years) -> np.ndarray:
    """Annualized log growth in percent per year, ``100 (ln x1 - ln x0) / years``.

    ``NaN`` where either level is missing or not positive, or ``years <= 0``.
    """
    x0 = np.asarray(x0, dtype=float)
    x1 = np.asarray(x1, dtype=float)
    years = np.asarray(years, dtype=float)
    ok = (x0 > 0) & (x1 > 0) & (years > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, 100.0 * (np.log(np.where(ok, x1, 1.0)) - np.log(np.where(ok, x0, 1.0))) / np.where(ok, years, 1.0), np.nan)
