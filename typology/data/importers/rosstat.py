"""Rosstat's municipal database (БД ПМО): the tochno.st wide extract and the long format.

:func:`read_rosstat_wide` reads the wide extract (one row per municipality and year, columns
``oktmo``, ``oktmo_stable``, ``year``, ``region_name``, ``municipality``, ``wage_total``,
``emp_total``, ``emp_A`` ...); :func:`read_bdmo_long` reads the long format (one value per
indicator, territory, year, period and OKVED code) as published by tochno.st and repackaged by
SberIndex (``4_bdmo_salary.parquet``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.rosstat import employment_from_wide, oktmo8, outcomes_from_wide
from features.sectors import OKVED_SECTIONS

from .crosswalk import carry, crosswalk_from_stable
from .report import ImportDataError, ImportReport

__all__ = ["INDICATORS", "read_bdmo_long", "read_rosstat_wide"]

#: БД ПМО indicators (tochno.st codes and words of their Russian names) -> what they become.
INDICATORS = {"Y48423005": "employment", "Y48423007": "wage", "Y48112027": "population"}
_NAME_WORDS = (("заработн", "wage"), ("работник", "employment"), ("населени", "population"))
ANNUAL_PERIODS = ("январь-декабрь", "год", "за год", "year", "annual")
TOTAL_CODES = {"0", "всего", "итого", "все отрасли", "total", ""}


def _read_any(path: Path, dtype=None) -> pd.DataFrame:
    if not path.is_file():
        raise ImportDataError(f"{path}: no such file")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    from .tables import read_sheet

    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        return read_sheet(path, ["oktmo", "year", "territory_id", "ОКТМО"])[0]
    return pd.read_csv(path, dtype=dtype or str, encoding_errors="strict")


def read_rosstat_wide(path, prefix: str = "emp_", residual: str | None = None,
                      stable: bool = True) -> tuple[dict[str, pd.DataFrame], ImportReport, pd.DataFrame]:
    """The tochno.st wide extract as contract tables.

    Aggregate rows (``oktmo_stable == "CD"``: sums of a region's districts, intra-city
    territories) are dropped and listed; suppressed (empty) section cells stay NaN; ``pop_total``
    is ignored (empty in 2023 and wrong in 2024 in the source; take population from БД ПМО).
    With ``stable`` (default), codes are carried to ``oktmo_stable`` (municipal reforms; see
    :mod:`.crosswalk`): employment of merged units is summed, wages averaged with ``emp_total``
    as weights.

    Returns ``({"employment", "outcomes", "towns"}, report, crosswalk)``; ``towns`` is a skeleton
    (``town_id``, ``name``, ``region``) without coordinates.
    """
    path = Path(path)
    src = f"Rosstat wide extract {path.name}"
    rep = ImportReport()
    w = _read_any(path, dtype={"oktmo": str, "oktmo_stable": str})
    missing = [c for c in ("oktmo", "year", "municipality", "region_name") if c not in w.columns]
    if missing:
        raise ImportDataError(f"{path}: missing column(s) {missing}; found {list(w.columns)[:20]}")
    has_stable = "oktmo_stable" in w.columns
    if has_stable:
        cd = w["oktmo_stable"].astype("string").str.upper().eq("CD").fillna(False).to_numpy()
        if cd.any():
            codes = sorted(set(w.loc[cd, "oktmo"]))
            rep.add(src, "dropped", f"{int(cd.sum())} aggregate / intra-city rows (oktmo_stable = CD; they would "
                    f"double-count): {len(codes)} codes {', '.join(codes)}")
        w = w[~cd].reset_index(drop=True)
    if "pop_total" in w.columns:
        rep.add(src, "dropped", "column pop_total ignored (empty in 2023, wrong in 2024 in the source); population "
                "comes from БД ПМО (SberIndex 2_bdmo_population)")
    try:
        emp = employment_from_wide(w, prefix=prefix, residual=residual)
        outc = outcomes_from_wide(w, {c: d for c, d in (("wage_total", "avg_wage"), ("emp_total", "employees_total"))
                                      if c in w.columns})
    except ValueError as exc:
        raise ImportDataError(f"{path}: {exc}") from None
    secs = sorted(emp["sector"].unique())
    rep.add(src, "mapped", f"{len(w):,} rows, {w['oktmo'].nunique():,} OKTMO codes, years "
            f"{sorted(pd.to_numeric(w['year']).unique().tolist())}; sections {', '.join(secs)} -> employment; "
            "wage_total -> outcomes.avg_wage; emp_total -> outcomes.employees_total")
    sup = emp.groupby("sector")["employment"].apply(lambda s: int(s.isna().sum()))
    rep.add(src, "suppressed", f"{int(sup.sum()):,} of {len(emp):,} section cells empty (not published), kept as "
            "suppressed: " + ", ".join(f"{k} {v:,}" for k, v in sup.items()))
    towns = pd.DataFrame({"town_id": oktmo8(w["oktmo"]).to_numpy(), "name": w["municipality"].astype(str).to_numpy(),
                          "region": w["region_name"].astype(str).to_numpy(),
                          "year": pd.to_numeric(w["year"]).to_numpy()})
    cw = crosswalk_from_stable(w) if has_stable and stable else pd.DataFrame(columns=["code", "unit", "kind",
                                                                                         "source", "name"])
    if len(cw):
        emp = carry(emp, cw, ["year", "sector"], sums=["employment"])
        outc = carry(outc, cw, ["year"], sums=["employees_total"], means={"avg_wage": "employees_total"})
        towns = towns.assign(town_id=carry(towns[["town_id"]].assign(k=np.arange(len(towns))), cw, ["k"],
                                           sums=[])["town_id"].to_numpy())
        rep.add(src, "reorganised", f"{len(cw)} OKTMO codes carried to their oktmo_stable unit "
                f"({int((cw['kind'] == 'merge').sum())} in merges, summed; wages weighted by emp_total)")
        rep.reorganised = cw
    towns = towns.sort_values("year", kind="stable").groupby("town_id", as_index=False).last().drop(columns="year")
    return {"employment": emp, "outcomes": outc, "towns": towns}, rep, cw


def _indicator_kind(ind: pd.Series) -> pd.Series:
    t = ind.astype("string").str.strip()
    kind = t.map(INDICATORS)
    low = t.str.lower()
    for word, k in _NAME_WORDS:
        kind = kind.fillna(pd.Series(np.where(low.str.contains(word, regex=False).fillna(False), k, None),
                                     index=t.index, dtype="object"))
    return kind


def _pick(df: pd.DataFrame, names, what: str, path) -> str | None:
    for n in names:
        if n in df.columns:
            return n
    if what:
        raise ImportDataError(f"{path}: no {what} column (one of {list(names)}); found {list(df.columns)}")
    return None


def read_bdmo_long(path, period: str | None = None, indicator: str | None = None,
                   territories: pd.DataFrame | None = None) -> tuple[dict[str, pd.DataFrame], ImportReport]:
    """БД ПМО long format (indicator, territory, year, period, OKVED code, value) as contract
    tables: ``employment`` (employees by section, with ``wage`` when both are present),
    ``wages`` (``town_id``, ``year``, ``sector``, ``wage``), ``outcomes`` (``avg_wage``,
    ``employees_total``, ``population`` of all industries / all ages).

    Parameters
    ----------
    period : str, optional
        The period kept; default the annual one (``январь-декабрь`` or ``год``); cumulative
        quarters are dropped and counted.
    indicator : str, optional
        What a file without an indicator column holds (``"wage"``, ``"employment"``,
        ``"population"``); default: ``wage`` for a file with an ``okved_*`` column.
    territories : DataFrame, optional
        ``territory_id`` -> ``oktmo`` (the SberIndex dictionary) when the file has territory ids.
    """
    path = Path(path)
    src = f"БД ПМО long {path.name}"
    rep = ImportReport()
    df = _read_any(path)
    idc = _pick(df, ["oktmo", "OKTMO", "ОКТМО", "territory_id"], "territory (OKTMO or territory_id)", path)
    _pick(df, ["year"], "year", path)
    valc = _pick(df, ["value", "Значение"], "value", path)
    perc = _pick(df, ["period", "Период"], "", path)
    okc = _pick(df, ["okved_letter", "okved", "okved_code", "ОКВЭД"], "", path)
    indc = _pick(df, ["indicator", "indicator_code", "indicator_name", "Показатель"], "", path)
    if perc is not None:
        periods = df[perc].astype("string").str.strip().str.lower()
        chosen = {period.lower()} if period else set(ANNUAL_PERIODS)
        keep = periods.isin(chosen).fillna(False).to_numpy()
        if not keep.any():
            raise ImportDataError(f"{path}: column '{perc}' has no annual period ({ANNUAL_PERIODS}); found "
                                  f"{sorted(periods.dropna().unique())[:8]}; choose one with period=")
        rep.add(src, "dropped", f"{int((~keep).sum()):,} rows of periods other than the annual one(s) "
                f"{sorted(set(periods[keep]))} ({', '.join(sorted(set(periods.dropna()) - chosen))})")
        df = df[keep]
    df, summed = _disaggregation(df, src, rep)
    if indc is not None:
        kind = _indicator_kind(df[indc])
    else:
        kind = pd.Series(indicator or ("wage" if okc else "population"), index=df.index)
    unknown = kind.isna().to_numpy()
    if unknown.any():
        rep.add(src, "dropped", f"{int(unknown.sum()):,} rows of other indicators: "
                f"{sorted(df.loc[unknown, indc].astype(str).unique())[:10]}")
    df = df.assign(_kind=kind.to_numpy())[~unknown]
    if idc == "territory_id":
        if territories is None:
            raise ImportDataError(f"{path}: rows are keyed by territory_id; give the SberIndex dictionary "
                                  "(--sberindex DIR) to map them to OKTMO")
        tmap = territories.drop_duplicates("territory_id", keep="last").set_index("territory_id")["town_id"]
        tid = pd.to_numeric(df["territory_id"]).astype("int64")
        town = tid.map(pd.Series(tmap.to_numpy(), index=pd.to_numeric(tmap.index).astype("int64")))
        lost = town.isna().to_numpy()
        if lost.any():
            rep.add(src, "unmatched", f"{int(lost.sum()):,} rows of {tid[lost].nunique()} territory_id(s) absent "
                    f"from the dictionary, dropped: {sorted(tid[lost].unique().tolist())[:20]}")
        df = df.assign(town_id=town.to_numpy())[~lost]
    else:
        df = df.assign(town_id=oktmo8(df[idc]).to_numpy())
    code = (df[okc].astype("string").str.strip().fillna("") if okc else pd.Series("", index=df.index))
    total = code.str.lower().isin(TOTAL_CODES).to_numpy()
    base = pd.DataFrame({"town_id": df["town_id"].astype(str).to_numpy(),
                         "year": pd.to_numeric(df["year"]).astype("int64").to_numpy(),
                         "sector": code.to_numpy(dtype=object), "kind": df["_kind"].to_numpy(),
                         "value": pd.to_numeric(df[valc], errors="coerce").to_numpy()})
    if okc:
        bad = ~total & ~base["sector"].isin(list(OKVED_SECTIONS)).to_numpy() & \
            ~base["sector"].astype(str).str.fullmatch(r"\d{2}").to_numpy()
        if bad.any():
            rep.add(src, "dropped", f"{int(bad.sum())} rows with OKVED codes that are neither sections nor divisions: "
                    f"{sorted(base.loc[bad, 'sector'].unique())[:10]}")
            base = base[~bad]
            total = total[~bad]
    if summed:
        base = base.groupby(["town_id", "year", "sector", "kind"], as_index=False, sort=True)["value"].sum(min_count=1)
        total = base["sector"].str.lower().isin(TOTAL_CODES).to_numpy()
    base = _collapse(base, src, rep)
    total = base["sector"].str.lower().isin(TOTAL_CODES).to_numpy()
    return _long_tables(base, total, src, rep), rep


def _collapse(base: pd.DataFrame, src: str, rep: ImportReport) -> pd.DataFrame:
    """One value per (town, year, OKVED code, indicator): repeated rows (in the source, or two
    territory ids of one OKTMO) keep their first non-empty value; disagreements are counted."""
    key = ["town_id", "year", "sector", "kind"]
    dup = base.duplicated(key, keep=False).to_numpy()
    if not dup.any():
        return base.reset_index(drop=True)
    g = base[dup].groupby(key, sort=False)["value"]
    conflicts = int((g.nunique() > 1).sum())
    rep.add(src, "converted", f"{int(dup.sum()):,} rows repeat a (territory, year, OKVED code, indicator): the first "
            f"non-empty value kept; {conflicts} of these keys hold different non-empty values")
    return base.groupby(key, as_index=False, sort=True)["value"].first()


def _disaggregation(df: pd.DataFrame, src: str, rep: ImportReport) -> tuple[pd.DataFrame, bool]:
    """Keep the "Всего" rows of age / sex columns, or sum over them when there are none."""
    summed = False
    for c in ("age", "gender", "sex", "Возраст", "Пол"):
        if c not in df.columns:
            continue
        v = df[c].astype("string").str.strip().str.lower()
        if (v == "всего").any():
            rep.add(src, "dropped", f"{int((v != 'всего').sum()):,} rows by {c} (the '{c} = Всего' rows are kept)")
            df = df[(v == "всего").fillna(False).to_numpy()]
        else:
            rep.add(src, "converted", f"values summed over column {c}")
            summed = True
    return df, summed


def _long_tables(base: pd.DataFrame, total: np.ndarray, src: str, rep: ImportReport) -> dict[str, pd.DataFrame]:
    sec = base[~total]
    tot = base[total]
    out: dict[str, pd.DataFrame] = {}
    piv = sec.pivot_table(index=["town_id", "year", "sector"], columns="kind", values="value", aggfunc="first",
                          dropna=False)
    if "employment" in piv.columns:
        emp = piv.reset_index()
        cols = ["town_id", "year", "sector", "employment"] + (["wage"] if "wage" in piv.columns else [])
        out["employment"] = emp[cols].sort_values(["town_id", "year", "sector"]).reset_index(drop=True)
        rep.add(src, "mapped", f"employees by OKVED code -> employment ({len(emp):,} rows)")
    elif "wage" in piv.columns:
        out["wages"] = piv.reset_index()[["town_id", "year", "sector", "wage"]]
        rep.add(src, "mapped", f"average wage by OKVED section -> employment.wage where employment is given "
                f"({len(out['wages']):,} rows)")
    n_sup = int(sec["value"].isna().sum())
    if n_sup:
        rep.add(src, "suppressed", f"{n_sup:,} section values empty (not published), kept as NaN")
    names = {"wage": "avg_wage", "employment": "employees_total", "population": "population"}
    if len(tot):
        o = tot.pivot_table(index=["town_id", "year"], columns="kind", values="value", aggfunc="first")
        o = o.rename(columns=names).reset_index()
        o.columns.name = None
        out["outcomes"] = o
        rep.add(src, "mapped", f"all-industries / all-ages values -> outcomes {[c for c in o.columns[2:]]} "
                f"({len(o):,} rows)")
    return out
