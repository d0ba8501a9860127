"""Validation of the input tables against the data contract (DESIGN.md section 3).

The validator takes the raw tables (as read from CSV, all text, or from Parquet / memory,
typed), coerces every column to its contract type and collects *every* problem in one pass:
file, column, the first offending rows, what was expected and what was found. It never drops
a row and never guesses: an unparseable value is a problem, not a missing value.

Row numbers follow the source: for a CSV file they are line numbers of the file (the header is
line 1), for Parquet or in-memory tables 1-based row numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .rosstat import ROSSTAT_MARKS
from .sectors import OKVED_DIVISIONS, OKVED_SECTIONS, is_okved_code

__all__ = ["SCHEMA", "ColumnSpec", "DataValidationError", "Problem", "TableSource", "validate_tables"]

TABLES = ("towns", "employment", "firms", "groups", "links", "outcomes", "sectors")
REQUIRED_TABLES = ("towns", "employment")
MAX_SHOWN = 5


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is, what was expected, what was found."""

    file: str
    column: str | None
    expected: str
    found: str
    rows: tuple[int, ...] = ()
    n_rows: int = 0
    unit: str = "line"

    def __str__(self) -> str:
        where = self.file
        if self.column:
            where += f", column '{self.column}'"
        if self.rows:
            units = self.unit + ("s" if len(self.rows) > 1 else "")
            shown = ", ".join(str(r) for r in self.rows)
            more = f" ({self.n_rows} rows in all)" if self.n_rows > len(self.rows) else ""
            where += f", {units} {shown}{more}"
        return f"{where}: expected {self.expected}; found {self.found}"


