"""The SberIndex municipal tables (data-sense 2025): dictionary, centroids, population,
market access -> ``towns`` and ``outcomes``.

Files of the folder: ``t_dict_municipal_districts.csv`` (or ``.xlsx``; the dictionary, with
re-organisation history), ``1_market_access.parquet``, ``2_bdmo_population.parquet``,
optionally ``4_bdmo_salary.parquet`` (read with :func:`.rosstat.read_bdmo_long`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.rosstat import oktmo8

from .crosswalk import crosswalk_from_dictionary
from .report import ImportDataError, ImportReport

__all__ = ["DICTIONARY", "read_dictionary", "read_sberindex"]

DICTIONARY = "t_dict_municipal_districts"
CURRENT = 9999


def read_dictionary(folder) -> pd.DataFrame:
    """The municipal dictionary of a SberIndex folder (.csv, or .xlsx read as text)."""
    folder = Path(folder)
    csv, xlsx = folder / f"{DICTIONARY}.csv", folder / f"{DICTIONARY}.xlsx"
    if csv.is_file():
        d = pd.read_csv(csv, dtype=str)
    elif xlsx.is_file():
        from .tables import read_sheet

        d = read_sheet(xlsx, ["oktmo", "territory_id"])[0]
    else:
        raise ImportDataError(f"{folder}: no {DICTIONARY}.csv or {DICTIONARY}.xlsx (the SberIndex municipal dictionary)")
    need = ["oktmo", "territory_id", "year_from", "year_to", "region_name", "municipal_district_center_lat",
            "municipal_district_center_lon"]
    missing = [c for c in need if c not in d.columns]
    if missing:
        raise ImportDataError(f"{folder / DICTIONARY}: missing column(s) {missing}")
    for c in ("change_id_from", "change_id_to"):
        if c not in d.columns:
            d[c] = None
    return d


def read_sberindex(folder) -> tuple[dict[str, pd.DataFrame], ImportReport, pd.DataFrame]:
    """``towns`` (current municipalities with the coordinates of their administrative centre,
    ``population`` of the latest year, ``territory_id``, ``sberindex_market_access``),
    ``outcomes`` (``population`` by year), ``territories`` (``territory_id`` -> ``town_id`` for
    every row of the dictionary, older OKTMO versions included) and the dictionary's crosswalk.

    Current territories without coordinates (Moscow's and St Petersburg's inner territories)
    and repeated OKTMO codes are dropped and listed.
    """
    folder = Path(folder)
    src = f"SberIndex {folder.name}"
    rep = ImportReport()
    d = read_dictionary(folder)
    d["town_id"] = oktmo8(d["oktmo"]).to_numpy()
    cur = d[pd.to_numeric(d["year_to"]) == CURRENT].copy()
    lat = pd.to_numeric(cur["municipal_district_center_lat"], errors="coerce")
    lon = pd.to_numeric(cur["municipal_district_center_lon"], errors="coerce")
    no_coord = (lat.isna() | lon.isna()).to_numpy()
    dup = cur["town_id"].duplicated(keep="first").to_numpy()
    name_col = "municipal_district_name_short" if "municipal_district_name_short" in cur.columns else "oktmo"
    if no_coord.any():
        rep.add(src, "dropped", f"{int(no_coord.sum())} current territories without coordinates (no centroid for "
                f"market potential), e.g. {', '.join(cur.loc[no_coord, name_col].astype(str).head(5))}")
    if (dup & ~no_coord).any():
        rep.add(src, "dropped", f"{int((dup & ~no_coord).sum())} repeated OKTMO codes among current territories: "
                f"{sorted(set(cur.loc[dup & ~no_coord, 'town_id']))}")
    keep = ~no_coord & ~dup
    cur, lat, lon = cur[keep], lat[keep], lon[keep]
    towns = pd.DataFrame({
        "town_id": cur["town_id"].to_numpy(),
        "name": cur[name_col].astype(str).to_numpy(),
        "region": cur["region_name"].astype(str).to_numpy(),
        "lat": lat.to_numpy(), "lon": lon.to_numpy(),
        "territory_id": cur["territory_id"].astype(str).to_numpy(),
    })
    if "municipal_district_type" in cur.columns:
        towns["municipal_type"] = cur["municipal_district_type"].astype(str).to_numpy()
    rep.add(src, "mapped", f"{len(towns):,} current municipalities (year_to = {CURRENT}) -> towns with the "
            "coordinates of their administrative centre")
    outcomes = _population(folder, d, rep, src)
    if outcomes is not None:
        last = outcomes.sort_values("year").groupby("town_id")["population"].last()
        towns["population"] = towns["town_id"].map(last).to_numpy()
    ma = folder / "1_market_access.parquet"
    if ma.is_file():
        m = pd.read_parquet(ma)
        mm = pd.Series(m["market_access"].to_numpy(), index=m["territory_id"].astype(str).to_numpy())
        towns["sberindex_market_access"] = towns["territory_id"].map(mm).to_numpy()
        rep.add(src, "mapped", f"1_market_access -> towns.sberindex_market_access "
                f"({int(towns['sberindex_market_access'].notna().sum()):,} towns)")
    cw = crosswalk_from_dictionary(d)
    if len(cw):
        rep.add(src, "reorganised", f"dictionary: {int((cw['kind'] == 'recode').sum())} older OKTMO versions, "
                f"{int((cw['kind'] == 'merge').sum())} merged, {int((cw['kind'] == 'split').sum())} split, "
                f"{int((cw['kind'] == 'transfer').sum())} with transfers")
        rep.reorganised = cw
    territories = d[["territory_id", "town_id"]].assign(
        _to=pd.to_numeric(d["year_to"])).sort_values("_to", kind="stable").drop(columns="_to")
    return {"towns": towns, "outcomes": outcomes, "territories": territories}, rep, cw


def _population(folder: Path, d: pd.DataFrame, rep: ImportReport, src: str) -> pd.DataFrame | None:
    f = folder / "2_bdmo_population.parquet"
    if not f.is_file():
        rep.add(src, "dropped", "no 2_bdmo_population.parquet: towns without population")
        return None
    p = pd.read_parquet(f)
    if "age" in p.columns and (p["age"] == "Всего").any():
        p = p[p["age"] == "Всего"]
        how = "rows age = Всего, summed over sex"
    else:
        how = "summed over age and sex"
    pop = p.groupby(["territory_id", "year"], as_index=False)["value"].sum(min_count=1)
    latest = d.assign(_to=pd.to_numeric(d["year_to"])).sort_values("_to", kind="stable")
    tmap = latest.drop_duplicates("territory_id", keep="last").set_index("territory_id")["town_id"]
    tmap.index = pd.to_numeric(tmap.index).astype("int64")
    town = pop["territory_id"].astype("int64").map(tmap)
    lost = town.isna().to_numpy()
    if lost.any():
        rep.add(src, "unmatched", f"population of {pop.loc[lost, 'territory_id'].nunique()} territory_id(s) absent "
                "from the dictionary, dropped")
    out = pd.DataFrame({"town_id": town[~lost].to_numpy(dtype=object), "year": pop.loc[~lost, "year"].astype("int64"),
                        "population": pop.loc[~lost, "value"].to_numpy(dtype=float)})
    out = out.groupby(["town_id", "year"], as_index=False)["population"].sum(min_count=1)
    rep.add(src, "mapped", f"2_bdmo_population ({how}) -> outcomes.population ({len(out):,} rows)")
    return out.assign(year=out["year"].astype("int64"))
