"""Firm-registry exports of SPARK (Интерфакс) and Contour.Focus (СКБ Контур) -> ``firms`` and
``groups``.

An export is an .xlsx workbook or a .csv file (UTF-8 or cp1251), often with a title row above
the header. The columns are found by their Russian headers (:data:`HEADERS`); employees come
from ``<year>, Среднесписочная численность работников`` (one column per year; a table row per
firm and year) or a single ``Среднесписочная численность работников``. Exports with other
headers are read through a TOML mapping file::

    [columns]
    firm_id = "ИНН"
    name = "Название"
    sector = "ОКВЭД"
    oktmo = "Код ОКТМО"
    parent_inn = "ИНН головной организации"
    employees = "Численность {year}"      # {year} stands for a 4-digit year
    [options]
    sheet = "Лист1"

Firms are placed in municipalities by OKTMO (the first 8 digits). A firm without an OKTMO of a
known town is placed by its address when a towns table (``town_id``, ``name``, optional
``region``) is given (:func:`match_addresses`): the name after the first settlement marker of
the address (``г.``, ``город``, ``пгт``, ``рп``, ``с.``, ``село``, ``пос.``, ``п.``,
``поселок``) must be the name of exactly one town, or of exactly one town of the region the
address (or the ``Регион`` column) names. Firms placed so are listed in the report ("placed by
address"); the others are dropped and listed with the reason. A group is
the set of firms sharing the ИНН of their parent (managing) company; its ``hq_town_id`` is the
parent's town when the parent is in the export, else the town of its largest member (said in
the report).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from features.rosstat import oktmo8

from .report import ImportDataError, ImportReport
from .tables import norm_header, read_sheet

__all__ = ["HEADERS", "match_addresses", "read_mapping", "read_registry_export"]

#: Canonical field -> header texts of SPARK and Contour.Focus exports (compared loosely).
HEADERS = {
    "firm_id": ["ИНН"],
    "name": ["Наименование", "Краткое наименование", "Полное наименование", "Название"],
    "ogrn": ["ОГРН"],
    "sector": ["Код основного вида деятельности", "Вид деятельности/отрасль", "Основной вид деятельности",
               "ОКВЭД", "Код ОКВЭД"],
    "region": ["Регион регистрации", "Регион"],
    "address": ["Адрес", "Юридический адрес", "Адрес регистрации"],
    "oktmo": ["ОКТМО", "Код ОКТМО"],
    "parent_inn": ["ИНН управляющей компании", "ИНН головной компании", "ИНН головной организации",
                   "ИНН материнской компании", "Управляющая компания, ИНН", "Головная компания, ИНН"],
    "employees": ["{year}, Среднесписочная численность работников", "Среднесписочная численность работников"],
    "revenue": ["{year}, Выручка, RUB", "{year}, Выручка", "Выручка, RUB", "Выручка"],
}
REQUIRED = ("firm_id", "sector", "employees")


def read_mapping(path) -> tuple[dict[str, list[str]], dict]:
    """Header texts by field (``[columns]``) and ``[options]`` of a TOML mapping file."""
    path = Path(path)
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ImportDataError(f"{path}: not a readable TOML mapping file ({exc})") from None
    cols = cfg.get("columns", {})
    unknown = sorted(set(cols) - set(HEADERS))
    if unknown:
        raise ImportDataError(f"{path}: [columns] has unknown field(s) {unknown}; expected some of {sorted(HEADERS)}")
    return {k: [v] if isinstance(v, str) else list(v) for k, v in cols.items()}, dict(cfg.get("options", {}))


def _find(columns: list[str], patterns: list[str]) -> dict[int | None, str]:
    """Columns matching the first pattern that matches: {year or None: column}."""
    norm = {norm_header(c): c for c in columns}
    for p in patterns:
        if "{year}" in p:
            rx = re.compile(re.escape(norm_header(p)).replace(r"\{year\}", r"((?:19|20)\d\d)") + "$")
            hits = {int(m.group(1)): c for n, c in norm.items() if (m := rx.match(n))}
        else:
            hits = {None: norm[norm_header(p)]} if norm_header(p) in norm else {}
        if hits:
            return hits
    return {}


def _digits(s: pd.Series, widths: tuple[int, ...]) -> pd.Series:
    """Identifiers as digit strings, leading zeros restored to the nearest allowed width."""
    t = s.astype("string").str.replace(r"[\s\u00a0]", "", regex=True).str.replace(r"\.0$", "", regex=True)
    n = t.str.len()
    pad = pd.Series(pd.NA, index=t.index, dtype="Int64")
    for w in sorted(widths, reverse=True):  # the nearest width at or above the length
        pad = pad.mask(n.le(w) & n.ge(w - 2), w)
    digits = t.str.fullmatch(r"\d+").fillna(False)
    for w in widths:
        t = t.mask(digits & pad.eq(w).fillna(False), t.str.zfill(w))
    return t


def _sector_codes(s: pd.Series) -> pd.Series:
    """OKVED-2 division (2 digits) from '62.01', '62.01 Разработка ...' or '62'."""
    return s.astype("string").str.extract(r"^\s*(\d{1,2})(?:\.\d+)*\b", expand=False).str.zfill(2)


def read_registry_export(path, source: str = "spark", mapping=None, sheet: str | None = None,
                         town_ids=None, towns=None) -> tuple[dict[str, pd.DataFrame], ImportReport]:
    """A SPARK or Contour.Focus export as ``firms`` (``firm_id`` = ИНН, ``town_id``, ``sector``
    = OKVED-2 division, ``employees``, ``year`` when employees are given by year, ``group_id``,
    ``name``, ``ogrn``, ``region``, ``address``) and ``groups``.

    Parameters
    ----------
    path : str or Path
        .xlsx / .csv export.
    source : {"spark", "kontur"}
        Named in the report and in the firm table's ``source`` column.
    mapping : str or Path, optional
        TOML mapping file for other headers (see the module's documentation).
    sheet : str, optional
        Sheet of a workbook; default the mapping's ``[options] sheet``, else the first.
    town_ids : iterable, optional
        Known towns; firms placed elsewhere are dropped and listed.
    towns : DataFrame, optional
        ``town_id``, ``name`` and optionally ``region``: firms without an OKTMO of a known town
        are placed by address (:func:`match_addresses`); restricted to ``town_ids`` when given.
    """
    if source not in ("spark", "kontur"):
        raise ImportDataError(f"source must be 'spark' or 'kontur', got {source!r}")
    path = Path(path)
    headers = dict(HEADERS)
    if mapping is not None:
        cols, opts = read_mapping(mapping)
        headers.update(cols)
        sheet = sheet or opts.get("sheet")
    notes: list[str] = []
    expected = [h for k in ("firm_id", "name", "oktmo") for h in headers[k] if "{year}" not in h]
    df, header_row, sheet_name = read_sheet(path, expected, sheet=sheet, notes=notes)
    where = f"{path}" + (f", sheet {sheet_name!r}" if sheet_name else "")
    src = f"{'SPARK' if source == 'spark' else 'Contour.Focus'} {path.name}"
    rep = ImportReport()
    for n in notes:
        rep.add(src, "converted", n)
    found = {k: _find(list(df.columns), pats) for k, pats in headers.items()}
    missing = [k for k in REQUIRED if not found[k]]
    if missing:
        raise ImportDataError(f"{where}: no column for {missing} (header row {header_row}; expected headers such as "
                              f"{[headers[k][0] for k in missing]}); found {list(df.columns)}; give a mapping file")
    rep.add(src, "mapped", "; ".join(f"{k} <- " + ", ".join(f"'{c}'" for c in v.values())
                                       for k, v in found.items() if v))
    firms = _firm_rows(df, found, where, header_row, rep, src)
    firms["source"] = source
    return _place(firms, town_ids, rep, src, towns)


def _firm_rows(df: pd.DataFrame, found: dict, where: str, header_row: int, rep: ImportReport,
               src: str) -> pd.DataFrame:
    one = {k: next(iter(v.values())) for k, v in found.items() if v and k not in ("employees", "revenue")}
    base = pd.DataFrame({"firm_id": _digits(df[one["firm_id"]], (10, 12)).to_numpy(),
                         "sector": _sector_codes(df[one["sector"]]).to_numpy()})
    base["oktmo"] = df[one["oktmo"]].astype("string").to_numpy() if "oktmo" in one else None
    for k in ("name", "ogrn", "region", "address"):
        if k in one:
            base[k] = df[one[k]].astype("string").to_numpy()
    base["parent_inn"] = _digits(df[one["parent_inn"]], (10, 12)).to_numpy() if "parent_inn" in one else None
    rows = np.arange(len(df)) + header_row + 1
    no_id = base["firm_id"].isna().to_numpy()
    if no_id.any():
        rep.add(src, "dropped", f"{int(no_id.sum())} rows without ИНН (rows {list(rows[no_id][:10])})")
    no_sec = base["sector"].isna().to_numpy() & ~no_id
    if no_sec.any():
        rep.add(src, "dropped", f"{int(no_sec.sum())} firms without an OKVED code (rows {list(rows[no_sec][:10])})")
    parts = []
    for year, col in found["employees"].items():
        emp = pd.to_numeric(df[col].astype("string").str.replace(r"[\s\u00a0]", "", regex=True)
                            .str.replace(",", ".", regex=False), errors="coerce")
        bad = emp.isna().to_numpy() & df[col].notna().to_numpy()
        if bad.any():
            raise ImportDataError(f"{where}, column '{col}': {int(bad.sum())} value(s) are not numbers, e.g. "
                                  f"{list(df[col][bad].head(3))} at row(s) {list(rows[bad][:5])}")
        part = base.assign(employees=emp.to_numpy(), _row=rows)
        if year is not None:
            part["year"] = year
        rev = found["revenue"].get(year)
        if rev is not None:
            part["revenue"] = pd.to_numeric(df[rev].astype("string").str.replace(r"[\s\u00a0]", "", regex=True)
                                            .str.replace(",", ".", regex=False), errors="coerce").to_numpy()
        parts.append(part[~no_id & ~no_sec])
    firms = pd.concat(parts, ignore_index=True)
    empty = firms["employees"].isna().to_numpy()
    if empty.any():
        rep.add(src, "dropped", f"{int(empty.sum())} firm-years without employees (empty cell)")
    return firms[~empty].reset_index(drop=True)


#: Settlement markers of an address, longer forms first (alternation takes the first that fits).
_MARKERS = ("поселок городского типа", "рабочий поселок", "город", "поселок", "село", "пгт", "рп", "пос", "г", "с", "п")
#: Street-level markers that end a settlement name when no comma does.
_STREET = ("ул", "улица", "пр-кт", "пр-т", "проспект", "пер", "переулок", "д", "дом", "мкр", "ш", "шоссе", "наб",
           "пл", "б-р", "бульвар", "проезд", "тер", "кв")
_NAME_RX = (rf"(?:^|[\s,])(?:{'|'.join(_MARKERS)})\s+([^\W\d_][^,]*?)"
            rf"\s*(?:,|$|\s(?=(?:{'|'.join(map(re.escape, _STREET))})\s))")
_REGION_WORDS = r"\b(?:республика|респ|область|обл|край|автономный|автономная|округ|ао|город|г|федерального|значения)\b"


def _norm_text(s: pd.Series) -> pd.Series:
    """Lowercase, ё -> е, punctuation other than commas and hyphens -> space, spaces collapsed."""
    return (s.astype("string").str.lower().str.replace("ё", "е", regex=False)
            .str.replace(r"[^\w,\-]+", " ", regex=True).str.replace(r"\s*,\s*", ",", regex=True)
            .str.replace(r"\s+", " ", regex=True).str.strip())


def _town_key(name: pd.Series) -> pd.Series:
    """A town's name as compared: normalized, without commas and a leading settlement marker."""
    n = _norm_text(name).str.replace(",", " ", regex=False).str.strip()
    return n.str.replace(rf"^(?:{'|'.join(_MARKERS)})\s+", "", regex=True)


def _region_key(region: pd.Series) -> pd.Series:
    """The distinctive word of a region's name: 'Республика Коми' -> 'коми', 'Архангельская
    обл.' -> 'архангельская'."""
    rest = _norm_text(region).str.replace(",", " ", regex=False).str.replace(_REGION_WORDS, " ", regex=True)
    return rest.str.extract(r"([^\W\d_][\w-]{2,})", expand=False)


def match_addresses(address: pd.Series, towns: pd.DataFrame, region: pd.Series | None = None) -> pd.DataFrame:
    """Towns named by addresses.

    The address is normalized (lowercase, ё -> е, punctuation but commas and hyphens dropped);
    the settlement name is the text after its first marker (``г``, ``город``, ``пгт``, ``рп``,
    ``с``, ``село``, ``пос``, ``п``, ``поселок``, ``поселок городского типа``, ``рабочий
    поселок``) up to the next comma or street marker (``ул``, ``д``, ``пр-т``, ...). It is
    compared with the towns' names normalized alike (a leading marker dropped). One town of
    that name: placed. Several: placed when exactly one of them is in a region whose
    distinctive word ('коми' of 'Республика Коми') is a word of the address or of ``region``;
    else ambiguous. Extraction is one vectorized ``str.extract``; matching is a merge.

    Parameters
    ----------
    address : Series
        Addresses ('169300, Республика Коми, г. Ухта, ул. Ленина, д. 1').
    towns : DataFrame
        ``town_id``, ``name`` and optionally ``region``.
    region : Series, optional
        The firms' region column, aligned with ``address``.

    Returns
    -------
    DataFrame
        Indexed like ``address``: ``town_id`` (missing when not placed), ``settlement`` (the
        extracted name) and ``reason`` (why not placed: 'no address', 'no settlement marker in
        the address', "no town named 'x'", "several towns named 'x': id (region), ...").
    """
    text = _norm_text(address)
    name = text.str.extract(_NAME_RX, expand=False).str.replace(",", " ", regex=False).str.strip()
    t = pd.DataFrame({"town_id": towns["town_id"].astype("string").to_numpy(),
                      "key": _town_key(towns["name"]).to_numpy()})
    t["rkey"] = _region_key(towns["region"]).to_numpy() if "region" in towns.columns else pd.NA
    t["label"] = (t["town_id"] + (" (" + towns["region"].astype("string").to_numpy() + ")"
                                  if "region" in towns.columns else "")).fillna(t["town_id"])
    t = t.dropna(subset=["key"]).drop_duplicates(["town_id", "key"])
    rows = pd.DataFrame({"_i": np.arange(len(text)), "key": name.to_numpy()})
    cand = rows.dropna(subset=["key"]).merge(t, on="key", how="inner")
    cand["n"] = cand.groupby("_i")["town_id"].transform("size")
    several = cand[cand["n"] > 1]
    if len(several):  # only rows naming several towns: does the address name one town's region?
        where = text if region is None else text.fillna("") + "," + _norm_text(region).fillna("")
        words = [set(w.replace(",", " ").split()) for w in where.iloc[several["_i"].to_numpy()].fillna("")]
        hit = np.array([isinstance(k, str) and k in ws for k, ws in zip(several["rkey"], words, strict=True)],
                       dtype=bool)
        several = several.assign(hit=hit)
        several = several[several.groupby("_i")["hit"].transform("sum").eq(1) & several["hit"]]
    placed = pd.concat([cand[cand["n"] == 1], several]).set_index("_i")["town_id"]
    town = pd.Series(pd.NA, index=np.arange(len(text)), dtype="string")
    town.loc[placed.index] = placed.to_numpy()
    labels = cand[cand["n"] > 1].groupby("_i")["label"].agg(", ".join)
    reason = pd.Series(pd.NA, index=np.arange(len(text)), dtype="string")
    reason = reason.mask(address.isna().to_numpy() | text.eq("").fillna(True).to_numpy(), "no address")
    reason = reason.mask(reason.isna().to_numpy() & name.isna().to_numpy(), "no settlement marker in the address")
    nm = name.to_numpy()
    reason = reason.mask(reason.isna().to_numpy() & town.isna().to_numpy(),
                         pd.Series([f"no town named '{x}'" for x in nm], dtype="string"))
    amb = labels.index[town.iloc[labels.index].isna().to_numpy()]
    reason.iloc[amb] = [f"several towns named '{nm[i]}': {labels[i]}" for i in amb]
    return pd.DataFrame({"town_id": town.to_numpy(), "settlement": name.to_numpy(),
                         "reason": reason.where(town.isna()).to_numpy()}, index=address.index)


def _place(firms: pd.DataFrame, town_ids, rep: ImportReport, src: str,
           towns: pd.DataFrame | None = None) -> tuple[dict[str, pd.DataFrame], ImportReport]:
    code = firms["oktmo"].astype("string").str.replace(r"[\s\-.]", "", regex=True)
    ok = code.str.fullmatch(r"\d{7,8}|\d{10,11}").fillna(False).to_numpy()
    firms["town_id"] = None
    firms.loc[ok, "town_id"] = oktmo8(code[ok]).to_numpy() if ok.any() else []
    known = ok.copy()
    if town_ids is not None:
        known &= firms["town_id"].isin(set(town_ids)).to_numpy()
    why = pd.Series("address matching not done (no towns table)" if towns is None else "no address",
                    index=firms.index, dtype="string")
    if towns is not None and (~known).any() and "address" in firms.columns:
        t = towns if town_ids is None else towns[towns["town_id"].isin(set(town_ids))]
        m = match_addresses(firms.loc[~known, "address"], t, firms.loc[~known, "region"]
                            if "region" in firms.columns else None)
        by_addr = m["town_id"].notna().to_numpy()
        idx = m.index[by_addr]
        firms.loc[idx, "town_id"] = m.loc[idx, "town_id"].astype(object).to_numpy()
        why.loc[m.index] = m["reason"].to_numpy()
        got = firms.loc[idx].drop_duplicates("firm_id")
        if len(got):
            label = got.get("name", got["firm_id"]).astype(str)
            rep.add(src, "mapped", f"{len(got)} firm(s) without an OKTMO of a known town placed by address: " + "; ".join(
                f"{i} {n} (row {r}, '{a}') -> {tid}" for i, n, r, a, tid in
                zip(got["firm_id"], label, got["_row"], got["address"], got["town_id"], strict=True)))
        known[firms.index.get_indexer(idx)] = True
    if (~known).any():
        lost = firms[~known].drop_duplicates("firm_id")
        label = lost.get("name", lost["firm_id"]).astype(str)
        rep.add(src, "unmatched", f"{lost['firm_id'].nunique()} firm(s) without an OKTMO of a known town "
                f"and not placed by address, dropped: " + "; ".join(
                    f"{i} {n} (row {r}, OKTMO {o}): {w}" for i, n, r, o, w in
                    zip(lost["firm_id"], label, lost["_row"], lost["oktmo"].astype("string").fillna("none"),
                        why[lost.index], strict=True)))
    firms = firms[known].drop(columns=["_row", "oktmo"]).reset_index(drop=True)
    key = ["firm_id", "year"] if "year" in firms.columns else ["firm_id"]
    dup = firms.duplicated(key, keep="first").to_numpy()
    if dup.any():
        rep.add(src, "dropped", f"{int(dup.sum())} repeated rows of one firm{' and year' if len(key) == 2 else ''} "
                f"(first kept): {sorted(set(firms.loc[dup, 'firm_id']))[:10]}")
        firms = firms[~dup].reset_index(drop=True)
    groups = _groups(firms, rep, src)
    firms = firms.rename(columns={"parent_inn": "group_id"})
    rep.add(src, "mapped", f"{firms['firm_id'].nunique():,} firms ({len(firms):,} rows), {len(groups)} groups")
    return {"firms": firms, "groups": groups}, rep


def _groups(firms: pd.DataFrame, rep: ImportReport, src: str) -> pd.DataFrame:
    members = firms[firms["parent_inn"].notna()]
    if not len(members):
        return pd.DataFrame({"group_id": pd.Series(dtype="str"), "hq_town_id": pd.Series(dtype="str")})
    gids = sorted(set(members["parent_inn"]))
    own = firms.drop_duplicates("firm_id", keep="last").set_index("firm_id")["town_id"]
    hq = pd.Series(gids, index=gids).map(own)
    largest = (members.sort_values("employees", ascending=False, kind="stable")
               .drop_duplicates("parent_inn").set_index("parent_inn")["town_id"])
    guessed = hq.isna()
    if guessed.any():
        rep.add(src, "converted", f"{int(guessed.sum())} group(s) whose parent company is not in the export: "
                f"headquarters placed in the town of the largest member ({', '.join(hq.index[guessed][:10])})")
    hq = hq.fillna(largest)
    # a parent in the export belongs to its own group
    is_parent = firms["firm_id"].isin(gids) & firms["parent_inn"].isna()
    firms.loc[is_parent, "parent_inn"] = firms.loc[is_parent, "firm_id"]
    return pd.DataFrame({"group_id": hq.index.astype(str), "hq_town_id": hq.to_numpy(dtype=object)})
