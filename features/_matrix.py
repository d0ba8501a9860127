"""Shared machinery of the index functions: checking an employment matrix and forming shares.

An employment matrix ``E`` is a DataFrame whose rows are towns (or town-years) and whose
columns are sectors; values are employment counts >= 0, ``NaN`` marks a suppressed
(unpublished) cell. Nothing here treats a suppressed cell as zero.

Suppressed cells under ``missing="omit"`` are handled as complete cases: a town's shares are
taken over its published sectors, and so are the reference shares it is compared with (the
reference vector restricted to the town's published sectors and rescaled to sum to 1 there).
An index of a town with suppressed cells is therefore exactly the index of the same town
computed on its published columns alone; this is what ``EconGeo::hoover_index`` and
``REAT::hoover`` do with ``complete.cases`` / ``na.rm``. Rows without suppressed cells are
compared with the reference as given.
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
    bad_cols = [c for c in E.columns if not pd.api.types.is_numeric_dtype(E[c]) or pd.api.types.is_bool_dtype(E[c])]
    if bad_cols:
        raise ValueError(f"{name} must hold employment counts; non-numeric sector column(s) {bad_cols[:5]}")
    if E.columns.has_duplicates:
        dup = list(E.columns[E.columns.duplicated()][:5])
        raise ValueError(f"{name} has repeated sector column(s) {dup}; expected one column per sector")
    X = E.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(X).any():
        raise ValueError(f"{name} holds infinite values; expected employment counts >= 0")
    neg = X < 0
    if neg.any():
        r, c = np.nonzero(neg)
        where = ", ".join(f"({E.index[i]!r}, {E.columns[j]!r})" for i, j in zip(r[:5], c[:5], strict=True))
        raise ValueError(f"{name} holds {int(neg.sum())} negative value(s), e.g. at {where}; expected counts >= 0")
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


def thread_map(fn, items, n_jobs: int | None) -> list:
    """``[fn(x) for x in items]`` on ``n_jobs`` threads (None or -1: every core).

    For numpy work that releases the GIL. Each call must only write its own outputs, so the
    results do not depend on ``n_jobs`` or on the order the threads finish in. Every call runs
    under the caller's floating-point error settings (``numpy.errstate`` is per thread: a new
    thread would otherwise start from numpy's defaults and turn an overflow the caller asked
    to raise into a warning).
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    items = list(items)
    if n_jobs is not None and n_jobs == 0:
        raise ValueError("n_jobs must be a positive number of threads, -1 or None (every core)")
    n = (os.cpu_count() or 1) if (n_jobs is None or n_jobs < 0) else int(n_jobs)
    n = max(1, min(n, len(items)))
    if n == 1:
        return [fn(x) for x in items]
    try:  # the threads already use every core: keep BLAS single-threaded meanwhile
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
        limits = threadpool_limits(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - scikit-learn always brings it
        limits = None
    err = np.geterr()

    def call(x):
        with np.errstate(**err):
            return fn(x)

    try:
        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(call, items))
    finally:
        if limits is not None:
            limits.restore_original_limits()


def reference_shares(E: pd.DataFrame, X: np.ndarray, reference) -> np.ndarray:
    """Reference shares ``S`` broadcastable against the rows of ``X`` (before complete-case rescaling).

    ``reference=None``: column totals of ``E`` over its published cells divided by their grand
    total (own town included). A Series (or dict) indexed by sector gives one reference vector;
    a DataFrame with the same index as ``E`` gives one reference vector per row (for example the
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
        if np.isnan(R).any() or (R < 0).any():
            raise ValueError("reference shares must be numbers >= 0 (no missing values)")
        tot = np.nansum(R, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            R = R / np.where(tot > 0, tot, np.nan)
        pos = reference.columns.get_indexer(E.columns)
        return R[:, pos]
    if isinstance(reference, pd.Series | dict):
        ref = pd.Series(reference, dtype=float)
        if (ref < 0).any() or ref.isna().any():
            raise ValueError("reference shares must be numbers >= 0 (no missing values)")
        absent = [c for c in E.columns if c not in ref.index]
        if absent:
            raise ValueError(f"reference lacks sector(s) {absent[:10]} present in E")
        tot = ref.sum()
        if not tot > 0:
            raise ValueError("reference must have a positive total")
        return (ref / tot).reindex(E.columns).to_numpy(dtype=float)
    raise TypeError(f"reference must be None, a Series indexed by sector or a DataFrame; got {type(reference).__name__}")


def complete_case_reference(S: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Reference shares restricted to each row's published sectors and rescaled to sum to 1 there.

    Rows of ``s`` without suppressed cells keep ``S`` unchanged (bit for bit); in a row with
    suppressed cells the reference is NaN at those cells and the rest is divided by its sum
    over the published cells (NaN everywhere if that sum is 0). Returns ``S`` itself (1-D or
    2-D) when no row has a suppressed cell, else a 2-D array shaped like ``s``.
    """
    nan = np.isnan(s)
    holes = nan.any(axis=1)
    # rows with no published employment are NaN everywhere; they need no rescaling
    holes &= ~nan.all(axis=1)
    if not holes.any():
        return S
    S2 = np.array(np.broadcast_to(S, s.shape), dtype=float)
    sub = np.where(nan[holes], np.nan, S2[holes])
    tot = np.nansum(sub, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        S2[holes] = sub / np.where(tot > 0, tot, np.nan)
    return S2


def xlogy_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a * ln(a / b)`` with ``0 * ln(0 / b) = 0`` (also for ``b = 0``), NaN kept for NaN ``a``;
    ``a > 0`` with ``b = 0`` gives ``inf``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = a * np.log(a / b)
    return np.where(a == 0, 0.0, out)


def as_series(values: np.ndarray, E: pd.DataFrame, name: str) -> pd.Series:
    return pd.Series(values, index=E.index, name=name, dtype=float)
