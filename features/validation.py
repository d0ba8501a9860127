"""Validation of the input tables against the data contract (DESIGN.md section 3).

The validator takes the raw tables (as read from CSV, all text, or from Parquet / memory,
typed), coerces every column to its contract type and collects *every* problem in one pass:
file, column, the first offending rows, what was expected and what was found. It never drops
a row and never guesses: an unparseable value is a problem, not a missing value.

Row numbers follow the source: for a CSV file they are the physical line numbers of the file
(the header is line 1; a quoted field spanning several lines and blank lines are counted), for
Parquet or in-memory tables 1-based row numbers.

Bounds on magnitudes
--------------------
Every number must be finite, and a required number must be present in every row whatever the
token (an empty cell, ``NA``, ``NaN``, ``null``). Besides the ranges that follow from a column's
meaning (``lat`` in [-90, 90], ``lon`` in [-180, 180], years 1800-2100), magnitudes are bounded
so that an implausible value (a typing error, a missing-value code such as ``1e308`` or
``9.99e307``) is an error at the file boundary and never reaches the numeric core:

* counts of people (``employment``, ``employees``, ``population``): ``0 <= x < 1e10``. No
  municipality, sector or firm can count more people than the world (8.1e9 in 2024, UN World
  Population Prospects);
* amounts of money and link weights (``wage``, ``revenue``, ``weight``, ``avg_wage`` and every
  other ``outcomes`` column): ``|x| <= 1e15``. Russia's GDP in 2023 was 1.7e14 rubles (Rosstat),
  so no genuine amount of a municipality, firm or tie in rubles reaches it; values in smaller
  units should be rescaled;
* ``area_km2``: ``0 < x <= 5.1e8``, the surface of the Earth.

With these bounds float64 (largest value 1.8e308) cannot overflow downstream: a sum over 10^7
rows is at most 1e22, a square at most 1e30 and a sum of squares over 10^7 rows (a variance, a
Herfindahl of firm sizes, a cross-product of a regression) at most 1e37, more than 270 orders
of magnitude of headroom; shares computed from counts lie in [0, 1] and their squares and
logarithms are finite.

Decimal marks in ``;``- and tab-separated files
-----------------------------------------------
Such a file is a Russian-locale spreadsheet export: ``,`` is the decimal mark and spaces group
digits. A ``.`` in a number there is ambiguous: Excel in a Russian (or German) locale writes
``11.437`` only as a date or, from a German-style format, as a thousands group (11437), while a
program that wrote ``;`` with ``.`` decimals (``pandas.to_csv(sep=";")``) means 11.437. The
rule: when any number column of the file holds a decimal comma, a ``.`` in a number is an error
(a thousands separator or a date); when none does, a column's ``.`` values are decimals only if
the column holds at least one value that cannot be a thousands group (``64.5321``, ``0.437``,
``1234.5``), and the file is noted as read with ``.`` decimals; a column whose ``.`` values all
look like thousands groups (``11.437``, ``1.234.567``) is an error. ``11.437`` never silently
becomes 11.437.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .rosstat import ROSSTAT_MARKS
from .sectors import OKVED_DIVISIONS, OKVED_SECTIONS, is_okved_code

__all__ = ["AMOUNT_MAX", "AREA_MAX", "COUNT_MAX", "SCHEMA", "ColumnSpec", "DataValidationError", "Problem",
           "TableSource", "YEAR_RANGE", "validate_tables"]

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
    # physical line number of each data row (CSV files with quoted newlines or blank lines);
    # None: row i is labelled first_row + i
    lines: object = field(default=None, compare=False, repr=False)
    # set by the validator for a decimal-comma file: whether a number column holds a decimal
    # comma, and the columns whose '.' values are decimals (see the module docstring)
    file_comma: bool = field(default=False, compare=False, repr=False)
    dot_columns: frozenset = field(default=frozenset(), compare=False, repr=False)


@dataclass(frozen=True)
class ColumnSpec:
    kind: str  # id, text, number, year, bool, category, sector
    required: bool = True  # column must exist
    nullable: bool = False  # empty cells allowed
    min: float | None = None
    max: float | None = None
    strict_min: bool = False
    strict_max: bool = False
    choices: tuple[str, ...] = ()
    default: object = None
    meaning: str = ""
    why_max: str = ""  # why larger values are rejected (shown in the message)


def _id(required=True, nullable=False, meaning=""):
    return ColumnSpec("id", required, nullable, meaning=meaning)


#: Largest count of people (employment, employees, population), exclusive: more than the
#: world's population (8.1e9 in 2024) is a typing error or a missing-value code.
COUNT_MAX = 1e10
#: Largest magnitude of an amount of money, a link weight or an outcome: Russia's GDP in 2023
#: was 1.7e14 rubles; sums of squares over 10^7 rows stay below 1e37 (float64 holds 1.8e308).
AMOUNT_MAX = 1e15
#: Largest area in km^2: the surface of the Earth.
AREA_MAX = 5.1e8
_WHY_COUNT = ("a count of people; more than the world's population (8.1e9) is a typing error or a "
              "missing-value code")
_WHY_AMOUNT = ("larger amounts are typing errors or missing-value codes (Russia's GDP in 2023 was 1.7e14 "
               "rubles); rescale the column, e.g. to thousands, if it really holds such values")
_WHY_AREA = "the surface of the Earth is 5.1e8 km2"


def _count(required=True, nullable=False, meaning=""):
    return ColumnSpec("number", required, nullable, min=0, max=COUNT_MAX, strict_max=True, meaning=meaning,
                      why_max=_WHY_COUNT)


def _amount(required=False, nullable=True, signed=False):
    return ColumnSpec("number", required, nullable, min=-AMOUNT_MAX if signed else 0, max=AMOUNT_MAX,
                      why_max=_WHY_AMOUNT)


SCHEMA: dict[str, dict] = {
    "towns": {
        "columns": {
            "town_id": _id(meaning="municipality identifier (OKTMO code as text)"),
            "name": ColumnSpec("text"),
            "region": ColumnSpec("text"),
            "lat": ColumnSpec("number", min=-90, max=90),
            "lon": ColumnSpec("number", min=-180, max=180),
            "population": _count(required=False, nullable=True),
            "kind": ColumnSpec("category", required=False, nullable=True, choices=("town", "rural"), default="town"),
            "is_core": ColumnSpec("bool", required=False),
            "area_km2": ColumnSpec("number", required=False, nullable=True, min=0, strict_min=True, max=AREA_MAX,
                                   why_max=_WHY_AREA),
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
            "employment": _count(nullable=True, meaning="empty = suppressed"),
            "wage": _amount(),
        },
        "key": ["town_id", "year", "sector"],
        "extra": "keep",
    },
    "firms": {
        "columns": {
            "firm_id": _id(),
            "town_id": _id(),
            "sector": ColumnSpec("sector"),
            "employees": _count(),
            "year": ColumnSpec("year", required=False),
            "group_id": _id(required=False, nullable=True, meaning="empty = independent firm"),
            "revenue": _amount(),
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
            "weight": _amount(required=True, nullable=False),
            "year": ColumnSpec("year", required=False),
            "kind": ColumnSpec("text", required=False, nullable=True),
        },
        "key": ["source_town_id", "target_town_id"],  # plus year and kind when given
        "extra": "keep",
    },
    "outcomes": {
        "columns": {"town_id": _id(), "year": ColumnSpec("year"), "population": _count(required=False, nullable=True),
                    "avg_wage": _amount()},
        "key": ["town_id", "year"],
        "extra": "number",  # any other column: an amount, |x| <= AMOUNT_MAX
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
#: Years a table may hold (a value outside is a typing error or a missing-value code).
YEAR_RANGE = (1800, 2100)
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
            if src.lines is not None:  # physical lines of a CSV file
                rows = tuple(int(src.lines[p]) for p in positions[:MAX_SHOWN])
            else:
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


def _parse_numbers(s: pd.Series, src: TableSource, col: str, out: _Collector,
                   nullable: bool = True) -> tuple[pd.Series, np.ndarray]:
    """Numbers from a text or numeric column.

    Returns ``(values, absent)``: ``values`` is NaN wherever there is no valid number;
    ``absent`` marks the cells that hold no value at all (empty, ``NA``/``NaN``/``null``
    tokens, typed NaN or null). Every other cell without a valid number (text, an infinite
    value, an ambiguous decimal mark) is reported here; absent cells are the caller's to
    report in a column that needs a value in every row (``nullable=False``); in a nullable
    column ``NA`` tokens are read as missing and counted in a note.
    """
    if not src.text and (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)):
        v = s.astype(float)
        absent = v.isna().to_numpy()
        inf = np.isinf(v.to_numpy())
        if inf.any():
            pos = np.flatnonzero(inf)
            out.add(src, col, "a finite number", _examples(v, pos), pos)
            v = v.where(~inf)
        return v, absent
    t = _as_text(s)
    absent = (t.isna() | (t == "")).to_numpy()
    lower = t.str.lower()
    na_tok = lower.isin(_NA_TOKENS).fillna(False).to_numpy()
    if na_tok.any():
        if nullable:
            out.notes.append(f"{src.name}, column '{col}': {int(na_tok.sum())} cell(s) written as NA/NaN read as missing")
        absent = absent | na_tok
    flagged = absent.copy()  # cells that must not be parsed: absent or already reported
    work = t.fillna("")
    if src.decimal_comma:
        work = work.str.replace(_SPACES, "", regex=True)
        comma = work.str.contains(",", regex=False).to_numpy() & ~flagged
        dot = work.str.contains(".", regex=False).to_numpy() & ~flagged
        both = comma & dot
        if both.any():
            pos = np.flatnonzero(both)
            out.add(src, col, "a number with a single decimal mark (',' in a ';'-separated file)",
                    f"{_examples(t, pos)} (both '.' and ',')", pos)
            flagged |= both
        dot &= ~both
        if dot.any() and col not in src.dot_columns:
            flagged |= _ambiguous_dots(work, t, dot, src, col, out)
        elif dot.any():
            out.notes.append(f"{src.name}, column '{col}': no decimal comma anywhere in the file's numbers, "
                             "'.' read as the decimal mark")
        work = work.str.replace(",", ".", regex=False)
    else:
        comma = work.str.contains(",", regex=False).to_numpy() & ~flagged
        if comma.any():
            pos = np.flatnonzero(comma)
            out.add(src, col, "a number with '.' as the decimal mark",
                    f"{_examples(t, pos)}; if the file uses decimal commas, save it with ';' as the "
                    "separator (Russian-locale CSV) or convert the decimals to '.'", pos)
            flagged |= comma
    v = pd.to_numeric(work.where(~pd.Series(flagged, index=work.index), None), errors="coerce").astype(float)
    bad = v.isna().to_numpy() & ~flagged
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
    return v, absent


_NUMBER_LIKE = r"[+-]?\d*[.,]?\d+(?:[eE][+-]?\d+)?"
_COMMA_DECIMAL = r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?"
_DOT_DECIMAL = r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?"
_DOT_GROUPED = r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+"  # 11.437, 1.234.567: reads as thousands grouping
_DOTTED = r"[+-]?[\d.]*\d[\d.]*"  # digits and dots: a grouped number or a date


def _ambiguous_dots(work: pd.Series, t: pd.Series, dot: np.ndarray, src: TableSource, col: str,
                    out: _Collector) -> np.ndarray:
    """Report the '.' values of a decimal-comma file's column that has no right to them (see the
    module docstring); returns the reported cells."""
    if src.file_comma:
        hit = dot & work.str.fullmatch(_DOTTED).fillna(False).to_numpy()
        if hit.any():
            pos = np.flatnonzero(hit)
            out.add(src, col, "a number with ',' as the decimal mark, like the other numbers of this "
                    "';'-separated file (a '.' there groups thousands, as '11.437' for 11437, or belongs to a date)",
                    f"{_examples(t, pos)}; write the number without grouping (11437)", pos)
        return hit
    hit = dot & work.str.fullmatch(_DOT_GROUPED).fillna(False).to_numpy()
    if hit.any():
        pos = np.flatnonzero(hit)
        out.add(src, col, "an unambiguous number: in a ';'-separated file '11.437' may be 11437 (a '.' grouping "
                "thousands, as German-locale spreadsheets write it) or 11.437 (a decimal point), and no value of "
                "the column tells which",
                f"{_examples(t, pos)}; write numbers without grouping (11437) or with a decimal comma (11,437)", pos)
    return hit


def _decimal_marks(raw: pd.DataFrame, number_cols: list[str], src: TableSource) -> TableSource:
    """For a decimal-comma file: whether any number column holds a decimal comma, and which
    columns may use '.' as their decimal mark (none when there is a comma anywhere)."""
    if not (src.text and src.decimal_comma):
        return src
    texts = {c: _as_text(raw[c]).str.replace(_SPACES, "", regex=True) for c in number_cols}
    file_comma = any(bool(t.str.fullmatch(_COMMA_DECIMAL).fillna(False).any()) for t in texts.values())
    dot_cols = set()
    if not file_comma:
        for c, t in texts.items():
            dec = t.str.fullmatch(_DOT_DECIMAL).fillna(False) & ~t.str.fullmatch(_DOT_GROUPED).fillna(False)
            if dec.any():
                dot_cols.add(c)
    return dataclasses.replace(src, file_comma=file_comma, dot_columns=frozenset(dot_cols))


def _absent_found(s: pd.Series, src: TableSource, pos: np.ndarray) -> str:
    """How absent cells were written: 'empty cells', or the tokens."""
    if not src.text:
        return "missing values (NaN or null)"
    t = _as_text(s).iloc[pos[:50]]
    tokens = sorted(set(t.dropna()) - {""})
    if not tokens:
        return "empty cells"
    return f"missing values ({', '.join(repr(x) for x in tokens[:3])}{' or empty cells' if (t.isna() | (t == '')).any() else ''})"


def _limits_text(spec: ColumnSpec) -> str:
    lo = None if spec.min is None else f"{'>' if spec.strict_min else '>='} {spec.min:g}"
    hi = None if spec.max is None else f"{'<' if spec.strict_max else '<='} {spec.max:g}"
    if lo and hi and not spec.strict_min and not spec.strict_max:
        return f"a number between {spec.min:g} and {spec.max:g}"
    return "a number " + " and ".join(x for x in (lo, hi) if x)


def _coerce_number(s, src, col, spec: ColumnSpec, out: _Collector):
    v, absent = _parse_numbers(s, src, col, out, nullable=spec.nullable)
    if not spec.nullable and absent.any():
        pos = np.flatnonzero(absent)
        out.add(src, col, "a value in every row", _absent_found(s, src, pos), pos)
    vals = v.to_numpy()
    with np.errstate(invalid="ignore"):
        low = np.zeros(len(v), bool) if spec.min is None else (vals <= spec.min if spec.strict_min else vals < spec.min)
        high = np.zeros(len(v), bool) if spec.max is None else (vals >= spec.max if spec.strict_max else vals > spec.max)
    low &= ~np.isnan(vals)
    high &= ~np.isnan(vals)
    if low.any():
        pos = np.flatnonzero(low)
        if spec.min == 0 and not spec.strict_min:
            exp = "a number >= 0 (a count cannot be negative)" if spec.why_max == _WHY_COUNT else "a number >= 0"
        else:
            exp = _limits_text(spec)
        out.add(src, col, exp, _examples(s, pos), pos)
    if high.any():
        pos = np.flatnonzero(high)
        exp = _limits_text(spec) + (f" ({spec.why_max})" if spec.why_max else "")
        out.add(src, col, exp, _examples(s, pos), pos)
    return v.where(~(low | high))


def _coerce_year(s, src, col, spec, out: _Collector):
    v, absent = _parse_numbers(s, src, col, out, nullable=False)
    vals = v.to_numpy()
    if absent.any():
        pos = np.flatnonzero(absent)
        out.add(src, col, "an integer year in every row", _absent_found(s, src, pos), pos)
    with np.errstate(invalid="ignore"):
        frac = ~np.isnan(vals) & (vals != np.round(vals))
    if frac.any():
        pos = np.flatnonzero(frac)
        out.add(src, col, "an integer year", f"fractional values {_examples(s, pos)}", pos)
    with np.errstate(invalid="ignore"):
        rng = ~np.isnan(vals) & ~frac & ((vals < YEAR_RANGE[0]) | (vals > YEAR_RANGE[1]))
    if rng.any():
        pos = np.flatnonzero(rng)
        out.add(src, col, f"a year between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}", _examples(s, pos), pos)
    ok = ~np.isnan(vals) & ~frac & ~rng
    return pd.Series(np.where(ok, vals, -1).astype("int64"), index=s.index)


def _coerce_bool(s, src, col, spec, out: _Collector):
    if pd.api.types.is_bool_dtype(s.dtype) and not src.text:
        b = s.astype("boolean")
        if not spec.nullable and b.isna().any():
            pos = np.flatnonzero(b.isna().to_numpy())
            out.add(src, col, "true/false in every row", "missing values (null)", pos)
        return b
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


_EXTRA_NUMBER = _amount(signed=True)  # an outcomes column outside the contract's own


def _check_names(raw: pd.DataFrame, cols: list[str], src: TableSource, out: _Collector) -> bool:
    """Every column named once; a column without a name and without values (a trailing
    separator) is left out with a note. Returns False when the table cannot be checked."""
    ok = True
    seen: dict[str, list[int]] = {}
    for i, c in enumerate(cols, start=1):
        seen.setdefault(c, []).append(i)
    for c, where in seen.items():
        if c and len(where) > 1:
            at = ", ".join(str(i) for i in where[:-1]) + f" and {where[-1]}"
            out.add(src, c, "each column name once",
                    f"the name '{c}' for columns {at} of the header (counted from 1): rename or delete the repeated "
                    "column")
            ok = False
    for i in seen.get("", []):
        col = raw.iloc[:, i - 1]
        if _is_missing_text(col).all():
            out.notes.append(f"{src.name}: column {i} has neither a name nor values (a trailing separator?) and was left out")
        else:
            pos = np.flatnonzero(~_is_missing_text(col))
            out.add(src, None, f"a name for every column of the header; column {i} has none",
                    f"values such as {_examples(col, pos)}", pos)
            ok = False
    return ok


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
    names_ok = _check_names(raw, cols, src, out)
    missing = [c for c, spec in schema["columns"].items() if spec.required and c not in cols]
    for c in missing:
        near = [x for x in cols if x.lower().replace(" ", "_") == c]
        hint = f" (found '{near[0]}': column names are case-sensitive)" if near else ""
        out.add(src, c, f"a column '{c}'", f"columns {cols}{hint}")
    if not names_ok:
        return None
    raw = raw[[c for c in cols if c]]
    cols = [c for c in cols if c]
    if len(raw) == 0:
        out.add(src, None, "at least one data row", "an empty table (delete the file if it has no data)")
        return None
    # the columns that are present are still checked, so that one pass reports everything
    numbers = [c for c in cols if (schema["columns"][c].kind in ("number", "year") if c in schema["columns"]
                                   else schema["extra"] == "number")]
    src = _decimal_marks(raw, numbers, src)
    res = {}
    for c in cols:
        spec = schema["columns"].get(c)
        if spec is None:
            if schema["extra"] == "number":
                res[c] = _coerce_number(raw[c], src, c, _EXTRA_NUMBER, out)
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
        hint = ""
        optional = {"firms": ["year"], "links": ["year", "kind"]}.get(name, [])
        absent = [c for c in optional if c not in df.columns]
        if absent:
            hint = f" (rows that differ by {' or '.join(repr(c) for c in absent)} need that column)"
        out.add(src, ", ".join(key), f"one row per ({', '.join(key)})",
                f"{len(pos)} rows sharing a key, e.g. {tuple(first)}{hint}", pos)
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


def _check_sectors(df: pd.DataFrame, src: TableSource, known_user: set[str], out: _Collector,
                   user_file: str | None = None):
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
    listed = f"listed in {user_file}" if user_file else "listed in a sectors table (sectors.csv or sectors.parquet)"
    out.add(src, "sector", "an OKVED-2 / NACE Rev.2 code (section 'A'..'U' or a two-digit division '01'..'99') "
            f"or a code {listed}", f"{len(bad)} unknown code(s) such as {bad[:5]}{hint}", pos)


def _check_mixed_levels(df: pd.DataFrame, src: TableSource, user_map: dict[str, str], out: _Collector,
                        user_file: str | None = None):
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
        via = ""
        if r["sector"] in user_map:
            via = f" (placed in section {user_map[r['sector']]!r} by column 'section' of {user_file or 'the sectors table'})"
        out.add(src, "sector", "one level of the classification per town and year (sections or divisions, not both)",
                f"{len(pos)} division row(s) whose section is also given for the same town and year, e.g. "
                f"town {r['town_id']!r}, year {r['year']}, division {r['sector']!r}{via}", pos)


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
                    _unknown_refs(tables[name][c], town_ids, sources[name], c,
                                  f"the town_id column of {sources['towns'].name}", out)
    for name in ("employment", "firms"):
        if has(name, "sector"):
            _check_sectors(tables[name], sources[name], set(user_map), out,
                           sources["sectors"].name if "sectors" in raw else None)
    if has("employment", "town_id", "year", "sector"):
        _check_mixed_levels(tables["employment"], sources["employment"], user_map, out,
                            sources["sectors"].name if "sectors" in raw else None)
    if has("firms", "group_id") and tables["firms"]["group_id"].notna().any():
        firms = tables["firms"]
        if has("groups", "group_id"):
            _unknown_refs(firms["group_id"], pd.Index(tables["groups"]["group_id"]), sources["firms"], "group_id",
                          f"the group_id column of {sources['groups'].name}", out)
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