class DataValidationError(ValueError):
    """Raised when a dataset breaks the data contract; ``problems`` lists every problem."""

    def __init__(self, problems, source: str = "dataset"):
        self.problems = tuple(problems)
        self.source = source
        lines = [f"{source}: {len(self.problems)} problem(s) found"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class TableSource:
    """Where a raw table came from, to name files and rows in messages."""

    name: str  # shown in messages, e.g. "employment.csv"
    first_row: int = 2  # label of the first data row (2 for a CSV with a header line)
    unit: str = "line"
    decimal_comma: bool = False  # Russian-locale CSV: ',' is the decimal mark, spaces group digits
    text: bool = True  # all columns arrived as text (CSV)


@dataclass(frozen=True)
class ColumnSpec:
    kind: str  # id, text, number, year, bool, category, sector
    required: bool = True  # column must exist
    nullable: bool = False  # empty cells allowed
    min: float | None = None
    max: float | None = None
    strict_min: bool = False
    choices: tuple[str, ...] = ()
    default: object = None
    meaning: str = ""


def _id(required=True, nullable=False, meaning=""):
    return ColumnSpec("id", required, nullable, meaning=meaning)


SCHEMA: dict[str, dict] = {
    "towns": {
        "columns": {
            "town_id": _id(meaning="municipality identifier (OKTMO code as text)"),
            "name": ColumnSpec("text"),
            "region": ColumnSpec("text"),
            "lat": ColumnSpec("number", min=-90, max=90),
            "lon": ColumnSpec("number", min=-180, max=180),
            "population": ColumnSpec("number", required=False, nullable=True, min=0),
            "kind": ColumnSpec("category", required=False, nullable=True, choices=("town", "rural"), default="town"),
            "is_core": ColumnSpec("bool", required=False),
            "area_km2": ColumnSpec("number", required=False, nullable=True, min=0, strict_min=True),
            "north": ColumnSpec("bool", required=False),
        },
        "key": ["town_id"],
        "extra": "keep",
    },
    "employment": {
        "columns": {
            "town_id": _id(),
            "year": ColumnSpec("year"),
            "sector": ColumnSpec("sector"),
            "employment": ColumnSpec("number", nullable=True, min=0, meaning="empty = suppressed"),
            "wage": ColumnSpec("number", required=False, nullable=True, min=0),
        },
        "key": ["town_id", "year", "sector"],
        "extra": "keep",
    },
    "firms": {
        "columns": {
            "firm_id": _id(),
            "town_id": _id(),
            "sector": ColumnSpec("sector"),
            "employees": ColumnSpec("number", min=0),
            "year": ColumnSpec("year", required=False),
            "group_id": _id(required=False, nullable=True, meaning="empty = independent firm"),
            "revenue": ColumnSpec("number", required=False, nullable=True, min=0),
        },
        "key": ["firm_id"],  # plus year when given
        "extra": "keep",
    },
    "groups": {
        "columns": {
            "group_id": _id(),
            "hq_town_id": _id(),
            "name": ColumnSpec("text", required=False, nullable=True),
            "vertically_integrated": ColumnSpec("bool", required=False, nullable=True),
        },
        "key": ["group_id"],
        "extra": "keep",
    },
    "links": {
        "columns": {
            "source_town_id": _id(),
            "target_town_id": _id(),
            "weight": ColumnSpec("number", min=0),
            "year": ColumnSpec("year", required=False),
            "kind": ColumnSpec("text", required=False, nullable=True),
        },
        "key": ["source_town_id", "target_town_id"],  # plus year and kind when given
        "extra": "keep",
    },
    "outcomes": {
        "columns": {"town_id": _id(), "year": ColumnSpec("year")},
        "key": ["town_id", "year"],
        "extra": "number",
    },
    "sectors": {
        "columns": {"sector": _id(), "section": _id()},
        "key": ["sector"],
        "extra": "keep",
    },
}

_TRUE = {"true", "t", "1", "yes", "y", "да", "истина"}
_FALSE = {"false", "f", "0", "no", "n", "нет", "ложь"}
_NA_TOKENS = {"na", "nan", "n/a", "null", "none", "<na>"}
_ROSSTAT_MARKS = {m.lower() for m in ROSSTAT_MARKS}  # compared with lower-cased text
_YEAR_RANGE = (1800, 2100)
_SPACES = re.compile(r"[\s\u00a0\u202f]")


class _Collector:
    def __init__(self):
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def add(self, src: TableSource, column, expected, found, positions=None):
        rows: tuple[int, ...] = ()
        n = 0
        if positions is not None:
            positions = np.asarray(positions)
            n = len(positions)
            rows = tuple(int(p) + src.first_row for p in positions[:MAX_SHOWN])
        self.problems.append(Problem(src.name, column, expected, found, rows, n, src.unit))


def _examples(values, positions) -> str:
    vals = []
    for v in pd.Series(values).iloc[list(positions[:3])]:
        vals.append(repr(v) if not isinstance(v, float) else repr(float(v)))
    return ", ".join(vals)


def _is_missing_text(s: pd.Series) -> np.ndarray:
    st = s.astype("string").str.strip()
    return (st.isna() | (st == "")).to_numpy()


def _as_text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


def _coerce_id(s, src, col, spec, out: _Collector):
    if pd.api.types.is_float_dtype(s.dtype):
        finite = s.dropna()
        if len(finite) and not src.text:
            pos = np.flatnonzero(s.notna().to_numpy())
            out.add(src, col, "identifiers stored as text (OKTMO codes keep their leading zeros)",
                    f"floating-point numbers such as {_examples(s, pos)}; save the column as text", pos)
            return None
    if pd.api.types.is_integer_dtype(s.dtype) and not src.text:
        out.notes.append(
            f"{src.name}, column '{col}': identifiers stored as integers were converted to text; "
            "leading zeros of OKTMO codes may already have been lost"
        )
    t = _as_text(s)
    miss = t.isna() | (t == "")
    if not spec.nullable and miss.any():
        pos = np.flatnonzero(miss.to_numpy())
        out.add(src, col, "a non-empty identifier", "empty cells", pos)
    if spec.nullable:
        return t.where(~miss, pd.NA).astype("str")
    return t.fillna("").astype("str")


def _parse_numbers(s: pd.Series, src: TableSource, col: str, out: _Collector) -> tuple[pd.Series, np.ndarray]:
    """Numbers from a text or numeric column; returns (values, missing mask)."""
    if not src.text and (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)):
        v = s.astype(float)
        return v, v.isna().to_numpy()
    t = _as_text(s)
    miss = (t.isna() | (t == "")).to_numpy()
    lower = t.str.lower()
    na_tok = lower.isin(_NA_TOKENS).fillna(False).to_numpy()
    if na_tok.any():
        out.notes.append(f"{src.name}, column '{col}': {int(na_tok.sum())} cell(s) written as NA/NaN read as missing")
        miss = miss | na_tok
    work = t.fillna("")
    if src.decimal_comma:
        work = work.str.replace(_SPACES, "", regex=True)
        both = (work.str.contains(",", regex=False) & work.str.contains(".", regex=False)).to_numpy() & ~miss
        if both.any():
            pos = np.flatnonzero(both)
            out.add(src, col, "a number with a single decimal mark (',' in a ';'-separated file)",
                    f"{_examples(t, pos)} (both '.' and ',')", pos)
        work = work.str.replace(",", ".", regex=False)
    else:
        comma = work.str.contains(",", regex=False).to_numpy() & ~miss
        if comma.any():
            pos = np.flatnonzero(comma)
            out.add(src, col, "a number with '.' as the decimal mark",
                    f"{_examples(t, pos)}; if the file uses decimal commas, save it with ';' as the "
                    "separator (Russian-locale CSV) or convert the decimals to '.'", pos)
            miss = miss | comma
    v = pd.to_numeric(work.where(~pd.Series(miss, index=work.index), None), errors="coerce").astype(float)
    bad = v.isna().to_numpy() & ~miss
    if bad.any():
        pos = np.flatnonzero(bad)
        marks = set(lower.iloc[pos].dropna()) & _ROSSTAT_MARKS
        hint = ""
        if marks:
            hint = ("; Rosstat marks such as '…' (confidential) or '-' (none) are not numbers: leave "
                    "suppressed cells empty and write 0 where the phenomenon is absent")
        out.add(src, col, "a number", f"text {_examples(t, pos)}{hint}", pos)
    inf = np.isinf(v.to_numpy())
    if inf.any():
        pos = np.flatnonzero(inf)
        out.add(src, col, "a finite number", f"{_examples(t, pos)}", pos)
        v = v.where(~inf)
    return v, (miss | bad | inf)


