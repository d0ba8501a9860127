"""Several sources combined into one validated contract dataset (``typology import``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features import TownData
from features.rosstat import oktmo8

from ..io import write_dataset
from .crosswalk import carry, combine_crosswalks
from .registry import read_registry_export
from .report import ImportDataError, ImportReport
from .rosstat import read_bdmo_long, read_rosstat_wide
from .sberindex import read_sberindex
from .tables import read_sheet

__all__ = ["build_tables", "import_dataset", "read_towns"]

REPORT = "import_report.md"


def read_towns(path) -> pd.DataFrame:
    """A towns file (.csv or .xlsx, title rows allowed) with ``town_id``, ``name``, ``region``,
    ``lat``, ``lon`` and optional columns; ``town_id`` normalized as OKTMO when it is one."""
    df = read_sheet(path, ["town_id"])[0]
    missing = [c for c in ("town_id", "name", "region", "lat", "lon") if c not in df.columns]
    if missing:
        raise ImportDataError(f"{path}: towns file lacks column(s) {missing}; found {list(df.columns)}")
    ids = df["town_id"].astype("string")
    if ids.str.replace(r"[\s\-.]", "", regex=True).str.fullmatch(r"\d{7,8}|\d{10,11}").fillna(False).all():
        df["town_id"] = oktmo8(ids).to_numpy()
    for c in ("lat", "lon", "population"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c].astype("string").str.replace(",", ".", regex=False), errors="coerce")
    return df


def _years(df: pd.DataFrame | None, year_from, year_to) -> pd.DataFrame | None:
    if df is None or "year" not in df.columns:
        return df
    keep = np.ones(len(df), dtype=bool)
    if year_from is not None:
        keep &= (df["year"] >= year_from).to_numpy()
    if year_to is not None:
        keep &= (df["year"] <= year_to).to_numpy()
    return df[keep].reset_index(drop=True)


def _towns_on_units(towns: pd.DataFrame, cw: pd.DataFrame, rep: ImportReport) -> pd.DataFrame:
    """Towns carried to stable units; several towns of one unit keep the coordinates of the one
    already on the unit's code (else the most populous) and add their populations."""
    t = towns.assign(code=towns["town_id"], town_id=carry(towns[["town_id"]].assign(k=np.arange(len(towns))), cw,
                                                          ["k"], sums=[])["town_id"].to_numpy())
    if "population" not in t.columns:
        t["population"] = np.nan
    t["_own"] = (t["code"] == t["town_id"]).to_numpy()
    t = t.sort_values(["_own", "population"], ascending=False, kind="stable")
    pop = t.groupby("town_id")["population"].sum(min_count=1)
    merged = t[t.duplicated("town_id", keep=False)]
    if len(merged):
        rep.add("crosswalk", "reorganised", f"{merged['town_id'].nunique()} towns of the dictionary merged into "
                f"stable units: {', '.join(sorted(set(merged['town_id'])))[:400]}")
    out = t.drop_duplicates("town_id", keep="first").drop(columns=["_own", "code"])
    out["population"] = out["town_id"].map(pop).to_numpy()
    return out.reset_index(drop=True)


def build_tables(rosstat_wide=None, bdmo_long=None, sberindex=None, spark=None, kontur=None, towns=None,
                 mapping=None, sheet=None, year_from=None, year_to=None,
                 progress=None) -> tuple[dict[str, pd.DataFrame], ImportReport]:
    """The contract tables from the given sources (see :func:`import_dataset`)."""
    tell = progress or (lambda _m: None)
    rep = ImportReport()
    parts: dict[str, pd.DataFrame] = {}
    cws = []
    territories = None
    if rosstat_wide is not None:
        tell(f"reading {rosstat_wide}")
        t, r, cw = read_rosstat_wide(rosstat_wide)
        rep.extend(r)
        cws.append(cw)
        parts["employment"], parts["outcomes_rosstat"], parts["towns_rosstat"] = t["employment"], t["outcomes"], t["towns"]
    if sberindex is not None:
        tell(f"reading {sberindex}")
        t, r, cw = read_sberindex(sberindex)
        rep.extend(r)
        cws.append(cw)
        parts["towns"], territories = t["towns"], t["territories"]
        if t["outcomes"] is not None:
            parts["outcomes_pop"] = t["outcomes"]
    if bdmo_long is not None:
        tell(f"reading {bdmo_long}")
        t, r = read_bdmo_long(bdmo_long, territories=territories)
        rep.extend(r)
        for k, v in t.items():
            parts[f"{k}_bdmo"] = v
    if towns is not None:
        tell(f"reading {towns}")
        parts["towns"] = read_towns(towns)
        rep.add(f"towns {Path(towns).name}", "mapped", f"{len(parts['towns']):,} towns")
    if "towns" not in parts:
        raise ImportDataError("no towns: give --sberindex DIR (the dictionary's centroids) or --towns FILE")
    cw = combine_crosswalks(*cws)
    rep.reorganised = cw
    out = _assemble(parts, cw, rep)
    for source, path in (("spark", spark), ("kontur", kontur)):
        if path is not None:
            tell(f"reading {path}")
            t, r = read_registry_export(path, source=source, mapping=mapping, sheet=sheet,
                                        towns=parts["towns"] if "name" in parts["towns"].columns else None)
            rep.extend(r)
            f = t["firms"].assign(town_id=carry(t["firms"][["town_id"]].assign(k=np.arange(len(t["firms"]))), cw,
                                                ["k"], sums=[])["town_id"].to_numpy())
            out["firms"] = pd.concat([out["firms"], f], ignore_index=True) if "firms" in out else f
            out["groups"] = (pd.concat([out["groups"], t["groups"]]).drop_duplicates("group_id")
                             if "groups" in out else t["groups"])
    out = {k: _years(v, year_from, year_to) for k, v in out.items()}
    return _keep_known(out, rep), rep


