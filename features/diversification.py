"""Diversification of towns: entropy and its decomposition into related and unrelated variety.

Notation as in :mod:`features.specialization`: ``s_rs`` is town ``r``'s share of sector ``s``
over its published sectors. A hierarchy maps each sector to a group ``g`` (by default the
OKVED-2 / NACE Rev.2 division -> section map); ``P_rg = sum_{s in g} s_rs`` is the town's
share of group ``g``.

* entropy ``H_r = -sum_s s_rs log(s_rs)`` (Shannon 1948; Theil 1972), ``0 log 0 = 0``;
* unrelated variety ``UV_r = -sum_g P_rg log(P_rg)``, the entropy between groups;
* related variety ``RV_r = sum_g P_rg H_rg`` with ``H_rg = -sum_{s in g} (s_rs/P_rg) log(s_rs/P_rg)``,
  the share-weighted entropy within groups (Frenken, Van Oort & Verburg 2007, *Regional
  Studies* 41(5), eq. 3-5).

Since ``RV = -sum_s s log s + sum_g P log P = H - UV`` algebraically, the functions compute
``RV`` as ``H - UV`` and then ``UV`` as ``H - RV``; both subtractions are exact in floating
point, so ``related + unrelated == entropy`` holds to the last bit (where rounding would make
``RV`` -1e-16, ``RV = 0`` and ``UV = H``).

Log base: natural logarithm by default (``base=math.e``, nats), as in Frenken et al.;
``EconGeo::entropy`` uses base 2 (bits): pass ``base=2`` to compare. Changing the base divides
every value by ``ln(base)``.

Towns with no published employment get ``NaN``; suppressed cells are left out of the shares
under ``missing="omit"`` and refused under ``missing="raise"``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ._matrix import as_series, check_matrix, row_shares
from .sectors import hierarchy_from

__all__ = ["entropy", "entropy_rows", "group_matrix", "log_factor", "related_variety", "unrelated_variety",
           "variety_decomposition", "variety_rows"]


def log_factor(base: float) -> float:
    """``ln(base)``, the divisor that turns nats into the unit of ``base``; checks the base."""
    if not (base > 0 and base != 1 and math.isfinite(base)):
        raise ValueError(f"base must be a positive number other than 1, got {base!r}")
    return math.log(base)


def _entropy_of(p: np.ndarray) -> np.ndarray:
    """Row-wise ``-sum p ln p`` ignoring zero and NaN entries."""
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -t.sum(axis=1)


def entropy(E: pd.DataFrame, base: float = math.e, missing: str = "omit") -> pd.Series:
    """Shannon entropy of a town's sector shares.

    ``H_r = -sum_s s_rs log_base(s_rs)`` with ``0 log 0 = 0``: 0 for a one-sector town,
    ``log(k)`` for equal shares in ``k`` sectors. See the module docstring for the base.
    """
    lf = log_factor(base)
    X = check_matrix(E, missing)
    s, _, valid = row_shares(X)
    h = _entropy_of(np.nan_to_num(s)) / lf
    return as_series(np.where(valid, h, np.nan), E, "entropy")


def group_matrix(columns, hierarchy) -> np.ndarray:
    """One-hot sector -> group matrix (k x g) in the order groups first appear."""
    groups = hierarchy_from(columns, hierarchy)
    codes, uniques = pd.factorize(groups.to_numpy())
    G = np.zeros((len(codes), len(uniques)))
    G[np.arange(len(codes)), codes] = 1.0
    return G


def _entropy_nonneg(s0: np.ndarray, lf: float) -> np.ndarray:
    # entropies are >= 0; rounding of shares summing to 1 + 2e-16 can give -2e-16
    return np.maximum(_entropy_of(s0) / lf, 0.0)


def entropy_rows(s: np.ndarray, valid: np.ndarray, lf: float) -> np.ndarray:
    """Entropy of share rows ``s`` (NaN where not ``valid``): the first output of :func:`variety_rows`."""
    return _entropy_nonneg(np.nan_to_num(s), lf) + np.where(valid, 0.0, np.nan)


def variety_rows(s: np.ndarray, valid: np.ndarray, G: np.ndarray, lf: float):
    """Entropy, related and unrelated variety of share rows ``s`` (NaN = left out).

    ``RV = H - UV`` and then ``UV = H - RV``: both subtractions are exact in floating point
    (Sterbenz lemma), so ``RV + UV == H`` holds to the last bit.
    """
    s0 = np.nan_to_num(s)
    h = _entropy_nonneg(s0, lf)
    uv = _entropy_nonneg(s0 @ G, lf)
    rv = h - uv
    # rounding can leave -1e-16 where the town has one sector per group: RV is 0 there, UV = H
    rv = np.where(rv < 0, 0.0, rv)
    uv = h - rv
    nan = np.where(valid, 0.0, np.nan)
    return h + nan, rv + nan, uv + nan


def variety_decomposition(E: pd.DataFrame, hierarchy=None, base: float = math.e, missing: str = "omit") -> pd.DataFrame:
    """Entropy, related and unrelated variety in one pass (columns ``entropy``,
    ``related_variety``, ``unrelated_variety``); see the module docstring.
    ``related_variety + unrelated_variety == entropy`` exactly, row by row."""
    lf = log_factor(base)
    X = check_matrix(E, missing)
    s, _, valid = row_shares(X)
    h, rv, uv = variety_rows(s, valid, group_matrix(E.columns, hierarchy), lf)
    return pd.DataFrame({"entropy": h, "related_variety": rv, "unrelated_variety": uv}, index=E.index)


def related_variety(E: pd.DataFrame, hierarchy=None, base: float = math.e, missing: str = "omit") -> pd.Series:
    """Related variety (Frenken et al. 2007): entropy within sector groups, weighted by group share.

    ``RV_r = sum_g P_rg H_rg``; ``hierarchy`` maps sectors to groups (None or ``"okved"`` =
    OKVED-2 division -> section; a Series, mapping or the contract's ``sectors`` table
    otherwise). On a matrix of section codes every group holds one sector and ``RV = 0``.
    """
    return variety_decomposition(E, hierarchy, base, missing)["related_variety"].rename("related_variety")


def unrelated_variety(E: pd.DataFrame, hierarchy=None, base: float = math.e, missing: str = "omit") -> pd.Series:
    """Unrelated variety (Frenken et al. 2007): entropy of the group shares, ``-sum_g P_rg log P_rg``."""
    return variety_decomposition(E, hierarchy, base, missing)["unrelated_variety"].rename("unrelated_variety")