def _coerce_number(s, src, col, spec: ColumnSpec, out: _Collector):
    v, miss = _parse_numbers(s, src, col, out)
    if not spec.nullable:
        only_missing = miss & v.isna().to_numpy()
        empty = only_missing & _is_missing_text(s) if src.text else v.isna().to_numpy()
        if empty.any():
            pos = np.flatnonzero(empty)
            out.add(src, col, "a value in every row", "empty cells", pos)
    vals = v.to_numpy()
    with np.errstate(invalid="ignore"):
        low = np.zeros(len(v), bool) if spec.min is None else (vals <= spec.min if spec.strict_min else vals < spec.min)
        high = np.zeros(len(v), bool) if spec.max is None else vals > spec.max
    outside = (low | high) & ~np.isnan(vals)
    if outside.any():
        pos = np.flatnonzero(outside)
        if spec.min is not None and spec.max is not None:
            exp = f"a number between {spec.min:g} and {spec.max:g}"
        elif spec.min == 0 and not spec.strict_min:
            exp = "a number >= 0 (a count cannot be negative)"
        else:
            exp = f"a number {'>' if spec.strict_min else '>='} {spec.min:g}"
        out.add(src, col, exp, _examples(s, pos), pos)
    return v


def _coerce_year(s, src, col, spec, out: _Collector):
    v, miss = _parse_numbers(s, src, col, out)
    vals = v.to_numpy()
    empty = np.isnan(vals) & (_is_missing_text(s) if src.text else np.ones(len(v), bool))
    if empty.any():
        pos = np.flatnonzero(empty)
        out.add(src, col, "an integer year in every row", "empty cells", pos)
    with np.errstate(invalid="ignore"):
        frac = ~np.isnan(vals) & (vals != np.round(vals))
    if frac.any():
        pos = np.flatnonzero(frac)
        out.add(src, col, "an integer year", f"fractional values {_examples(s, pos)}", pos)
    with np.errstate(invalid="ignore"):
        rng = ~np.isnan(vals) & ~frac & ((vals < _YEAR_RANGE[0]) | (vals > _YEAR_RANGE[1]))
    if rng.any():
        pos = np.flatnonzero(rng)
        out.add(src, col, f"a year between {_YEAR_RANGE[0]} and {_YEAR_RANGE[1]}", _examples(s, pos), pos)
    ok = ~np.isnan(vals) & ~frac
    return pd.Series(np.where(ok, vals, -1).astype("int64"), index=s.index)


