"""Specialization indices of towns: how a town's sector mix departs from a reference.

Notation (DESIGN.md section 4): ``E`` is an employment matrix (rows = towns or town-years,
columns = sectors, ``NaN`` = suppressed), ``s_rs = E_rs / e_r`` the town's share of sector
``s`` over its published sectors and ``S_s`` the reference share of sector ``s`` (default: the
column totals of ``E`` over the grand total, own town included; ``reference=`` overrides it
with a Series of national shares or totals, or a DataFrame with one reference row per row of
``E``). ``k`` is the number of columns of ``E``, sectors with no employment anywhere included.

Conventions shared by every function here:

* a town whose published employment is zero (or all suppressed) gets ``NaN``, never 0;
* ``missing="omit"`` (default) treats suppressed cells as complete cases: the town's shares
  are taken over its published sectors and the reference is restricted to the same sectors
  and rescaled to sum to 1 there, so the index equals the index of the published columns
  alone (see :mod:`features._matrix`); ``missing="raise"`` refuses a matrix with ``NaN``;
* in sums of terms that vanish with the share (``s ln(s/S)``, ``s^2/S``, ``s^2``) a sector
  with ``s_rs = 0`` contributes 0, also where ``S_s = 0``; a sector with ``s_rs > 0`` and
  ``S_s = 0`` (possible only with an external reference) makes the index undefined: ``NaN``;
* every index is invariant to scaling a town's employment (shares only).

References: Isard, W. (1960) *Methods of Regional Analysis*, ch. 7 (location quotient);
Krugman, P. (1991) *Geography and Trade*, MIT Press, app. D (dissimilarity index);
Hachman, F. (1995) "Economic report to the Governor", Utah (Hachman index), see also
Wagner, J. E. & Deller, S. C. (1998) *Land Economics* 74(4); Theil, H. (1967) *Economics and
Information Theory*; Tress, R. C. (1938) "Unemployment and the diversification of industry",
*The Manchester School* 9(2) (ogive); Rhoades, S. A. (1993) "The Herfindahl-Hirschman
index", *Federal Reserve Bulletin* 79. R equivalents: ``EconGeo::location_quotient``,
``EconGeo::krugman_index``, ``REAT::krugman.spec``, ``REAT::herf``, ``REAT::hachman``,
``REAT::theil``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._matrix import (
    as_series,
    check_matrix,
    complete_case_reference,
    reference_shares,
    row_shares,
    xlogy_ratio,
)

__all__ = [
    "hachman",
    "hachman_rows",
    "hhi",
    "hhi_rows",
    "krugman",
    "krugman_rows",
    "leading_rows",
    "leading_sector",
    "location_quotient",
    "lq_rows",
    "normalize_hhi",
    "ogive",
    "ogive_rows",
    "theil_rows",
    "theil_specialization",
]


# ------------------------------------------------------------------------------- kernels
# Array kernels on shares ``s`` (rows of town shares over the published sectors, NaN =
# suppressed or invalid row, from ``features._matrix.row_shares``), row validity ``valid`` and
# complete-case reference shares ``S`` (1-D or 2-D, see ``complete_case_reference``). The
# public functions below and the feature groups (``features.groups``) call the same kernels,
# so that a column of the feature table and the public function share one formula.

def lq_rows(s: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Location quotients ``s_rs / S_s``; NaN where ``S_s = 0``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(S > 0, s / np.where(S > 0, S, 1.0), np.nan)


def krugman_rows(s: np.ndarray, S: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Krugman dissimilarity ``sum_s |s_rs - S_s|`` of each row (suppressed cells left out)."""
    terms = np.abs(s - S)  # NaN for suppressed cells: left out
    values = np.nansum(terms, axis=1)
    defined = valid & ~np.all(np.isnan(terms), axis=1)
    return np.where(defined, values, np.nan)