def _assemble(parts: dict, cw: pd.DataFrame, rep: ImportReport) -> dict[str, pd.DataFrame]:
    towns = _towns_on_units(parts["towns"], cw, rep)
    out: dict[str, pd.DataFrame] = {"towns": towns}
    emp = parts.get("employment", parts.get("employment_bdmo"))
    if emp is None:
        raise ImportDataError("no employment: give --rosstat-wide FILE or a --bdmo-long FILE with employees by section")
    emp = carry(emp, cw, ["year", "sector"], sums=["employment"])
    wages = parts.get("wages_bdmo")
    if wages is not None and "wage" not in emp.columns:
        wages = carry(wages, cw, ["year", "sector"], sums=[], means={"wage": None})
        emp = emp.merge(wages, on=["town_id", "year", "sector"], how="left")
        rep.add("combined", "mapped", f"БД ПМО wages by section joined to employment "
                f"({int(emp['wage'].notna().sum()):,} of {len(emp):,} rows)")
    out["employment"] = emp
    outc = None
    for k in ("outcomes_rosstat", "outcomes_bdmo", "outcomes_pop"):
        o = parts.get(k)
        if o is None:
            continue
        o = carry(o, cw, ["year"], sums=[c for c in ("population", "employees_total") if c in o.columns],
                  means={c: None for c in ("avg_wage",) if c in o.columns})
        if outc is None:
            outc = o
        else:
            new = [c for c in o.columns if c not in outc.columns or c in ("town_id", "year")]
            outc = outc.merge(o[new], on=["town_id", "year"], how="outer")
    if outc is not None:
        out["outcomes"] = outc.sort_values(["town_id", "year"]).reset_index(drop=True)
    return out


def _keep_known(out: dict[str, pd.DataFrame], rep: ImportReport) -> dict[str, pd.DataFrame]:
    ids = set(out["towns"]["town_id"])
    for name in ("employment", "outcomes", "firms"):
        df = out.get(name)
        if df is None:
            continue
        lost = ~df["town_id"].isin(ids).to_numpy()
        if lost.any():
            codes = sorted(set(df.loc[lost, "town_id"]))
            rep.add("combined", "unmatched", f"{name}: {int(lost.sum()):,} rows of {len(codes)} municipalities "
                    f"without a town (no coordinates in the towns source), dropped: {', '.join(codes)}")
            out[name] = df[~lost].reset_index(drop=True)
    if "groups" in out:
        g = out["groups"]
        g = g[g["hq_town_id"].isin(ids)].reset_index(drop=True)
        if "firms" in out:
            f = out["firms"]
            f.loc[~f["group_id"].isin(set(g["group_id"])), "group_id"] = None
        if len(g):
            out["groups"] = g
        else:  # no firm names a parent company: no groups table (an empty one is not a valid table)
            del out["groups"]
    return out


def import_dataset(out, rosstat_wide=None, bdmo_long=None, sberindex=None, spark=None, kontur=None, towns=None,
                   mapping=None, sheet=None, year_from=None, year_to=None, overwrite: bool = False,
                   progress=None) -> tuple[Path, ImportReport]:
    """Combine sources into one contract dataset written atomically to ``out`` with
    ``import_report.md`` beside the tables.

    Towns and coordinates come from the SberIndex dictionary or a towns file; employment from
    Rosstat (wide extract, or БД ПМО long with employees); wages by section from БД ПМО long;
    firms and groups from the registry exports; outcomes from population and wages. Municipal
    reforms are carried by the combined crosswalk (:mod:`.crosswalk`). Rows of municipalities
    without a town are dropped and listed. The dataset is validated before anything is written
    (``DataValidationError`` otherwise).
    """
    tables, rep = build_tables(rosstat_wide=rosstat_wide, bdmo_long=bdmo_long, sberindex=sberindex, spark=spark,
                               kontur=kontur, towns=towns, mapping=mapping, sheet=sheet, year_from=year_from,
                               year_to=year_to, progress=progress)
    data = TownData.from_tables(source="typology import", **tables)
    rep.counts.update({k: len(v) for k, v in data.tables().items()})
    path = write_dataset(data, out, overwrite=overwrite, progress=progress,
                         files={REPORT: rep.to_markdown() + "\n"})
    return path, rep
