"""From the panel feature table (one row per town and year) to one row per town.

The typology describes each town once; :func:`town_rows` chooses which years describe it.
Towns that cannot be described for the period asked for are never dropped silently: they
are listed in ``result.attrs["left_out"]`` and a :class:`~typology.exceptions.TypologyWarning`
gives their number and the first identifiers.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..exceptions import TypologyWarning

__all__ = ["town_rows"]


def first_ids(ids, n: int = 5) -> str:
    """The first ``n`` identifiers, comma-separated, and how many more there are (for messages)."""
    ids = list(ids)
    more = f" and {len(ids) - n} more" if len(ids) > n else ""
    return ", ".join(map(str, ids[:n])) + more


def _check_panel(features: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise TypeError(f"features must be a DataFrame indexed by (town_id, year), found {type(features).__name__}")
    idx = features.index
    if not isinstance(idx, pd.MultiIndex) or list(idx.names) != ["town_id", "year"]:
        raise ValueError("features must be indexed by (town_id, year), as build_features returns it; "
                         f"found index levels {list(idx.names)}")
    if idx.has_duplicates:
        dup = idx[idx.duplicated()].unique()
        raise ValueError(f"features has {len(dup)} duplicated (town_id, year) rows, e.g. {first_ids(dup)}")
    years = idx.get_level_values("year")
    if not pd.api.types.is_integer_dtype(years):
        raise ValueError(f"the year level of features must hold integers, found dtype {years.dtype}")
    return features


def _sample_ids(sample) -> pd.Index | None:
    if sample is None:
        return None
    if isinstance(sample, pd.Series) and pd.api.types.is_bool_dtype(sample.dtype):
        ids = sample.index[sample.to_numpy(dtype=bool)]
    elif isinstance(sample, (str, bytes)) or not isinstance(sample, Iterable):
        raise TypeError("sample must be an iterable of town_id or a boolean Series indexed by town_id, "
                        f"found {type(sample).__name__}")
    else:
        ids = pd.Index(list(sample))
    ids = pd.Index(ids.astype(str), name="town_id")
    if ids.has_duplicates:
        raise ValueError(f"sample lists {int(ids.duplicated().sum())} town_id more than once, "
                         f"e.g. {first_ids(ids[ids.duplicated()].unique())}")
    return ids


def town_rows(features: pd.DataFrame, period="last", sample=None) -> pd.DataFrame:
    """One row per town from the panel feature table.

    Parameters
    ----------
    features : DataFrame
        Indexed by (``town_id``, ``year``), e.g. ``features.build_features(data)``.
    period : "last", int or (int, int)
        ``"last"``: each town's most recent year in ``features`` (towns may differ in year);
        an integer: that base year for every town; a pair ``(first, last)``: the mean of
        every numeric column over the years ``first..last`` inclusive that the town has
        (``NaN`` cells are skipped), non-numeric columns (``leading_sector``, ``status``)
        from the town's latest year in the window.
    sample : iterable of town_id or boolean Series indexed by town_id, optional
        Towns to describe (default: every town in ``features``), in this order.

    Returns
    -------
    DataFrame
        Indexed by ``town_id``, the columns of ``features``. ``attrs`` records
        ``"period"`` (as asked), ``"years"`` (dict town_id -> the year used for ``"last"`` or
        an int period, the number of years averaged for a pair) and ``"left_out"``
        (tuple of town_id without any row in the period, or listed in ``sample`` but absent
        from ``features``).

    Warns
    -----
    TypologyWarning
        When towns are left out (their number and the first identifiers), and for a pair
        when some towns have fewer years in the window than it spans.
    """
    features = _check_panel(features)
    towns_all = features.index.get_level_values("town_id")
    years_all = features.index.get_level_values("year").to_numpy()
    ids = _sample_ids(sample)
    if ids is not None:
        absent = ids.difference(pd.Index(towns_all.unique()), sort=False)
        keep = np.asarray(towns_all.isin(ids))
        frame = features[keep]
    else:
        absent = pd.Index([], dtype=str)
        frame = features
    towns = frame.index.get_level_values("town_id")
    years = frame.index.get_level_values("year").to_numpy()
    notes = []
    if isinstance(period, str):
        if period != "last":
            raise ValueError(f"period must be 'last', a year or a pair (first, last); found {period!r}")
        order = np.lexsort((years, np.asarray(towns, dtype=str)))
        last = frame.iloc[order].reset_index().groupby("town_id", sort=False).tail(1)
        out = last.set_index("town_id")
        used = out.pop("year").astype("int64")
    elif isinstance(period, (int, np.integer)) and not isinstance(period, bool):
        year = int(period)
        if not (years_all == year).any():
            span = f"{years_all.min()}..{years_all.max()}" if len(years_all) else "none"
            raise ValueError(f"period {year} is not a year of features (years present: {span})")
        out = frame[years == year].droplevel("year")
        used = pd.Series(year, index=out.index, dtype="int64")
    elif isinstance(period, (tuple, list)) and len(period) == 2 and all(
            isinstance(y, (int, np.integer)) and not isinstance(y, bool) for y in period):
        first, lastyr = int(period[0]), int(period[1])
        if first > lastyr:
            raise ValueError(f"period (first, last) must have first <= last, found ({first}, {lastyr})")
        window = frame[(years >= first) & (years <= lastyr)]
        if window.empty:
            raise ValueError(f"no row of features falls in the years {first}..{lastyr} "
                             f"(years present: {years_all.min()}..{years_all.max()})")
        numeric = [c for c in window.columns if pd.api.types.is_numeric_dtype(window[c].dtype)
                   and not pd.api.types.is_bool_dtype(window[c].dtype)]
        other = [c for c in window.columns if c not in numeric]
        g = window.groupby(level="town_id", sort=False)
        out = g[numeric].mean()
        if other:
            wy = window.index.get_level_values("year").to_numpy()
            latest = window.iloc[np.lexsort((wy, np.asarray(window.index.get_level_values("town_id"), dtype=str)))]
            out = out.join(latest[other].groupby(level="town_id", sort=False).tail(1).droplevel("year"))
        out = out[list(window.columns)]
        used = g.size().astype("int64")
        short = used[used < lastyr - first + 1]
        if len(short):
            notes.append(f"{len(short)} towns have fewer than {lastyr - first + 1} years in {first}..{lastyr}; "
                         f"their rows are means over the years present (attrs['years'] counts them), "
                         f"e.g. {first_ids(short.index)}")
    else:
        raise ValueError(f"period must be 'last', a year (int) or a pair (first, last) of years; found {period!r}")

    wanted = ids if ids is not None else pd.Index(pd.unique(np.asarray(towns_all)), name="town_id")
    have = wanted[wanted.isin(out.index)]
    missing = wanted[~wanted.isin(out.index)]
    out = out.loc[have]
    out.index = pd.Index(out.index.astype(str), name="town_id")
    used = used.loc[have]
    used.index = out.index
    left_out = tuple(str(t) for t in missing)
    if left_out:
        of_which = (f" ({len(absent)} of them are not in features at all, e.g. {first_ids(absent)})"
                    if len(absent) else "")
        notes.append(f"{len(left_out)} towns have no row for period {period!r} and are left out "
                     f"(listed in attrs['left_out']), e.g. {first_ids(left_out)}{of_which}")
    for note in notes:
        warnings.warn(note, TypologyWarning, stacklevel=2)
    out.attrs = {"period": period if not isinstance(period, list) else tuple(period),
                 "years": {str(t): int(y) for t, y in used.items()}, "left_out": left_out}
    return out