def hhi_rows(s: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Herfindahl-Hirschman index ``sum_s s_rs^2`` of each row."""
    return np.where(valid, np.nansum(s * s, axis=1), np.nan)


def normalize_hhi(h: np.ndarray, k: int) -> np.ndarray:
    """Normalized HHI ``(H - 1/k) / (1 - 1/k)``; NaN for ``k <= 1``."""
    if k <= 1:
        return np.full_like(h, np.nan)
    return (h - 1.0 / k) / (1.0 - 1.0 / k)


def theil_rows(s: np.ndarray, S: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Theil specialization ``sum_s s_rs ln(s_rs / S_s)`` of each row; NaN where ``s > 0 = S``."""
    terms = xlogy_ratio(s, S)
    inf = np.isinf(terms)
    undefined = inf.any(axis=1) | (valid & np.all(np.isnan(np.broadcast_to(S, s.shape)), axis=1))
    values = np.nansum(np.where(inf, 0.0, terms), axis=1)
    return np.where(valid & ~undefined, values, np.nan)


def hachman_rows(s: np.ndarray, S: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Hachman index ``1 / sum_s s_rs^2 / S_s`` of each row; NaN where ``s > 0 = S``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(s == 0, 0.0, s * s / S)
    inf = np.isinf(terms)
    denom = np.nansum(np.where(inf, 0.0, terms), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = 1.0 / denom
    return np.where(valid & ~inf.any(axis=1) & (denom > 0), values, np.nan)


def ogive_rows(s: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """Ogive index ``sum_s (s_rs - 1/k)^2 / (1/k)`` of each row."""
    return np.where(valid, np.nansum((s - 1.0 / k) ** 2 * k, axis=1), np.nan)


def leading_rows(s: np.ndarray, L: np.ndarray, valid: np.ndarray):
    """Leading sector by LQ (ties: larger share, then first column) and the number of
    published sectors with ``LQ >= 1``."""
    finite = np.isfinite(L)
    has = valid & finite.any(axis=1)
    Lf = np.where(finite, L, -np.inf)
    top = Lf.max(axis=1, initial=-np.inf)
    sf = np.where((Lf == top[:, None]) & np.isfinite(s), s, -np.inf)
    best = np.argmax(sf, axis=1)
    rows = np.arange(len(best))
    lq_max = np.where(has, L[rows, best], np.nan)
    share = np.where(has, s[rows, best], np.nan)
    n_spec = np.where(has, (np.where(finite, L, -1.0) >= 1.0).sum(axis=1), np.nan)
    return best, has, lq_max, share, n_spec


def _prepare(E, reference, missing):
    X = check_matrix(E, missing)
    s, total, valid = row_shares(X)
    S = complete_case_reference(reference_shares(E, X, reference), s)
    return X, s, valid, S


# ------------------------------------------------------------------------------- public


def location_quotient(E: pd.DataFrame, reference=None, missing: str = "omit") -> pd.DataFrame:
    """Location quotient of every town and sector.

    ``LQ_rs = s_rs / S_s`` (Isard 1960). ``LQ > 1``: the town is specialized in sector ``s``
    relative to the reference. A sector with zero reference share gets ``NaN`` (0/0 or x/0 is
    not a quotient), a suppressed cell gets ``NaN`` and a town with no published employment
    gets ``NaN`` in every sector. Same as ``EconGeo::location_quotient`` (default reference,
    no suppressed cells).

    Parameters
    ----------
    E : DataFrame
        Employment, rows = towns (or town-years), columns = sectors, ``NaN`` = suppressed.
    reference : None, Series or DataFrame
        Reference shares or totals (see the module docstring).
    missing : {"omit", "raise"}

    Returns
    -------
    DataFrame
        Same shape and labels as ``E``. With the default reference the LQs of a sector
        average to 1 over towns weighted by their employment, ``sum_r (e_r / E..) LQ_rs = 1``;
        for every town ``sum_s S_s LQ_rs = 1``.
    """
    _, s, valid, S = _prepare(E, reference, missing)
    lq = np.where(valid[:, None], lq_rows(s, S), np.nan)
    return pd.DataFrame(lq, index=E.index, columns=E.columns)


def krugman(E: pd.DataFrame, reference=None, against: str = "total", missing: str = "omit") -> pd.Series:
    """Krugman dissimilarity (specialization) index.

    ``K_r = sum_s |s_rs - S_s|`` (Krugman 1991), between 0 (same structure as the reference)
    and 2. Every sector counts, including those where the town has no employment
    (``|0 - S_s| = S_s``).

    ``against="total"`` compares with the reference shares (default: column totals, own town
    included). ``against="rest"`` compares with the rest of the towns,
    ``S^(-r)_s = (e_s - E_rs) / (E.. - e_r)``, as in ``REAT::krugman.spec`` and
    Midelfart-Knarvik et al. (2000); it cannot be combined with ``reference``. A town that is
    the whole economy has no rest: ``NaN``.
    """
    if against not in ("total", "rest"):
        raise ValueError(f"against must be 'total' or 'rest', got {against!r}")
    if against == "rest":
        if reference is not None:
            raise ValueError("against='rest' builds its own reference from the other towns; do not pass reference")
        X = check_matrix(E, missing)
        s, total, valid = row_shares(X)
        X0 = np.nan_to_num(X)
        col = X0.sum(axis=0)
        rest_total = col.sum() - total
        with np.errstate(invalid="ignore", divide="ignore"):
            S = (col[None, :] - X0) / np.where(rest_total > 0, rest_total, np.nan)[:, None]
        S = complete_case_reference(S, s)
    else:
        _, s, valid, S = _prepare(E, reference, missing)
    return as_series(krugman_rows(s, S, valid), E, "krugman")


def hhi(E: pd.DataFrame, normalized: bool = False, missing: str = "omit") -> pd.Series:
    """Herfindahl-Hirschman index of a town's sector shares.

    ``H_r = sum_s s_rs^2`` (Rhoades 1993), between ``1/k`` and 1. With ``normalized=True``:
    ``(H - 1/k) / (1 - 1/k)``, between 0 and 1, where ``k`` is the number of columns of ``E``
    (sectors without employment anywhere included); undefined (``NaN``) for ``k = 1``.
    Same as ``REAT::herf`` (``coefnorm=TRUE`` for the normalized index, its ``n`` being the
    length of the vector, i.e. every column).
    """
    X = check_matrix(E, missing)
    s, _, valid = row_shares(X)
    h = hhi_rows(s, valid)
    if normalized:
        h = normalize_hhi(h, X.shape[1])
    return as_series(h, E, "hhi_norm" if normalized else "hhi")


def theil_specialization(E: pd.DataFrame, reference=None, missing: str = "omit") -> pd.Series:
    """Theil specialization index (relative entropy of the town's structure).

    ``T_r = sum_s s_rs ln(s_rs / S_s)`` (Theil 1967), natural logarithm, >= 0 and 0 only when
    the town has the reference structure. ``0 ln 0 = 0``; ``s_rs > 0`` with ``S_s = 0`` gives
    ``NaN``.
    """
    _, s, valid, S = _prepare(E, reference, missing)
    return as_series(theil_rows(s, S, valid), E, "theil")


def hachman(E: pd.DataFrame, reference=None, missing: str = "omit") -> pd.Series:
    """Hachman index of economic diversity.

    ``HI_r = 1 / sum_s (s_rs^2 / S_s)`` (Hachman 1995; Wagner & Deller 1998): 1 when the town
    has the reference structure, towards 0 as it specializes. Equivalently the inverse of the
    share-weighted mean location quotient, ``1 / sum_s s_rs LQ_rs``. ``s_rs = 0`` terms are 0;
    ``s_rs > 0`` with ``S_s = 0`` gives ``NaN``.
    """
    _, s, valid, S = _prepare(E, reference, missing)
    return as_series(hachman_rows(s, S, valid), E, "hachman")


def ogive(E: pd.DataFrame, missing: str = "omit") -> pd.Series:
    """Ogive index: departure from an equal distribution over the ``k`` sectors.

    ``OG_r = sum_s (s_rs - 1/k)^2 / (1/k)`` (Tress 1938), 0 for equal shares in all ``k``
    columns of ``E``, ``k - 1`` for a single-sector town. Every column counts (a sector with
    ``s_rs = 0`` contributes ``1/k``); suppressed sectors are left out under ``missing="omit"``.
    """
    X = check_matrix(E, missing)
    s, _, valid = row_shares(X)
    return as_series(ogive_rows(s, valid, X.shape[1]), E, "ogive")


def leading_sector(E: pd.DataFrame, reference=None, missing: str = "omit") -> pd.DataFrame:
    """The sector in which each town is most specialized, with its LQ and share.

    The leading sector is ``argmax_s LQ_rs`` over the published sectors (ties: the larger
    share, then the first column). Returns a DataFrame with ``leading_sector`` (object),
    ``lq_max`` (its LQ, the maximum LQ of the town), ``leading_share`` (its ``s_rs``) and
    ``n_specialized`` (number of published sectors with ``LQ >= 1``). Towns with no published
    employment get missing values (``n_specialized`` too).
    """
    _, s, valid, S = _prepare(E, reference, missing)
    L = np.where(valid[:, None], lq_rows(s, S), np.nan)
    best, has, lq_max, share, n_spec = leading_rows(s, L, valid)
    cols = np.asarray(E.columns, dtype=object)
    return pd.DataFrame(
        {
            "leading_sector": pd.Series(np.where(has, cols[best], None), index=E.index, dtype="object"),
            "lq_max": lq_max,
            "leading_share": share,
            "n_specialized": n_spec,
        },
        index=E.index,
    )