def _coerce_bool(s, src, col, spec, out: _Collector):
    if pd.api.types.is_bool_dtype(s.dtype) and not src.text:
        return s.astype("boolean")
    t = _as_text(s).str.lower()
    miss = (t.isna() | (t == "")).to_numpy()
    is_t = t.isin(_TRUE).fillna(False).to_numpy()
    is_f = t.isin(_FALSE).fillna(False).to_numpy()
    bad = ~(is_t | is_f | miss)
    if bad.any():
        pos = np.flatnonzero(bad)
        out.add(src, col, "true/false (also 1/0, yes/no)", _examples(s, pos), pos)
    if miss.any() and not spec.nullable:
        pos = np.flatnonzero(miss)
        out.add(src, col, "true/false in every row", "empty cells", pos)
    res = pd.array(np.where(is_t, True, False), dtype="boolean")
    res[miss | bad] = pd.NA
    return pd.Series(res, index=s.index)


def _coerce_category(s, src, col, spec, out: _Collector):
    t = _as_text(s)
    miss = (t.isna() | (t == "")).to_numpy()
    ok = t.isin(spec.choices).fillna(False).to_numpy()
    bad = ~ok & ~miss
    if bad.any():
        pos = np.flatnonzero(bad)
        out.add(src, col, f"one of {', '.join(repr(c) for c in spec.choices)}", _examples(s, pos), pos)
    return t.where(~pd.Series(miss, index=t.index), spec.default).astype("str")


def _coerce_text(s, src, col, spec, out: _Collector):
    t = _as_text(s)
    miss = (t.isna() | (t == "")).to_numpy()
    if miss.any() and not spec.nullable:
        pos = np.flatnonzero(miss)
        out.add(src, col, "a non-empty value", "empty cells", pos)
    return t.fillna("").astype("str") if not spec.nullable else t.where(~pd.Series(miss, index=t.index), pd.NA).astype("str")


def _coerce_sector(s, src, col, spec, out: _Collector):
    if pd.api.types.is_numeric_dtype(s.dtype) and not src.text:
        pos = np.flatnonzero(s.notna().to_numpy())
        out.add(src, col, "sector codes stored as text ('01', not 1)", f"numbers such as {_examples(s, pos)}", pos)
        return None
    return _coerce_id(s, src, col, spec, out)


_COERCE = {
    "id": _coerce_id,
    "text": _coerce_text,
    "number": _coerce_number,
    "year": _coerce_year,
    "bool": _coerce_bool,
    "category": _coerce_category,
    "sector": _coerce_sector,
}


@dataclass
class _Table:
    name: str
    src: TableSource
    df: pd.DataFrame
    ok_rows: np.ndarray = field(default=None)  # rows without coercion problems in key columns


def _key_columns(name: str, df: pd.DataFrame) -> list[str]:
    key = list(SCHEMA[name]["key"])
    if name == "firms" and "year" in df.columns:
        key.append("year")
    if name == "links":
        key += [c for c in ("year", "kind") if c in df.columns]
    return key


def _check_table(name: str, raw: pd.DataFrame, src: TableSource, out: _Collector) -> pd.DataFrame | None:
    schema = SCHEMA[name]
    cols = [str(c).strip().lstrip("\ufeff") for c in raw.columns]
    raw = raw.reset_index(drop=True)  # positions are row numbers; a filtered table keeps gaps in its index
    raw.columns = cols
    dup_cols = sorted({c for c in cols if cols.count(c) > 1})
    if dup_cols:
        out.add(src, dup_cols[0], "each column name once", f"{len(dup_cols)} repeated column name(s): {dup_cols}")
        return None
    missing = [c for c, spec in schema["columns"].items() if spec.required and c not in cols]
    for c in missing:
        near = [x for x in cols if x.lower().replace(" ", "_") == c]
        hint = f" (found '{near[0]}': column names are case-sensitive)" if near else ""
        out.add(src, c, f"a column '{c}'", f"columns {cols}{hint}")
    if len(raw) == 0:
        out.add(src, None, "at least one data row", "an empty table (delete the file if it has no data)")
        return None
    # the columns that are present are still checked, so that one pass reports everything
    res = {}
    for c in cols:
        spec = schema["columns"].get(c)
        if spec is None:
            if schema["extra"] == "number":
                res[c] = _coerce_number(raw[c], src, c, ColumnSpec("number", nullable=True), out)
            else:
                res[c] = raw[c]
            continue
        coerced = _COERCE[spec.kind](raw[c], src, c, spec, out)
        if coerced is None:
            continue
        res[c] = coerced
    for c, spec in schema["columns"].items():
        if c not in res and c not in cols and spec.default is not None:
            res[c] = pd.Series([spec.default] * len(raw), index=raw.index, dtype="str")
    df = pd.DataFrame(res, index=pd.RangeIndex(len(raw)))
    key = _key_columns(name, df)
    if not set(key) <= set(df.columns):
        return df
    dup = df.duplicated(subset=key, keep=False).to_numpy()
    if dup.any():
        pos = np.flatnonzero(dup)
        first = df.iloc[pos[0]][key].tolist()
        out.add(src, ", ".join(key), f"one row per ({', '.join(key)})",
                f"{len(pos)} rows sharing a key, e.g. {tuple(first)}", pos)
    return df


