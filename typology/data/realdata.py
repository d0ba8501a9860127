"""Real public data on Russian municipalities (``../shared/data``) as a contract dataset.

The sources (each folder of ``shared/data`` has a PROVENANCE.md with its license):

* ``sberindex_mo_2025/t_dict_municipal_districts.csv``: SberIndex municipal reference, the
  current municipalities (``year_to == 9999``) with the coordinates of their administrative
  centres; ``1_market_access.parquet``: SberIndex's own market-access index;
  ``2_bdmo_population.parquet``: Rosstat resident population (rows ``age == "Всего"``, both sexes);
* ``ru_mo_employment_okved_north``: Rosstat employment by OKVED-2 section (A, B, C, D, E, G, O,
  P, Q; empty = not published) and average wage, northern regions, 2023-2024;
* ``ru_mo_official_labels``: Far North, Arctic zone and monotown flags (2024).

:func:`build_russia_north` writes a dataset folder: ``towns`` holds every current municipality
of Russia with coordinates (they are the masses of market potential; Moscow's and St
Petersburg's inner territories have none in the source and are left out, counted), with
extra columns ``territory_id``, ``far_north``, ``arctic``, ``monotown_category`` and
``sberindex_market_access``; ``employment`` and ``outcomes`` (population, average wage) cover
the northern municipalities of the Rosstat extract. This module reads files; the adapters it
uses (:mod:`features.rosstat`) are pure.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from features import TownData
from features.rosstat import employment_from_wide, oktmo8, outcomes_from_wide

from .io import write_dataset

__all__ = ["build_russia_north", "load_sources"]

EMPLOYMENT_FILE = "ru_mo_employment_okved_north/rosstat_bdpmo_employment_okved_north_2023_2024.csv"


def load_sources(shared) -> dict[str, pd.DataFrame]:
    """Read the source tables from ``shared`` (the ``shared/data`` folder)."""
    s = Path(shared)
    missing = [p for p in ("sberindex_mo_2025/t_dict_municipal_districts.csv", "sberindex_mo_2025/1_market_access.parquet",
                           "sberindex_mo_2025/2_bdmo_population.parquet", EMPLOYMENT_FILE,
                           "ru_mo_official_labels/ru_mo_official_labels_2024.csv") if not (s / p).is_file()]
    if missing:
        raise FileNotFoundError(f"{s}: missing source file(s) {missing}")
    ref = pd.read_csv(s / "sberindex_mo_2025/t_dict_municipal_districts.csv", dtype=str)
    pop = pd.read_parquet(s / "sberindex_mo_2025/2_bdmo_population.parquet")
    return {
        "reference": ref,
        "market_access": pd.read_parquet(s / "sberindex_mo_2025/1_market_access.parquet"),
        "population": pop[pop["age"] == "Всего"],
        "employment": pd.read_csv(s / EMPLOYMENT_FILE, dtype={"oktmo": str, "oktmo_stable": str}),
        "labels": pd.read_csv(s / "ru_mo_official_labels/ru_mo_official_labels_2024.csv",
                              dtype={"oktmo8": str, "territory_id": str}),
    }


def build_russia_north(shared, out, overwrite: bool = False) -> tuple[Path, dict]:
    """Write the real-data dataset folder; return its path and a summary of what was kept.

    Municipalities of the Rosstat extract that the current SberIndex reference does not know
    (re-organised in 2024, e.g. the Ukhta okrug) have no coordinates: they are left out and
    listed in the summary, as are the reference's territories without coordinates.
    """
    src = load_sources(shared)
    ref = src["reference"]
    cur = ref[ref["year_to"] == "9999"].copy()
    cur["town_id"] = oktmo8(cur["oktmo"]).to_numpy()
    cur["lat"] = pd.to_numeric(cur["municipal_district_center_lat"])
    cur["lon"] = pd.to_numeric(cur["municipal_district_center_lon"])
    no_coord = cur["lat"].isna() | cur["lon"].isna()
    dup = cur["town_id"].duplicated(keep="first")
    summary: dict = {"reference_current": int(len(cur)), "reference_without_coordinates": int(no_coord.sum()),
                     "reference_duplicate_oktmo": int(dup.sum())}
    cur = cur[~no_coord & ~dup]
    pop = src["population"].groupby(["territory_id", "year"])["value"].sum().unstack("year")
    tid = cur["territory_id"].astype("int64")
    last_pop = pop.reindex(tid.to_numpy())
    population = last_pop[2024].fillna(last_pop[2023]) if 2024 in last_pop.columns else last_pop.iloc[:, -1]
    labels = src["labels"].set_index("territory_id")
    ma = src["market_access"].set_index("territory_id")["market_access"]
    towns = pd.DataFrame({
        "town_id": cur["town_id"].to_numpy(),
        "name": cur["municipal_district_name_short"].fillna(cur["municipal_district_name"]).to_numpy(),
        "region": cur["region_name"].to_numpy(),
        "lat": cur["lat"].to_numpy(), "lon": cur["lon"].to_numpy(),
        "population": population.to_numpy(),
        "kind": "town",
        "territory_id": cur["territory_id"].to_numpy(),
        "municipal_type": cur["municipal_district_type"].to_numpy(),
        "far_north": labels["far_north_or_equated"].reindex(cur["territory_id"]).to_numpy(),
        "arctic": labels["arctic_any"].reindex(cur["territory_id"]).to_numpy(),
        "monotown_category": labels["monotown_min_category"].reindex(cur["territory_id"]).to_numpy(),
        "sberindex_market_access": ma.reindex(tid.to_numpy()).to_numpy(),
    })
    no_pop = towns["population"].isna()
    summary["towns_without_population"] = int(no_pop.sum())
    towns = towns[~no_pop].reset_index(drop=True)
    for c in ("far_north", "arctic"):  # 1/0 as true/false; absent from the labels file = unknown (empty)
        v = towns[c].to_numpy(dtype=float)
        towns[c] = np.where(v == 1, "true", np.where(v == 0, "false", ""))
    wide = src["employment"]
    emp = employment_from_wide(wide)
    ids = set(towns["town_id"])
    unknown = sorted(set(emp["town_id"]) - ids)
    summary["employment_municipalities"] = int(emp["town_id"].nunique())
    summary["employment_left_out_no_coordinates"] = unknown
    emp = emp[emp["town_id"].isin(ids)]
    outc = outcomes_from_wide(wide, {"wage_total": "avg_wage"})
    outc = outc[outc["town_id"].isin(ids)]
    # population of the northern municipalities by year (BDMO), as an outcome
    t2t = dict(zip(towns["town_id"], towns["territory_id"].astype("int64"), strict=True))
    p = pop.stack().rename("population").reset_index()
    outc = outc.assign(_tid=outc["town_id"].map(t2t)).merge(
        p.rename(columns={"territory_id": "_tid"}), on=["_tid", "year"], how="left").drop(columns="_tid")
    data = TownData.from_tables(towns=towns, employment=emp, outcomes=outc,
                                source="shared/data: SberIndex reference + Rosstat BDPMO northern extract")
    summary["towns"] = int(len(data.towns))
    summary["northern_municipalities"] = int(data.employment["town_id"].nunique())
    summary["suppressed_cells"] = int(data.employment["employment"].isna().sum())
    path = write_dataset(data, out, overwrite=overwrite,
                         files={"SOURCES.json": json.dumps(summary, indent=1, ensure_ascii=False) + "\n"})
    return path, summary
