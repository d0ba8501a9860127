"""Relatedness between sectors and the sectors a town could grow into.

Two sectors are related when towns tend to be specialized in both (Hidalgo, Klinger,
Barabasi & Hausmann 2007, "The product space conditions the development of nations",
*Science* 317: 482-487). Steps:

1. revealed comparative advantage (RCA): ``M_rs = 1`` if ``LQ_rs >= 1`` (Balassa; the LQ of
   :func:`features.specialization.location_quotient`), else 0;
2. proximity ``phi_ij = min(P(M_i = 1 | M_j = 1), P(M_j = 1 | M_i = 1))``, the smaller of the
   two conditional probabilities of co-specialization over towns (Hidalgo et al. 2007, eq. 1),
   with ``phi_ii = 0`` (a sector is not its own neighbour, as in ``EconGeo::relatedness``);
3. relatedness density of sector ``s`` in town ``r``:
   ``d_rs = sum_j M_rj phi_js / sum_j phi_js``, the share of the sector's proximity mass that
   the town already covers (Hidalgo et al. 2007; Boschma, Balland & Kogler 2015).
   ``EconGeo::relatedness_density`` reports ``100 d_rs`` rounded to two decimals;
4. promising sectors of a town: sectors where it is not yet specialized (``LQ < 1``) ranked
   by density, the candidates for "substantiating promising specializations".

Suppressed cells: the RCA of a suppressed cell is unknown (``NaN``). Co-specialization
frequencies are counted over the towns where both cells are known, and a town's density over
the sectors whose RCA it knows; a suppressed sector is never proposed as promising (whether
the town is already specialized in it is unknown).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._matrix import check_matrix
from .specialization import location_quotient

__all__ = ["promising_sectors", "proximity", "rca", "relatedness_density"]


def rca(E: pd.DataFrame, threshold: float = 1.0, reference=None, missing: str = "omit") -> pd.DataFrame:
    """Binary revealed comparative advantage: 1.0 where ``LQ_rs >= threshold``, 0.0 where the
    town has the sector below the threshold or not at all, ``NaN`` where the cell is
    suppressed, the town has no published employment, or the LQ is undefined for a town
    that has the sector (zero reference share under an external reference)."""
    X = check_matrix(E, missing)
    lq = location_quotient(E, reference=reference, missing=missing).to_numpy()
    return pd.DataFrame(_rca_from(X, lq, threshold), index=E.index, columns=E.columns)


def _rca_from(X: np.ndarray, lq: np.ndarray, threshold: float) -> np.ndarray:
    """The incidence matrix of :func:`rca` from the employment values and their LQs."""
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}")
    total = np.nansum(X, axis=1)
    M = np.where(lq >= threshold, 1.0, 0.0)
    M = np.where(np.isnan(lq), np.nan, M)
    return np.where((X == 0) & (total > 0)[:, None], 0.0, M)  # no employment: certainly no advantage


def _incidence(M: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(M, pd.DataFrame):
        raise TypeError(f"M must be a DataFrame (rows = towns, columns = sectors), got {type(M).__name__}")
    A = M.to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(A)
    vals = A[known]
    if not np.isin(vals, (0.0, 1.0)).all():
        raise ValueError("M must be an incidence matrix of 0, 1 (and NaN for unknown); compute it with rca(E)")
    return np.where(known, A, 0.0), known.astype(float)


def proximity(M: pd.DataFrame) -> pd.DataFrame:
    """Proximity between sectors from co-specialization (Hidalgo et al. 2007).

    ``phi_ij = min(C_ij / N_j(i), C_ij / N_i(j))`` with ``C_ij`` the number of towns
    specialized in both, ``N_j(i)`` the number of towns specialized in ``j`` whose cell ``i``
    is known (without suppressed cells: the ubiquity of ``j``). Symmetric, in [0, 1], zero on
    the diagonal and for sectors no town is specialized in.

    Parameters
    ----------
    M : DataFrame
        Incidence matrix from :func:`rca` (1, 0, ``NaN`` = unknown), rows = towns.

    Returns
    -------
    DataFrame, sectors x sectors.
    """
    A, K = _incidence(M)
    C = A.T @ A  # co-specialized towns
    N = K.T @ A  # N[i, j]: towns specialized in j whose cell i is known
    with np.errstate(invalid="ignore", divide="ignore"):
        p_i_given_j = np.where(N > 0, C / np.where(N > 0, N, 1.0), 0.0)
    phi = np.minimum(p_i_given_j, p_i_given_j.T)
    np.fill_diagonal(phi, 0.0)
    return pd.DataFrame(phi, index=M.columns, columns=M.columns)


def relatedness_density(M: pd.DataFrame, phi: pd.DataFrame | None = None) -> pd.DataFrame:
    """Relatedness density of every town and sector, in [0, 1].

    ``d_rs = sum_j M_rj phi_js / sum_j phi_js`` over the sectors ``j`` whose RCA the town
    knows (all of them without suppressed cells); ``NaN`` where the sector has no related
    sector (``sum_j phi_js = 0``) or the town knows none of them. ``phi`` defaults to
    :func:`proximity` of ``M``; pass a proximity learned on another panel (a reference year,
    the whole country) to score towns against it. ``100 d_rs`` is
    ``EconGeo::relatedness_density`` before its rounding.
    """
    A, K = _incidence(M)
    if phi is None:
        phi = proximity(M)
    if not (phi.index.equals(M.columns) and phi.columns.equals(M.columns)):
        missing_s = [c for c in M.columns if c not in phi.index or c not in phi.columns]
        if missing_s:
            raise ValueError(f"phi lacks sector(s) {missing_s[:10]} of M")
        phi = phi.loc[M.columns, M.columns]
    P = phi.to_numpy(dtype=float)
    num = A @ P
    den = K @ P
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    rows_known = K.any(axis=1)
    d = np.where(rows_known[:, None], d, np.nan)
    return pd.DataFrame(d, index=M.index, columns=M.columns)


def promising_sectors(E: pd.DataFrame, n: int = 5, threshold: float = 1.0, reference=None,
                      phi: pd.DataFrame | None = None, min_density: float = 0.0,
                      missing: str = "omit") -> pd.DataFrame:
    """Per town, the sectors it is not yet specialized in that are most related to its economy.

    Candidates are the published sectors with ``LQ < threshold`` (including sectors the town
    does not have); they are ranked by relatedness density (ties: the larger LQ, then the
    column order) and the first ``n`` with ``density >= min_density`` are kept.

    Parameters
    ----------
    E : DataFrame
        Employment, rows = towns, columns = sectors, ``NaN`` = suppressed.
    n : int
        Sectors per town (at most).
    phi : DataFrame, optional
        Sector proximity; default :func:`proximity` of the towns of ``E``.

    Returns
    -------
    DataFrame with one row per town and rank: the index levels of ``E`` plus ``rank``
    (1 = most promising) as index; columns ``sector``, ``density``, ``lq``. Towns without
    published employment or without candidates have no rows.
    """
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be a positive integer, got {n!r}")
    X = check_matrix(E, missing)
    lq = location_quotient(E, reference=reference, missing=missing).to_numpy()
    M = _rca_from(X, lq, threshold)
    D = relatedness_density(pd.DataFrame(M, index=E.index, columns=E.columns), phi).to_numpy()
    cand = (M == 0.0) & ~np.isnan(X) & ~np.isnan(D) & (D >= min_density)
    key_d = np.where(cand, D, -np.inf)
    key_lq = np.where(cand, np.nan_to_num(lq, nan=0.0), -np.inf)
    k = X.shape[1]
    # lexicographic descending sort by (density, lq), then column order: argsort is stable
    order = np.argsort(-key_lq, axis=1, kind="stable")
    order = np.take_along_axis(order, np.argsort(-np.take_along_axis(key_d, order, axis=1), axis=1,
                                                 kind="stable"), axis=1)
    top = order[:, : min(n, k)]
    ok = np.take_along_axis(cand, top, axis=1)
    r, j = np.nonzero(ok)
    cols = top[r, j]
    names = [nm if nm is not None else ("town" if E.index.nlevels == 1 else f"level_{i}")
             for i, nm in enumerate(E.index.names)]
    idx_frame = pd.DataFrame({nm: E.index.get_level_values(i)[r] for i, nm in enumerate(names)})
    idx_frame["rank"] = j + 1
    out = pd.DataFrame({"sector": np.asarray(E.columns, dtype=object)[cols], "density": D[r, cols], "lq": lq[r, cols]})
    out.index = pd.MultiIndex.from_frame(idx_frame)
    out["sector"] = out["sector"].astype("str")
    return out