def _unknown_refs(child: pd.Series, known: pd.Index, src: TableSource, col: str, parent: str, out: _Collector):
    vals = child.astype("string")
    present = vals.notna().to_numpy()
    unknown = present & ~vals.isin(known).fillna(False).to_numpy()
    if unknown.any():
        pos = np.flatnonzero(unknown)
        sample = sorted(set(vals.iloc[pos].astype(str)))[:5]
        hint = ""
        lens = {len(k) for k in known[:1000]}
        if any(len(x) + 1 in lens and ("0" + x) in set(known) for x in sample):
            hint = " (leading zeros lost? identifiers are text, e.g. '01701000' not 1701000)"
        out.add(src, col, f"identifiers listed in {parent}", f"{len(set(vals.iloc[pos]))} unknown value(s) such as {sample}{hint}", pos)


def _check_sectors(df: pd.DataFrame, src: TableSource, known_user: set[str], out: _Collector):
    codes = df["sector"].astype(str)
    uniq = pd.unique(codes)
    bad = [c for c in uniq if not (is_okved_code(c) or c in known_user)]
    if not bad:
        return
    mask = codes.isin(bad).to_numpy()
    pos = np.flatnonzero(mask)
    hints = []
    for c in bad[:3]:
        if c.isdigit() and len(c) == 1 and ("0" + c) in OKVED_DIVISIONS:
            hints.append(f"'{c}' looks like division '0{c}' with its leading zero lost")
        elif re.fullmatch(r"\d{2}\.\d+(\.\d+)*", c):
            hints.append(f"'{c}' is a group/class code: aggregate to the division '{c[:2]}' or list it in a sectors table")
        elif len(c) == 1 and c.isalpha() and c.upper() in OKVED_SECTIONS:
            hints.append(f"section letters are upper-case ('{c.upper()}')")
    hint = ("; " + "; ".join(hints)) if hints else ""
    out.add(src, "sector", "an OKVED-2 / NACE Rev.2 code (section 'A'..'U' or a two-digit division '01'..'99') "
            "or a code listed in the sectors table", f"{len(bad)} unknown code(s) such as {bad[:5]}{hint}", pos)


def _check_mixed_levels(df: pd.DataFrame, src: TableSource, user_map: dict[str, str], out: _Collector):
    """A section and one of its own divisions in the same town-year would count jobs twice."""
    sec = df["sector"].astype(str)
    is_section = (sec.isin(OKVED_SECTIONS) & ~sec.isin(list(user_map))).to_numpy()
    if not is_section.any() or is_section.all():
        return
    parents = {**OKVED_DIVISIONS, **user_map}
    divisions = pd.DataFrame({"town_id": df["town_id"], "year": df["year"], "section": sec.map(parents),
                              "pos": np.arange(len(df))})[~is_section]
    sections = pd.DataFrame({"town_id": df["town_id"], "year": df["year"], "section": sec})[is_section]
    clash = divisions.merge(sections, on=["town_id", "year", "section"], how="inner")
    if len(clash):
        pos = np.sort(clash["pos"].to_numpy())
        r = df.iloc[pos[0]]
        out.add(src, "sector", "one level of the classification per town and year (sections or divisions, not both)",
                f"{len(pos)} division row(s) whose section is also given for the same town and year, e.g. "
                f"town {r['town_id']!r}, year {r['year']}, division {r['sector']!r}", pos)


