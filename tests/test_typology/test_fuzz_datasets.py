"""Property-based fuzzing of the dataset reader through ``typology validate``.

A small valid dataset holding all seven tables (Cyrillic and quoted names, leading zeros,
a suppressed cell, a user sector code, empty optional cells) is written as CSV and as Parquet;
hypothesis applies one random mutation (columns deleted, repeated or renamed; cells replaced by
random text, huge, negative or non-finite numbers, missing-value tokens, separators, quotes and
newlines, quoted or not; other separators, encodings and line ends; truncated files; Parquet
columns of another type; files dropped, misnamed or added) and runs the CLI entry point
``typology.cli.app.main(["validate", path])`` in-process. The properties:

* the exit code is 0 or 1, and no exception or traceback escapes;
* exit 1: the message names the mutated file and, for a mutation of one column, that column;
* exit 0: every value the mutation did not touch reads back exactly as written (a truncated
  CSV ending on a line break is a shorter valid file: its rows are a prefix of the original).

The default run (100 examples, derandomized so CI always sees the same ones) takes about 10 s;
``NORDTOWNS_FUZZ_EXAMPLES=1500`` runs more, and ``NORDTOWNS_FUZZ_RANDOM=1`` with
``pytest --hypothesis-seed=N`` explores other examples.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import typology.data.io as tio
from features import TownData
from features.validation import AMOUNT_MAX, SCHEMA, ColumnSpec
from typology.cli import main

N_EXAMPLES = int(os.environ.get("NORDTOWNS_FUZZ_EXAMPLES", "100"))
RANDOM = os.environ.get("NORDTOWNS_FUZZ_RANDOM") is not None  # explore: pytest --hypothesis-seed=N
FUZZ = settings(max_examples=N_EXAMPLES, deadline=None, derandomize=not RANDOM, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


def minimal_data() -> TownData:
    towns = pd.DataFrame({
        "town_id": ["01701000", "01702000", "11801000", "11802000", "11803000"],
        "name": ["Воркута", "Инта", "Town, three", 'Town "four"', "Village"],
        "region": ["Komi", "Komi", "Arkhangelsk", "Arkhangelsk", "Arkhangelsk"],
        "lat": [67.4975, 66.0361, 64.5401, 64.5601, 64.7003],
        "lon": [64.0611, 60.1633, 40.5433, 40.6012, 40.9],
        "population": [70548.0, 26000.0, 301199.0, None, 812.0],
        "kind": ["town", "town", "town", "town", "rural"],
        "area_km2": [24200.5, 30.1, 294.42, 12.0, 8.25],
        "north": [True, True, False, False, True],
    })
    rows = [(t, y, s, e) for t in towns["town_id"][:4] for y in (2019, 2020)
            for s, e in (("01", 120.0), ("B", 3400.5), ("47", 980.0), ("X1", 15.0))]
    employment = pd.DataFrame(rows, columns=["town_id", "year", "sector", "employment"])
    employment.loc[5, "employment"] = None  # a suppressed cell
    employment["wage"] = 50000.25
    firms = pd.DataFrame({
        "firm_id": ["F1", "F1", "F2", "F3"],
        "town_id": ["01701000", "01701000", "01702000", "11803000"],
        "sector": ["B", "B", "47", "01"],
        "employees": [1500.0, 1450.0, 80.0, 12.0],
        "year": [2019, 2020, 2020, 2020],
        "group_id": ["G1", "G1", None, "G2"],
        "revenue": [1.5e10, 1.6e10, 2.5e7, None],
    })
    groups = pd.DataFrame({"group_id": ["G1", "G2"], "hq_town_id": ["11801000", "01701000"],
                           "name": ["Severstal", None], "vertically_integrated": [True, None]})
    links = pd.DataFrame({"source_town_id": ["01701000", "11801000", "11802000"],
                          "target_town_id": ["01702000", "11803000", "11801000"],
                          "weight": [12.5, 3.0, 7.0], "year": [2019, 2020, 2020], "kind": ["rail", None, "road"]})
    outcomes = pd.DataFrame({"town_id": [t for t in towns["town_id"][:4] for _ in (0, 1)],
                             "year": [2019, 2020] * 4,
                             "population": [70548.0, 70001.0, 26000.0, 25500.0, 301199.0, 302000.0, None, 1000.0],
                             "avg_wage": [81234.5, 85000.0, 60000.0, 61000.25, 55000.0, 56000.0, 40000.0, None],
                             "investment": [-1.5, 2.25e9, 0.0, 1e-3, 3.0, None, 4.0, 5.0]})
    sectors = pd.DataFrame({"sector": ["X1"], "section": ["C"]})
    return TownData.from_tables(towns, employment, firms=firms, groups=groups, links=links, outcomes=outcomes,
                                sectors=sectors, source="minimal")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    data = minimal_data()
    root = tmp_path_factory.mktemp("fuzz")
    tio.write_dataset(data, root / "csv")
    tio.write_dataset(data, root / "parquet", fmt="parquet")
    return data, root


# ------------------------------------------------------------------------------- mutations
@dataclass
class Mutation:
    """What a mutation did: the file a message must name, the column (or None), and what may
    legitimately differ when the dataset still validates."""

    what: str
    file: str
    column: str | None = None
    also: tuple = ()  # other ways a message may name the column (its new name, its position)
    touched: set = field(default_factory=set)  # (table, column) whose values may differ
    tables_touched: set = field(default_factory=set)  # tables whose values may all differ
    dropped: set = field(default_factory=set)  # tables that may be absent
    prefix_of: str | None = None  # table whose rows may be a prefix of the original (CSV truncated)
    structural: bool = False  # may break the file's records: a line-level message names no column
    cells: list = field(default_factory=list)  # (table, column, row, value written) of changed cells


CELL_TOKENS = ["", " ", "NA", "NaN", "nan", "null", "None", "<NA>", "N/A", "inf", "-inf", "Infinity", "1e308",
               "-1e308", "9.99e307", "1e20", "1e15", "-5", "-0.0", "0", "1,5", "1 234,5", "11.437", "1.234.567",
               "…", "-", "x", "к", "true", "2012.5", "20120", "1799", "01", "1", "1e-320", "0x10", "1_000",
               "１２３", "٣", '"', '""', "a,b", "a;b", "a\tb", "a\nb", "a\rb", "\ufeff", "\x00", "Ё", "💥",
               "  64.5  ", "+3", "1e5", "01701000", "99999999", "G1", "B", "47", "X1", "rural", "town",
               "2019", "2020"]
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
CELL = st.one_of(st.sampled_from(CELL_TOKENS), TEXT, st.floats().map(repr),
                 st.integers(min_value=-10**30, max_value=10**30).map(str))


def _read_rows(f: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(f.read_text(encoding="utf-8"), newline="")))


def _write_rows(f: Path, rows, sep=",", quote_all=False, newline="\n", raw_cells=frozenset()) -> None:
    """CSV as a spreadsheet writes it: a field holding the separator, a quote or a line break
    ('\r' too, which the csv module leaves bare) in double quotes; the cells in ``raw_cells``
    (row, column) verbatim, never quoted."""
    def field(v: str, cell) -> str:
        if cell in raw_cells or not (quote_all or any(c in v for c in (sep, '"', "\n", "\r"))):
            return v
        return '"' + v.replace('"', '""') + '"'

    lines = [sep.join(field(v, (i, j)) for j, v in enumerate(r)) for i, r in enumerate(rows)]
    f.write_bytes((newline.join(lines) + newline).encode("utf-8"))


def mutate_csv(d: Path, draw) -> Mutation:
    files = sorted(d.glob("*.csv"))
    f = draw(st.sampled_from(files))
    table = f.stem
    rows = _read_rows(f)
    header, body = rows[0], rows[1:]
    kind = draw(st.sampled_from(["delete_column", "repeat_column", "rename_column", "cells", "raw_cell",
                                 "separator", "encoding", "line_ends", "quote_all", "blank_lines", "truncate",
                                 "drop_file", "rename_file", "add_file", "binary"]))
    if kind in ("delete_column", "repeat_column", "rename_column", "cells", "raw_cell"):
        j = draw(st.integers(0, len(header) - 1))
        col = header[j]
        m = Mutation(kind, f.name, col, touched={(table, col)})
        if kind == "delete_column":
            rows = [r[:j] + r[j + 1:] for r in rows]
        elif kind == "repeat_column":
            k = draw(st.integers(0, len(header)))
            rows = [r[:k] + [r[j]] + r[k:] for r in rows]
        elif kind == "rename_column":
            new = draw(st.one_of(st.sampled_from(["", " ", col.upper(), col + " ", "x", "lat", "town_id",
                                                  "\ufeff" + col]), TEXT))
            rows = [[*header[:j], new, *header[j + 1:]], *body]
            m.touched.add((table, new.strip().lstrip("\ufeff")))
            m.also = (new, f"column {j + 1} ")
        else:
            which = draw(st.lists(st.integers(0, len(body) - 1), min_size=1, max_size=3, unique=True))
            for i in which:
                body[i][j] = draw(CELL)
                m.cells.append((table, col, i, body[i][j]))
            rows = [header, *body]
        if kind == "raw_cell":
            _write_rows(f, rows, raw_cells={(i + 1, j) for i in which})
            m.structural = True  # a separator or newline in an unquoted value splits the line
        else:
            _write_rows(f, rows)
        return m
    m = Mutation(kind, f.name, tables_touched=set())
    if kind == "separator":
        _write_rows(f, rows, sep=draw(st.sampled_from([";", "\t"])))
    elif kind == "encoding":
        enc = draw(st.sampled_from(["utf-8-sig", "utf-16", "utf-32", "cp1251", "utf-16-le"]))
        text = f.read_text(encoding="utf-8")
        try:
            f.write_bytes(text.encode(enc))
        except UnicodeEncodeError:  # a character cp1251 cannot hold: nothing written
            pass
    elif kind == "line_ends":
        _write_rows(f, rows, newline=draw(st.sampled_from(["\r\n", "\r"])))
    elif kind == "quote_all":
        _write_rows(f, rows, quote_all=True)
    elif kind == "blank_lines":
        at = draw(st.integers(1, len(rows)))
        text = f.read_text(encoding="utf-8").split("\n")
        text[at:at] = [draw(st.sampled_from(["", "   ", "\t"]))]
        f.write_text("\n".join(text), encoding="utf-8")
    elif kind == "truncate":
        raw = f.read_bytes()
        cut = draw(st.integers(0, len(raw) - 1))
        f.write_bytes(raw[:cut])
        m.prefix_of = table
    elif kind == "drop_file":
        f.unlink()
        m.dropped.add(table)
        m.file = f"{table}.csv"
    elif kind == "rename_file":
        new = draw(st.sampled_from([f"{table}.xlsx", f"{table}.txt", f"{table}.csv.gz", f"{table.title()}.csv",
                                    f"{table}.tsv", f"{table}.json", f"{table}.parquet"]))
        f.rename(d / new)
        m.file = new
        m.tables_touched.add(table)  # a Parquet file holding CSV text is reported, nothing else
    elif kind == "add_file":
        new = draw(st.sampled_from(["notes.txt", "extra.csv", "towns_backup.xlsx", "README", ".hidden.csv"]))
        (d / new).write_bytes(draw(st.binary(max_size=64)))
        m.file = new
    elif kind == "binary":
        import gzip

        what = draw(st.sampled_from(["parquet", "gzip", "zip", "random"]))
        raw = f.read_bytes()
        if what == "parquet":
            pd.read_csv(f, dtype=str).to_parquet(f)
        elif what == "gzip":
            f.write_bytes(gzip.compress(raw))
        elif what == "zip":
            f.write_bytes(b"PK\x03\x04" + raw)
        else:
            f.write_bytes(draw(st.binary(min_size=1, max_size=200)))
    m.tables_touched.add(table)
    if kind in ("separator", "line_ends", "quote_all", "blank_lines", "encoding"):
        m.tables_touched.discard(table)  # a change of form only: every value must read back exactly
    return m


def _swap_type(s: pd.Series, to: str) -> pd.Series:
    if to == "int":
        return pd.to_numeric(s, errors="coerce").round().astype("Int64")
    if to == "float":
        return pd.to_numeric(s, errors="coerce").astype(float)
    if to == "string":
        return s.astype("string")
    if to == "bool":
        return s.notna().astype(bool)
    if to == "timestamp":
        return pd.Series(pd.Timestamp("2020-01-01"), index=s.index)
    if to == "binary":
        return s.map(lambda v: str(v).encode(), na_action="ignore").astype(object)
    if to == "category":
        return s.astype("category")
    return s.map(lambda v: [v])  # list


def mutate_parquet(d: Path, draw) -> Mutation:
    files = sorted(d.glob("*.parquet"))
    f = draw(st.sampled_from(files))
    table = f.stem
    df = pd.read_parquet(f)
    kind = draw(st.sampled_from(["delete_column", "rename_column", "swap_type", "cells", "repeat_column",
                                 "truncate", "drop_file", "csv_inside"]))
    if kind in ("delete_column", "rename_column", "swap_type", "cells", "repeat_column"):
        col = draw(st.sampled_from(list(df.columns)))
        m = Mutation(kind, f.name, col, touched={(table, col)})
        if kind == "delete_column":
            df = df.drop(columns=col)
        elif kind == "rename_column":
            new = draw(st.one_of(st.sampled_from(["", col.upper(), "x", "lat"]), TEXT))
            df = df.rename(columns={col: new})
            m.touched.add((table, new.strip()))
            m.also = (new, f"column {list(df.columns).index(new) + 1} ")
        elif kind == "swap_type":
            df[col] = _swap_type(df[col], draw(st.sampled_from(
                ["int", "float", "string", "bool", "timestamp", "binary", "category", "list"])))
        elif kind == "cells":
            which = draw(st.lists(st.integers(0, len(df) - 1), min_size=1, max_size=3, unique=True))
            numeric = pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])
            values = st.one_of(st.floats(), st.sampled_from([1e308, -1.0, 1e10, 0.5])) if numeric else \
                st.one_of(st.none(), TEXT, st.sampled_from(CELL_TOKENS))
            s = df[col].astype(float if numeric else object)
            for i in which:
                s.iloc[i] = draw(values)
                m.cells.append((table, col, i, s.iloc[i]))
            df[col] = s
        if kind == "repeat_column":
            import pyarrow as pa
            import pyarrow.parquet as pq

            t = pa.Table.from_pandas(df, preserve_index=False)
            pq.write_table(t.append_column(col, t.column(col)), f)
        else:
            try:
                df.to_parquet(f, index=False)
            except Exception:  # a column pyarrow cannot store: the mutation is not possible
                m.touched.clear()
                m.column = None
        return m
    m = Mutation(kind, f.name, tables_touched={table})
    if kind == "truncate":
        raw = f.read_bytes()
        f.write_bytes(raw[:draw(st.integers(0, len(raw) - 1))])
    elif kind == "drop_file":
        f.unlink()
        m.dropped.add(table)
    else:
        df.to_csv(f, index=False)
    return m


# ------------------------------------------------------------------------------- properties
def _run_validate(path: Path):
    """``typology validate PATH`` in-process: exit code, stderr, and the dataset it read."""
    seen = {}
    real = tio.read_dataset

    def recording(p, *args, **kwargs):
        seen["data"] = real(p, *args, **kwargs)
        return seen["data"]

    err = io.StringIO()
    with mock.patch.object(tio, "read_dataset", recording), contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(["validate", str(path)])
        except BaseException:  # any escape is the failure being looked for
            pytest.fail(f"typology validate raised:\n{traceback.format_exc()}")
    return code, err.getvalue(), seen.get("data")


def _column_named(err: str, col: str) -> bool:
    col = col.strip().lstrip("\ufeff")
    if not col:
        return False
    return any(col in m for m in re.findall(r"column '([^']*)'", err)) or f"'{col}'" in err


def check_outcome(m: Mutation, path: Path, original: TownData) -> None:
    code, err, data = _run_validate(path)
    assert code in (0, 1), (m, code, err)
    assert "Traceback" not in err, err
    if code == 1:
        assert m.file in err, (m, err)
        line_level = m.structural and ("fields on every line" in err or "quoting" in err)
        if m.column is not None and not line_level:
            named = _column_named(err, m.column) or any(
                _column_named(err, a) or (a.startswith("column ") and a in err) for a in m.also)
            assert named, (m, err)
        return
    assert data is not None
    got = data.tables()
    for table, want in original.tables().items():
        if table in m.dropped and table not in got:
            continue
        if table in m.tables_touched and m.prefix_of != table:
            continue
        have = got[table]
        if m.prefix_of == table:
            # a CSV cut on a line break (or inside its last field) is a shorter valid file
            assert len(have) <= len(want), (m, len(have))
            n = max(len(have) - 1, 0)
            have, want = have.iloc[:n], want.iloc[:n]
        else:
            assert len(have) == len(want), (m, table, len(have), len(want))
        for c in want.columns:
            if (table, c) in m.touched:
                continue
            assert c in have.columns, (m, table, c, list(have.columns))
            pd.testing.assert_series_equal(have[c].reset_index(drop=True), want[c].reset_index(drop=True),
                                           check_dtype=False, check_exact=True, check_names=False,
                                           obj=f"{table}.{c} after {m}")
        # no column appears that was not written (a repeated header read as 'lat.1', say)
        written = set(want.columns) | {c for t, c in m.touched if t == table}
        assert set(have.columns) <= written, (m, table, sorted(set(have.columns) - written))
    for table, col, row, value in m.cells:
        _check_cell_read(m, table, col, got[table][col].iloc[row], value)


_NA = {"", "na", "nan", "n/a", "null", "none", "<na>"}


def _check_cell_read(m: Mutation, table: str, col: str, got, value) -> None:
    """A changed cell of a numeric column in a dataset that validated holds the number written,
    finite and within the contract's bounds; a missing value only where the column may be empty."""
    spec = SCHEMA[table]["columns"].get(col)
    if spec is None and SCHEMA[table]["extra"] == "number":
        spec = ColumnSpec("number", nullable=True, min=-AMOUNT_MAX, max=AMOUNT_MAX)
    if spec is None or spec.kind not in ("number", "year"):
        return
    missing = value is None or (isinstance(value, float) and np.isnan(value)) or \
        (isinstance(value, str) and value.strip().lower() in _NA)
    if missing:
        assert spec.nullable and pd.isna(got), (m, col, value, got)
        return
    try:
        x = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise AssertionError(f"{m}: {value!r} in {table}.{col} validated as {got!r}") from None
    assert np.isfinite(got) and got == x, (m, col, value, got)
    assert (spec.min is None or got >= spec.min) and (spec.max is None or got <= spec.max), (m, col, value, got)


@FUZZ
@given(fmt=st.sampled_from(["csv", "parquet"]), data=st.data())
def test_mutated_dataset_exits_0_or_1_naming_file_and_column(base, fmt, data):
    original, root = base
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        d = work / "ds"
        shutil.copytree(root / fmt, d)
        m = (mutate_csv if fmt == "csv" else mutate_parquet)(d, data.draw)
        check_outcome(m, d, original)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_unmutated_datasets_validate(base):
    original, root = base
    for fmt in ("csv", "parquet"):
        code, err, data = _run_validate(root / fmt)
        assert code == 0, err
        for table, want in original.tables().items():
            pd.testing.assert_frame_equal(data.tables()[table], want, check_dtype=False, check_exact=True)
    assert np.isnan(data.employment["employment"].iloc[5])
