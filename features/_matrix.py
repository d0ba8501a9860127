"""Shared machinery of the index functions: checking an employment matrix and forming shares.

An employment matrix ``E`` is a DataFrame whose rows are towns (or town-years) and whose
columns are sectors; values are employment counts >= 0, ``NaN`` marks a suppressed
(unpublished) cell. Nothing here treats a suppressed cell as zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MISSING_MODES = ("omit", "raise")


def check_matrix(E, missing: str = "omit", name: str = "E") -> np.ndarray:
    """Return ``E`` as a float array after checking the index-function contract.

    Raises ``TypeError`` for a non-DataFrame, ``ValueError`` for negative or infinite values,
    non-numeric columns, an unknown ``missing`` mode, or suppressed cells under
    ``missing="raise"`` (the message names the first offending rows and sectors).
    """
    if not isinstance(E, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame (rows = towns, columns = sectors), got {type(E).__name__}")
    if missing not in MISSING_MODES:
        raise ValueError(f"missing must be one of {MISSING_MODES}, got {missing!r}")
    bad_cols = [c for c in E.columns if not pd.api.types.is_numeric_dtype(E[c])]
    if bad_cols:
        raise ValueError(f"{name} must hold numbers; non-numeric sector column(s) {bad_cols[:5]}")
    X = E.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(X).any():
        raise ValueError(f"{name} holds infinite values; expected employment counts >= 0")
    neg = X < 0
    if neg.any():
        r, c = np.nonzero(neg)
        where = ", ".join(f"({E.index[i]!r}, {E.columns[j]!r})" for i, j in zip(r[:5], c[:5], strict=True))
        raise ValueError(f"{name} holds negative employment at {where}; expected counts >= 0")
    if missing == "raise":
        nan = np.isnan(X)
        if nan.any():
            r, c = np.nonzero(nan)
            where = ", ".join(f"({E.index[i]!r}, {E.columns[j]!r})" for i, j in zip(r[:5], c[:5], strict=True))
            raise ValueError(
                f"{name} has {int(nan.sum())} suppressed (NaN) cell(s), e.g. at {where}; "
                "use missing='omit' to compute shares over the published sectors"
            )
    return X


def row_shares(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shares of each row over its published cells.

    Returns ``(s, total, valid)``: ``s[r, j] = X[r, j] / total[r]`` (NaN where the cell is
    suppressed or the row has no published employment), ``total`` the published row sum and
    ``valid`` the rows with a positive total.
    """
    total = np.nansum(X, axis=1)
    valid = total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        s = X / np.where(valid, total, np.nan)[:, None]
    return s, total, valid


def coverage(X: np.ndarray) -> np.ndarray:
    """Share of a row's reported cells that are published.

    Reported cells are the positive and the suppressed ones (a zero cell is a sector the town
    does not have). A row with nothing reported gets NaN.
    """
    nan = np.isnan(X)
    reported = nan | (np.nan_to_num(X) > 0)
    n_rep = reported.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_rep > 0, 1.0 - nan.sum(axis=1) / np.where(n_rep > 0, n_rep, 1), np.nan)


def reference_shares(E: pd.DataFrame, X: np.ndarray, reference) -> np.ndarray:
    """Reference shares ``S`` broadcastable against the rows of ``X``.

    ``reference=None``: column totals of ``E`` over its published cells divided by their grand
    total (own town included). A Series indexed by sector gives one reference vector; a
    DataFrame with the same index as ``E`` gives one reference vector per row (for example the
    national shares of each row's year).

    A Series or DataFrame reference is divided by its own total over *all* its sectors, so
    national totals can be passed as well as shares; every column of ``E`` must be in it.
    """
    if reference is None:
        col = np.nansum(X, axis=0)
        grand = col.sum()
        if grand <= 0:
            return np.full(X.shape[1], np.nan)
        return col / grand
    if isinstance(reference, pd.DataFrame):
        missing_rows = E.index.difference(reference.index)
        if len(missing_rows):
            raise ValueError(f"reference DataFrame lacks rows {list(missing_rows[:5])} of E")
        absent = [c for c in E.columns if c not in reference.columns]
        if absent:
            raise ValueError(f"reference lacks sector(s) {absent[:10]} present in E")
        R = reference.loc[E.index].to_numpy(dtype=float, na_value=np.nan)
        tot = np.nansum(R, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            R = R / np.where(tot > 0, tot, np.nan)
        pos = [reference.columns.get_loc(c) for c in E.columns]
        return R[:, pos]
    if isinstance(reference, pd.Series | dict):
        ref = pd.Series(reference, dtype=float)
        if (ref < 0).any():
            raise ValueError("reference shares must be >= 0")
        absent = [c for c in E.columns if c not in ref.index]
        if absent:
            raise ValueError(f"reference lacks sector(s) {absent[:10]} present in E")
        tot = ref.sum()
        if not tot > 0:
            raise ValueError("reference must have a positive total")
        return (ref / tot).reindex(E.columns).to_numpy(dtype=float)
    raise TypeError(f"reference must be None, a Series indexed by sector or a DataFrame; got {type(reference).__name__}")


def xlogy_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a * ln(a / b)`` with ``0 * ln(0 / b) = 0`` (also for ``b = 0``), NaN kept for NaN ``a``;
    ``a > 0`` with ``b = 0`` gives ``inf``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = a * np.log(a / b)
    out = np.where(a == 0, 0.0, out)
    return out


def as_series(values: np.ndarray, E: pd.DataFrame, name: str) -> pd.Series:
    return pd.Series(values, index=E.index, name=name, dtype=float)
