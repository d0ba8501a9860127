"""The frame of a gravity model of flows between towns: every origin-destination pair (by year),
with zeros for the pairs without a link.

A gravity model of intermunicipal ties, ``E[flow_odt] = exp(b' x_odt + a_ot + c_dt)``, is fitted
by PPML (:mod:`models.ppml`) with origin(-by-year) and destination(-by-year) effects (Santos Silva
and Tenreyro 2006; Yotov, Piermartini, Monteiro and Larch 2016, *An Advanced Guide to Trade
Policy Analysis: The Structural Gravity Model*, WTO, ch. 1). Its sample is the full table of
pairs: pairs without a flow are zeros, not missing values, and leaving them out biases the
estimates (the reason PPML is used at all, Santos Silva and Tenreyro 2006, sec. 4).
:func:`gravity_frame` builds that table from a ``links``-like table; it reads no file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.connectivity import haversine_matrix

__all__ = ["gravity_frame"]


def _universe(links: pd.DataFrame, source: str, target: str, towns: pd.DataFrame | None) -> pd.Index:
    """The towns of the table: those of ``towns`` (its ``town_id`` column, else its index), or
    every town seen as a source or a target (sorted)."""
    if towns is None:
        ids = pd.unique(pd.concat([links[source], links[target]], ignore_index=True))
        return pd.Index(ids).sort_values()
    ids = pd.Index(towns["town_id"] if "town_id" in towns.columns else towns.index)
    if ids.has_duplicates:
        raise ValueError(f"towns: town_id must be unique; repeated: {list(ids[ids.duplicated()].unique()[:5])}")
    return ids


def _codes(values: pd.Series, universe: pd.Index, column: str) -> np.ndarray:
    codes = universe.get_indexer(values)
    if (codes < 0).any():
        missing = pd.unique(values[codes < 0])[:5]
        raise ValueError(f"links: {column} holds towns that are not in the towns table: {list(missing)}")
    return codes.astype(np.int64)


def _check_links(links: pd.DataFrame, source: str, target: str, weight: str, year: str | None) -> None:
    need = [c for c in (source, target, weight) + ((year,) if year else ()) if c not in links.columns]
    if need:
        raise ValueError(f"links: expected columns {need}; found {list(links.columns)}")
    w = pd.to_numeric(links[weight], errors="coerce")
    if w.isna().any() or (w < 0).any() or not np.isfinite(w.to_numpy(dtype=float)).all():
        raise ValueError(f"links: {weight} must be a number >= 0 in every row (a flow); "
                         f"{int((w.isna() | (w < 0)).sum())} rows are missing or negative")
    if year and links[year].isna().any():
        raise ValueError(f"links: {year} is missing in {int(links[year].isna().sum())} rows")
    key = [source, target] + ([year] if year else [])
    dup = links.duplicated(key, keep=False)
    if dup.any():
        first = links.loc[dup, key].iloc[0].tolist()
        raise ValueError(f"links: {int(dup.sum())} rows repeat a pair {tuple(key)} (first {first}); keep one row per "
                         "pair (and year): select one kind of link, or sum the flows of the kinds first")


def gravity_frame(links: pd.DataFrame, towns: pd.DataFrame | None = None, *, source: str = "source_town_id",
                  target: str = "target_town_id", weight: str = "weight", year: str | None = "year",
                  self_pairs: bool = False, max_rows: int = 20_000_000) -> pd.DataFrame:
    """The full origin x destination (x year) table of flows, zeros for the pairs without a link.

    Parameters
    ----------
    links : DataFrame
        One row per directed pair (and year) with a flow: ``source``, ``target``, ``weight``
        (``>= 0``) and, when the column exists, ``year`` (the ``links`` table of the data contract).
    towns : DataFrame, optional
        The towns of the table (its ``town_id`` column, else its index; towns without any link
        get rows of zeros, which PPML then drops as all-zero origins and destinations), and their
        ``lat``/``lon`` (decimal degrees) for the distance. Default: the towns of ``links``, no
        distance.
    year : str or None
        The year column; ``None`` or absent from ``links``: one cross-section. The years are those
        of ``links``; each year holds every pair.
    self_pairs : bool
        Include the flows of a town with itself (``i -> i``); by default they are left out (and a
        link with ``source == target`` is an error).
    max_rows : int
        Refuse tables larger than this (``towns^2 x years`` rows).

    Returns
    -------
    DataFrame
        Sorted by year, origin, destination: ``origin``, ``destination``, ``year`` (panels),
        ``flow`` (float, 0 for the pairs without a link), ``distance_km`` (great-circle, haversine,
        when ``towns`` has ``lat`` and ``lon``), and integer codes ``0..L-1`` for the effects:
        ``origin_code``, ``destination_code``, ``pair_code`` (the directed pair), and in panels
        ``year_code``, ``origin_year_code`` (``origin^year``), ``destination_year_code``.
    """
    year = year if year is not None and year in links.columns else None
    _check_links(links, source, target, weight, year)
    ids = _universe(links, source, target, towns)
    n = len(ids)
    o_link, d_link = _codes(links[source], ids, source), _codes(links[target], ids, target)
    if not self_pairs and (o_link == d_link).any():
        raise ValueError(f"links: {int((o_link == d_link).sum())} links join a town to itself "
                         f"(first {ids[o_link[o_link == d_link][0]]!r}); pass self_pairs=True to keep them")
    years = np.sort(pd.unique(links[year])) if year else np.zeros(1)
    t_link = np.searchsorted(years, links[year].to_numpy()) if year else np.zeros(len(links), np.int64)
    m = n * n if self_pairs else n * (n - 1)
    if m * len(years) > max_rows:
        raise ValueError(f"the gravity table would have {m * len(years):,} rows ({n} towns, {len(years)} years), more "
                         f"than max_rows={max_rows:,}: select towns or years, or raise max_rows")
    o, d = np.divmod(np.arange(n * n), n)
    if not self_pairs:
        o, d = o[o != d], d[o != d]
    pair = o * n + d if self_pairs else o * (n - 1) + d - (d > o)
    pair_link = o_link * n + d_link if self_pairs else o_link * (n - 1) + d_link - (d_link > o_link)
    flow = np.zeros(m * len(years))
    flow[t_link * m + pair_link] = pd.to_numeric(links[weight]).to_numpy(dtype=float)
    t = np.repeat(np.arange(len(years)), m)
    o, d, pair = np.tile(o, len(years)), np.tile(d, len(years)), np.tile(pair, len(years))
    out = {"origin": ids.take(o), "destination": ids.take(d)}
    if year:
        out["year"] = years[t]
    out["flow"] = flow
    if towns is not None and {"lat", "lon"} <= set(towns.columns):
        lat, lon = towns["lat"].to_numpy(dtype=float), towns["lon"].to_numpy(dtype=float)
        if np.isnan(lat).any() or np.isnan(lon).any():
            raise ValueError(f"towns: lat/lon missing for {list(ids[np.isnan(lat) | np.isnan(lon)][:5])}")
        out["distance_km"] = haversine_matrix(lat, lon, lat, lon)[o, d]
    out |= {"origin_code": o, "destination_code": d, "pair_code": pair}
    if year:
        out |= {"year_code": t, "origin_year_code": o * len(years) + t, "destination_year_code": d * len(years) + t}
    return pd.DataFrame(out)