def validate_tables(raw: dict[str, pd.DataFrame], sources: dict[str, TableSource] | None = None,
                    source: str = "dataset") -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Check and coerce a dataset's tables; raise :class:`DataValidationError` listing every problem.

    Parameters
    ----------
    raw : dict
        Table name -> DataFrame (text columns from CSV or typed columns).
    sources : dict, optional
        Table name -> :class:`TableSource` for messages; default in-memory tables.

    Returns
    -------
    (tables, notes)
        Coerced tables (identifiers as strings, years as int64, numbers as float64, flags as
        nullable booleans) and notes: things that are valid but worth telling the user.
    """
    out = _Collector()
    sources = dict(sources or {})
    unknown = sorted(set(raw) - set(TABLES))
    if unknown:
        out.problems.append(Problem(source, None, f"tables among {list(TABLES)}", f"unknown table(s) {unknown}"))
    for name in REQUIRED_TABLES:
        if name not in raw:
            out.problems.append(Problem(f"{name}.csv / {name}.parquet", None, f"a required '{name}' table", "no such file"))
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        if name not in raw:
            continue
        src = sources.get(name) or TableSource(f"{name} (in memory)", first_row=1, unit="row", text=False)
        sources[name] = src
        df = _check_table(name, raw[name], src, out)
        if df is not None:
            tables[name] = df
    # cross-table references (on the columns that could be read)
    def has(name: str, *cols: str) -> bool:
        return name in tables and all(c in tables[name].columns for c in cols)

    town_ids = pd.Index(tables["towns"]["town_id"]) if has("towns", "town_id") else None
    user_map = dict(zip(tables["sectors"]["sector"], tables["sectors"]["section"], strict=True)) if has("sectors", "sector", "section") else {}
    if town_ids is not None:
        for name, cols in (("employment", ["town_id"]), ("firms", ["town_id"]), ("groups", ["hq_town_id"]),
                           ("outcomes", ["town_id"]), ("links", ["source_town_id", "target_town_id"])):
            for c in cols:
                if has(name, c):
                    _unknown_refs(tables[name][c], town_ids, sources[name], c, "towns", out)
    for name in ("employment", "firms"):
        if has(name, "sector"):
            _check_sectors(tables[name], sources[name], set(user_map), out)
    if has("employment", "town_id", "year", "sector"):
        _check_mixed_levels(tables["employment"], sources["employment"], user_map, out)
    if has("firms", "group_id") and tables["firms"]["group_id"].notna().any():
        firms = tables["firms"]
        if has("groups", "group_id"):
            _unknown_refs(firms["group_id"], pd.Index(tables["groups"]["group_id"]), sources["firms"], "group_id", "groups", out)
        elif "groups" not in raw:
            pos = np.flatnonzero(firms["group_id"].notna().to_numpy())
            out.add(sources["firms"], "group_id", "a groups table describing the groups that firms belong to",
                    "group identifiers but no groups.csv / groups.parquet", pos)
    if "groups" in tables and "firms" not in raw:
        out.notes.append("groups given without firms: corporate features need the firms table")
    if has("links", "source_town_id", "target_town_id"):
        lk = tables["links"]
        self_loops = (lk["source_town_id"] == lk["target_town_id"]).to_numpy()
        if self_loops.any():
            out.notes.append(f"{sources['links'].name}: {int(self_loops.sum())} link(s) from a town to itself are kept but play no part in intermunicipal ties")
    if has("employment", "town_id", "employment") and town_ids is not None:
        no_emp = town_ids.difference(pd.Index(tables["employment"]["town_id"].unique()))
        if len(no_emp):
            out.notes.append(f"{len(no_emp)} town(s) have no employment rows (no indices for them), e.g. {list(no_emp[:5])}")
        supp = int(tables["employment"]["employment"].isna().sum())
        if supp:
            out.notes.append(f"employment: {supp} suppressed cell(s) (empty = not published, never zero)")
    if out.problems:
        raise DataValidationError(out.problems, source)
    return tables, out.notes
