"""The data contract at the file boundary: a corpus of broken datasets, locale exports, formats.

Each broken dataset is a valid small synthetic dataset with one defect written into one file.
``typology validate`` must exit 1 with a message naming the file and the column (or the file
alone for file-level defects) and must not print a traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.validation import DataValidationError
from typology.cli import main
from typology.io import read_dataset, write_dataset


@pytest.fixture(scope="module")
def valid_dir(tmp_path_factory, small_synthetic):
    d = tmp_path_factory.mktemp("valid") / "ds"
    write_dataset(small_synthetic.data, d)
    return d


def _copy(valid_dir: Path, tmp_path: Path) -> Path:
    d = tmp_path / "ds"
    shutil.copytree(valid_dir, d)
    return d


def _edit(d: Path, table: str, fn) -> None:
    f = d / f"{table}.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df = fn(df)
    df.to_csv(f, index=False)


def _set(col, value, rows=(0,)):
    def fn(df):
        df = df.copy()
        for r in rows:
            df.loc[r, col] = value
        return df
    return fn


# (case id, table, edit, file named in the message, column named in the message or None)
CORPUS = [
    ("missing towns file", "towns", "delete", "towns.csv", None),
    ("missing employment file", "employment", "delete", "employment.csv", None),
    ("missing column", "towns", lambda df: df.drop(columns="lat"), "towns.csv", "lat"),
    ("empty table", "employment", lambda df: df.iloc[0:0], "employment.csv", None),
    ("duplicate employment keys", "employment", lambda df: pd.concat([df, df.iloc[[3]]]), "employment.csv", "town_id, year, sector"),
    ("duplicate town ids", "towns", lambda df: pd.concat([df, df.iloc[[2]]]), "towns.csv", "town_id"),
    ("unknown town in employment", "employment", _set("town_id", "99999999"), "employment.csv", "town_id"),
    ("unknown town in firms", "firms", _set("town_id", "99999999"), "firms.csv", "town_id"),
    ("unknown town in outcomes", "outcomes", _set("town_id", "99999999"), "outcomes.csv", "town_id"),
    ("negative employment", "employment", _set("employment", "-5"), "employment.csv", "employment"),
    ("negative firm employees", "firms", _set("employees", "-1"), "firms.csv", "employees"),
    ("text in numbers", "employment", _set("employment", "abc"), "employment.csv", "employment"),
    ("Rosstat confidentiality mark", "employment", _set("employment", "…"), "employment.csv", "employment"),
    ("fractional year", "employment", _set("year", "2012.5"), "employment.csv", "year"),
    ("year out of range", "outcomes", _set("year", "20120"), "outcomes.csv", "year"),
    ("latitude out of range", "towns", _set("lat", "95.0"), "towns.csv", "lat"),
    ("longitude out of range", "towns", _set("lon", "-200"), "towns.csv", "lon"),
    ("firms point at unknown groups", "firms", _set("group_id", "NOSUCHGROUP"), "firms.csv", "group_id"),
    ("group headquarters unknown", "groups", _set("hq_town_id", "99999999"), "groups.csv", "hq_town_id"),
    ("sector with lost leading zero", "employment", _set("sector", "1"), "employment.csv", "sector"),
    ("unknown sector code", "firms", _set("sector", "ZZ"), "firms.csv", "sector"),
    ("bad kind", "towns", _set("kind", "village"), "towns.csv", "kind"),
    ("bad boolean", "towns", _set("north", "maybe"), "towns.csv", "north"),
    ("empty identifier", "towns", _set("town_id", ""), "towns.csv", "town_id"),
    ("quoted decimal comma in a comma file", "outcomes", _set("avg_wage", "41234,5"), "outcomes.csv", "avg_wage"),
    ("non-numeric outcome column", "outcomes", lambda df: df.assign(note="text"), "outcomes.csv", "note"),
    ("negative link weight", None, "links", "links.csv", "weight"),
    ("groups file missing for grouped firms", "groups", "delete", "firms.csv", "group_id"),
    ("section and its division in one town-year", None, "mixed", "employment.csv", "sector"),
    ("zero area", "towns", _set("area_km2", "0"), "towns.csv", "area_km2"),
]


@pytest.mark.parametrize("case,table,edit,file,column", CORPUS, ids=[c[0] for c in CORPUS])
def test_broken_dataset_exits_1_naming_file_and_column(valid_dir, tmp_path, capsys, case, table, edit, file, column):
    d = _copy(valid_dir, tmp_path)
    if edit == "delete":
        (d / f"{table}.csv").unlink()
    elif edit == "links":
        towns = pd.read_csv(d / "towns.csv", dtype=str)
        pd.DataFrame({"source_town_id": towns["town_id"][:2].tolist(), "target_town_id": towns["town_id"][2:4].tolist(),
                      "weight": ["3", "-2"]}).to_csv(d / "links.csv", index=False)
    elif edit == "mixed":
        emp = pd.read_csv(d / "employment.csv", dtype=str, keep_default_na=False)
        r = emp[emp["sector"] == "47"].iloc[0]
        extra = r.copy()
        extra["sector"] = "G"
        pd.concat([emp, extra.to_frame().T]).to_csv(d / "employment.csv", index=False)
    else:
        _edit(d, table, edit)
    code = main(["validate", str(d)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    assert file in err, err
    if column is not None:
        assert f"column '{column}'" in err, err
    assert "expected" in err and "found" in err


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 15


def test_rows_are_reported_as_file_lines(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    _edit(d, "employment", _set("employment", "-7", rows=(4, 9)))
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    # data rows 4 and 9 (0-based) are lines 6 and 11 of the file: the header is line 1
    assert p.rows == (6, 11)
    assert p.file == "employment.csv" and p.column == "employment"
    assert "'-7'" in p.found


def test_every_problem_reported_in_one_pass(valid_dir, tmp_path, capsys):
    d = _copy(valid_dir, tmp_path)
    _edit(d, "towns", _set("lat", "123"))
    _edit(d, "employment", _set("year", "2011.25"))
    _edit(d, "firms", _set("employees", "many"))
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    files = {(p.file, p.column) for p in info.value.problems}
    assert {("towns.csv", "lat"), ("employment.csv", "year"), ("firms.csv", "employees")} <= files
    assert main(["validate", str(d)]) == 1
    err = capsys.readouterr().err
    assert "3 problem(s)" in err


def test_suppressed_cells_validate_and_stay_missing(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    emp = pd.read_csv(d / "employment.csv", dtype=str, keep_default_na=False)
    emp.loc[emp.index[:7], "employment"] = ""
    n_empty = int((emp["employment"] == "").sum())
    emp.to_csv(d / "employment.csv", index=False)
    data = read_dataset(d)
    # every empty cell is read as suppressed (missing), none as zero, and no row is dropped
    assert int(data.employment["employment"].isna().sum()) == n_empty
    assert len(data.employment) == len(emp)
    assert (data.employment["employment"].dropna() > 0).all()
    assert any("suppressed" in n for n in data.notes)
    assert main(["validate", str(d)]) == 0


def test_valid_dataset_round_trips_exactly(valid_dir, small_synthetic):
    data = read_dataset(valid_dir)
    for name, df in small_synthetic.data.tables().items():
        got = data.tables()[name]
        pd.testing.assert_frame_equal(got.reset_index(drop=True), df.reset_index(drop=True), check_dtype=False)


def test_parquet_dataset_reads_like_csv(tmp_path, small_synthetic, valid_dir):
    write_dataset(small_synthetic.data, tmp_path / "pq", fmt="parquet")
    a = read_dataset(tmp_path / "pq")
    b = read_dataset(valid_dir)
    for name in a.table_names:
        pd.testing.assert_frame_equal(a.tables()[name], b.tables()[name], check_dtype=False)


def test_csv_and_parquet_of_one_table_is_an_error(valid_dir, tmp_path, capsys):
    d = _copy(valid_dir, tmp_path)
    pd.read_csv(d / "groups.csv", dtype=str).to_parquet(d / "groups.parquet")
    assert main(["validate", str(d)]) == 1
    assert "groups.csv, groups.parquet" in capsys.readouterr().err


def _russian_export(d: Path, table: str, encoding: str, bom: bool = False) -> pd.DataFrame:
    """Rewrite a table as a Russian-locale spreadsheet export: ';' separator, decimal commas,
    spaces grouping thousands; returns the original text table."""
    df = pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)
    ru = df.copy()
    for c in ru.columns:
        if c in ("town_id", "firm_id", "group_id", "sector", "hq_town_id", "year"):
            continue
        vals = ru[c]
        num = pd.to_numeric(vals, errors="coerce")
        if num.notna().sum() == 0:
            continue
        big = num.abs() >= 1000
        txt = vals.str.replace(".", ",", regex=False)
        # group thousands with a (non-breaking) space in the integer part of large values
        ints = txt.str.extract(r"^(-?\d+)(,\d+)?$")
        grouped = ints[0].fillna("").map(lambda s: f"{int(s):,}".replace(",", "\u00a0") if s else s) + ints[1].fillna("")
        ru[c] = np.where(big & ints[0].notna(), grouped, txt)
    text = ru.to_csv(index=False, sep=";")
    raw = text.encode(encoding)
    if bom:
        raw = b"\xef\xbb\xbf" + raw
    (d / f"{table}.csv").write_bytes(raw)
    return df


@pytest.mark.parametrize("encoding,bom", [("cp1251", False), ("utf-8", True), ("utf-8", False)])
def test_russian_locale_exports_are_read_correctly(valid_dir, tmp_path, encoding, bom):
    d = _copy(valid_dir, tmp_path)
    # a Cyrillic name to make the encoding matter
    towns = pd.read_csv(d / "towns.csv", dtype=str, keep_default_na=False)
    towns.loc[0, "name"] = "Воркута"
    towns.loc[1, "region"] = "Республика Коми"
    towns.to_csv(d / "towns.csv", index=False)
    ref = read_dataset(d)
    for table in ("towns", "outcomes", "firms"):
        _russian_export(d, table, encoding, bom)
    got = read_dataset(d)
    for table in ("towns", "outcomes", "firms"):
        pd.testing.assert_frame_equal(got.tables()[table], ref.tables()[table], check_dtype=False)
    assert got.towns["name"].iloc[0] == "Воркута"
    if encoding == "cp1251":
        assert any("cp1251" in n for n in got.notes)


def test_ambiguous_decimal_marks_are_rejected(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    _russian_export(d, "outcomes", "utf-8")
    text = (d / "outcomes.csv").read_text(encoding="utf-8").splitlines()
    head, first = text[0], text[1].split(";")
    col = head.split(";").index("avg_wage")
    first[col] = "1.234,5"  # a German-style thousands dot beside a decimal comma
    text[1] = ";".join(first)
    (d / "outcomes.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    assert any(p.column == "avg_wage" and "1.234,5" in p.found for p in info.value.problems)


def test_decimal_comma_in_comma_file_is_a_field_count_problem(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    lines = (d / "outcomes.csv").read_text().splitlines()
    parts = lines[3].split(",")
    parts[-1] = parts[-1].replace(".", ",") if "." in parts[-1] else parts[-1] + ",5"
    lines[3] = ",".join(parts)
    (d / "outcomes.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    msg = str(info.value)
    assert "outcomes.csv" in msg and "separator" in msg


def test_typed_parquet_ids_as_floats_are_rejected(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    g = pd.read_csv(d / "groups.csv", dtype=str, keep_default_na=False)
    (d / "groups.csv").unlink()
    g["hq_town_id"] = g["hq_town_id"].astype(float)
    g.to_parquet(d / "groups.parquet")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    assert any(p.file == "groups.parquet" and p.column == "hq_town_id" for p in info.value.problems)


def test_town_data_is_immutable(small_synthetic):
    data = small_synthetic.data
    t = data.towns
    t.loc[0, "lat"] = 0.0
    assert data.towns.loc[0, "lat"] != 0.0
    with pytest.raises(AttributeError):
        data.towns = t


def test_validate_cli_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2


def test_console_script_exit_codes(valid_dir, tmp_path):
    exe = Path(sys.executable).with_name("typology")
    d = _copy(valid_dir, tmp_path)
    ok = subprocess.run([str(exe), "validate", str(d)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    (d / "towns.csv").unlink()
    bad = subprocess.run([str(exe), "validate", str(d)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "towns.csv" in bad.stderr and "Traceback" not in bad.stderr
    usage = subprocess.run([str(exe), "validate"], capture_output=True, text=True)
    assert usage.returncode == 2
