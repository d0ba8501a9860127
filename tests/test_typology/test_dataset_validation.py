"""The data contract at the file boundary: a corpus of broken datasets, locale exports, formats.

Each broken dataset is a valid small synthetic dataset with one defect written into one file.
``typology validate`` must exit 1 with a message naming the file and the column (or the file
alone for file-level defects) and must not print a traceback.
"""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.validation import DataValidationError
from typology.cli import main
from typology.data.io import read_dataset, write_dataset


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
    # implausible magnitudes (bounds of features.validation: counts < 1e10, amounts <= 1e15)
    ("employment of 1e308", "employment", _set("employment", "1e308"), "employment.csv", "employment"),
    ("firm employees above the world population", "firms", _set("employees", "2e10"), "firms.csv", "employees"),
    ("town population of 1e12", "towns", _set("population", "1e12"), "towns.csv", "population"),
    ("outcome population of 1e300", "outcomes", _set("population", "1e300"), "outcomes.csv", "population"),
    ("negative outcome population", "outcomes", _set("population", "-5"), "outcomes.csv", "population"),
    ("outcome of 1e300", "outcomes", _set("investment", "1e300"), "outcomes.csv", "investment"),
    ("outcome of -1e300", "outcomes", _set("investment", "-1e300"), "outcomes.csv", "investment"),
    ("wage of 1e200", "employment", _set("wage", "1e200"), "employment.csv", "wage"),
    ("firm revenue of 1e200", "firms", _set("revenue", "1e200"), "firms.csv", "revenue"),
    ("area larger than the Earth", "towns", _set("area_km2", "1e9"), "towns.csv", "area_km2"),
    ("huge link weight", None, "links_huge", "links.csv", "weight"),
    # a required value written as a missing-value token
    ("NaN firm employees", "firms", _set("employees", "NaN"), "firms.csv", "employees"),
    ("NA link weight", None, "links_na", "links.csv", "weight"),
    ("NaN latitude", "towns", _set("lat", "NaN"), "towns.csv", "lat"),
    ("null longitude", "towns", _set("lon", "null"), "towns.csv", "lon"),
    ("NaN year", "employment", _set("year", "NaN"), "employment.csv", "year"),
    ("NA year of a firm", "firms", _set("year", "NA"), "firms.csv", "year"),
]


@pytest.mark.parametrize("case,table,edit,file,column", CORPUS, ids=[c[0] for c in CORPUS])
def test_broken_dataset_exits_1_naming_file_and_column(valid_dir, tmp_path, capsys, case, table, edit, file, column):
    d = _copy(valid_dir, tmp_path)
    if edit == "delete":
        (d / f"{table}.csv").unlink()
    elif edit in ("links", "links_huge", "links_na"):
        towns = pd.read_csv(d / "towns.csv", dtype=str)
        bad = {"links": "-2", "links_huge": "1e300", "links_na": "NA"}[edit]
        pd.DataFrame({"source_town_id": towns["town_id"][:2].tolist(), "target_town_id": towns["town_id"][2:4].tolist(),
                      "weight": ["3", bad]}).to_csv(d / "links.csv", index=False)
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


# ---------------------------------------------------------------------------------------------
# Columns: repeated and unnamed header fields
def test_repeated_header_names_both_positions(valid_dir, tmp_path, capsys):
    d = _copy(valid_dir, tmp_path)
    lines = (d / "towns.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("town_id,name,region,")
    lines[0] = lines[0].replace("region", "name", 1)  # columns 2 and 3 are both 'name'
    (d / "towns.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = [q for q in info.value.problems if q.column == "name"]
    assert p.file == "towns.csv" and "columns 2 and 3" in p.found
    # the renamed column is reported missing in the same pass
    assert [q.column for q in info.value.problems if q.file == "towns.csv"] == ["name", "region"]
    assert main(["validate", str(d)]) == 1
    assert "columns 2 and 3" in capsys.readouterr().err


def test_unnamed_column_with_values_is_an_error_without_values_a_note(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    text = (d / "groups.csv").read_text(encoding="utf-8").splitlines()
    (d / "groups.csv").write_text("\n".join(line + "," for line in text) + "\n", encoding="utf-8")
    data = read_dataset(d)  # a trailing separator on every line: an empty, unnamed column
    assert list(data.groups.columns) == text[0].split(",")
    assert any("groups.csv: column 5 has neither a name nor values" in n for n in data.notes)
    text[2] += ",surprise"
    (d / "groups.csv").write_text("\n".join(line + ("" if i == 2 else ",") for i, line in enumerate(text)) + "\n",
                                  encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert p.file == "groups.csv" and "column 5 has none" in p.expected and p.rows == (3,)


# ---------------------------------------------------------------------------------------------
# Required values: a cell without a value is an error whatever the token
@pytest.mark.parametrize("token", ["", "NA", "NaN", "nan", "null", "None", "<NA>", "N/A"])
@pytest.mark.parametrize("table,column", [("towns", "lat"), ("towns", "lon"), ("firms", "employees"),
                                          ("employment", "year"), ("outcomes", "year")])
def test_required_value_missing_under_any_token_is_an_error(valid_dir, tmp_path, token, table, column):
    d = _copy(valid_dir, tmp_path)
    _edit(d, table, _set(column, token, rows=(3,)))
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert (p.file, p.column, p.rows) == (f"{table}.csv", column, (5,))
    assert "every row" in p.expected


def test_na_token_in_a_nullable_column_is_missing_with_a_note(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    _edit(d, "employment", _set("employment", "NA", rows=(2,)))
    data = read_dataset(d)
    assert np.isnan(data.employment["employment"].iloc[2])
    assert any("employment.csv, column 'employment': 1 cell(s) written as NA/NaN" in n for n in data.notes)


def test_missing_value_in_typed_parquet_flag_is_an_error(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    towns = read_dataset(d).towns
    (d / "towns.csv").unlink()
    towns["north"] = towns["north"].astype("boolean")
    towns.loc[4, "north"] = pd.NA
    towns.to_parquet(d / "towns.parquet")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert (p.file, p.column, p.rows) == ("towns.parquet", "north", (5,))


# ---------------------------------------------------------------------------------------------
# Decimal marks of ';'-separated files (rule in features.validation's docstring)
def test_dot_thousands_in_a_decimal_comma_file_is_rejected(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    _russian_export(d, "outcomes", "utf-8")  # avg_wage and investment now hold decimal commas
    lines = (d / "outcomes.csv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split(";")
    row = lines[1].split(";")
    row[head.index("population")] = "11.437"  # a dot grouping thousands: 11437, never 11.437
    lines[1] = ";".join(row)
    (d / "outcomes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert (p.file, p.column, p.rows) == ("outcomes.csv", "population", (2,))
    assert "'11.437'" in p.found and "thousands" in p.expected


def test_dot_thousands_in_a_semicolon_file_without_decimal_commas_is_ambiguous(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    out = pd.read_csv(d / "outcomes.csv", dtype=str, keep_default_na=False)
    out["population"] = out["population"].str.replace(".0", "", regex=False)  # whole numbers, no mark
    out.loc[0, "population"] = "11.437"
    out.to_csv(d / "outcomes.csv", sep=";", index=False)  # avg_wage keeps '.' decimals: 49428.89
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert (p.file, p.column, p.rows) == ("outcomes.csv", "population", (2,))
    assert "11437" in p.expected and "11.437" in p.expected


def test_semicolon_file_with_dot_decimals_reads_exactly_with_a_note(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    ref = read_dataset(d)
    for table in ("towns", "outcomes", "firms"):
        df = pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)
        df.to_csv(d / f"{table}.csv", sep=";", index=False)  # what pandas.to_csv(sep=";") writes
    got = read_dataset(d)
    for table in ("towns", "outcomes", "firms"):
        pd.testing.assert_frame_equal(got.tables()[table], ref.tables()[table])
    assert any("towns.csv, column 'lat'" in n and "'.' read as the decimal mark" in n for n in got.notes)


# ---------------------------------------------------------------------------------------------
# Files saved under another name or format, binary files under a .csv name
@pytest.mark.parametrize("name,advice", [
    ("towns.xlsx", "pandas.read_excel('towns.xlsx', dtype=str).to_csv('towns.csv'"),
    ("towns.xls", "CSV UTF-8"), ("towns.ods", "CSV UTF-8"),
    ("towns.json", "pandas.read_json"), ("towns.txt", "rename it to towns.csv"),
    ("towns.tsv", "rename it to towns.csv"), ("towns.csv.gz", "decompress it"),
    ("Towns.csv", "case-sensitive"), ("towns.pq", "rename it to towns.parquet"),
])
def test_table_under_another_name_is_named_with_advice(valid_dir, tmp_path, capsys, name, advice):
    d = _copy(valid_dir, tmp_path)
    (d / "towns.csv").rename(d / name)
    assert main(["validate", str(d)]) == 1
    err = capsys.readouterr().err
    assert name in err and advice in err, err
    assert "no such file" not in err and "Traceback" not in err


def test_optional_table_under_another_name_is_not_ignored(valid_dir, tmp_path, capsys):
    d = _copy(valid_dir, tmp_path)
    (d / "firms.csv").rename(d / "firms.xlsx")
    assert main(["validate", str(d)]) == 1
    assert "firms.xlsx" in capsys.readouterr().err


def _zip_workbook() -> bytes:
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


@pytest.mark.parametrize("kind,content,says", [
    ("parquet", lambda d: pd.read_csv(d / "towns.csv", dtype=str).to_parquet(), "a Parquet file"),
    ("xlsx", lambda d: _zip_workbook(), "Excel .xlsx"),
    ("gzip", lambda d: gzip.compress((d / "towns.csv").read_bytes()), "gzip-compressed"),
    ("utf-16 without BOM", lambda d: (d / "towns.csv").read_text().encode("utf-16-le"), "UTF-16"),
    ("binary", lambda d: bytes(range(256)), "binary data"),
])
def test_binary_file_named_csv_says_what_it_is(valid_dir, tmp_path, kind, content, says):
    d = _copy(valid_dir, tmp_path)
    (d / "towns.csv").write_bytes(content(d))
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert p.file == "towns.csv" and says in p.found, p.found
    assert "undecodable" not in p.found


def test_csv_named_parquet_says_it_is_text(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    (d / "towns.csv").rename(d / "towns.parquet")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert p.file == "towns.parquet" and "rename it to towns.csv" in p.found


# ---------------------------------------------------------------------------------------------
# Line numbers are physical lines; every line has the header's fields
def test_line_numbers_count_physical_lines_after_a_quoted_newline(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    towns = pd.read_csv(d / "towns.csv", dtype=str, keep_default_na=False)
    towns.loc[0, "name"] = "Нарьян-Мар,\nгород"  # quoted: a separator and a newline inside
    towns.loc[2, "lat"] = "north"
    towns.to_csv(d / "towns.csv", index=False)
    lines = (d / "towns.csv").read_text(encoding="utf-8").split("\n")
    assert lines[4].split(",")[3] == "north"  # the bad value is on physical line 5
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert (p.column, p.rows) == ("lat", (5,))


def test_line_numbers_count_blank_lines(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    lines = (d / "employment.csv").read_text(encoding="utf-8").split("\n")
    parts = lines[6].split(",")
    parts[3] = "-1"
    lines[6] = ",".join(parts)
    lines[3:3] = ["", "   "]  # two blank lines: the bad row moves to physical line 9
    (d / "employment.csv").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert (p.column, p.rows) == ("employment", (9,))


def test_truncated_line_is_an_error_not_a_suppressed_cell(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    text = (d / "employment.csv").read_text(encoding="utf-8").rstrip("\n")
    n_lines = text.count("\n") + 1
    cut = text[: text.rindex(",")]  # the file ends before the last employment value
    (d / "employment.csv").write_text(cut, encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert p.file == "employment.csv" and p.rows == (n_lines,)
    assert "4 fields on every line" in p.expected and "3 field(s)" in p.found


def test_unclosed_quote_names_the_line_it_opens(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    lines = (d / "groups.csv").read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3].replace(",Group", ',"Group', 1)
    (d / "groups.csv").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert p.file == "groups.csv" and p.rows == (4,) and "never closed" in p.found


# ---------------------------------------------------------------------------------------------
# Found by tests/test_typology/test_fuzz_datasets.py
def test_nul_character_names_line_and_column(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    _edit(d, "towns", _set("region", "Komi\x00", rows=(2,)))
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert (p.file, p.column, p.rows) == ("towns.csv", "region", (4,))


def test_parquet_with_a_repeated_column_names_both_positions(valid_dir, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = _copy(valid_dir, tmp_path)
    g = pd.read_csv(d / "groups.csv", dtype=str, keep_default_na=False)
    (d / "groups.csv").unlink()
    t = pa.Table.from_pandas(g, preserve_index=False)
    pq.write_table(t.append_column("hq_town_id", t.column("hq_town_id")), d / "groups.parquet")
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert (p.file, p.column) == ("groups.parquet", "hq_town_id") and "columns 2 and 5" in p.found


def test_unknown_identifiers_name_the_file_that_lists_them(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    _edit(d, "employment", _set("town_id", "99999999"))
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert p.expected == "identifiers listed in the town_id column of towns.csv"


def test_repeated_firm_ids_without_year_name_the_missing_year_column(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    _edit(d, "firms", lambda df: df.drop(columns="year"))
    with pytest.raises(DataValidationError) as info:
        read_dataset(d)
    (p,) = info.value.problems
    assert p.column == "firm_id" and "'year'" in p.found


def test_utf32_with_byte_order_mark_reads_exactly(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    ref = read_dataset(d)
    (d / "towns.csv").write_bytes((d / "towns.csv").read_text(encoding="utf-8").encode("utf-32"))
    got = read_dataset(d)
    pd.testing.assert_frame_equal(got.towns, ref.towns)
    assert any("towns.csv: read as UTF-32" in n for n in got.notes)


def test_file_without_final_line_break_is_noted(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    (d / "groups.csv").write_text((d / "groups.csv").read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")
    assert any("groups.csv: the last line has no line break" in n for n in read_dataset(d).notes)


def test_line_break_inside_a_quoted_value_is_kept_as_written(valid_dir, tmp_path):
    d = _copy(valid_dir, tmp_path)
    g = pd.read_csv(d / "groups.csv", dtype=str, keep_default_na=False)
    g.loc[1, "name"] = "Group one\r\nsecond line"  # an Excel cell with a line break, in a CRLF file
    g.to_csv(d / "groups.csv", index=False, lineterminator="\r\n")
    assert b'"Group one\r\nsecond line"' in (d / "groups.csv").read_bytes()
    assert read_dataset(d).groups["name"].iloc[1] == "Group one\r\nsecond line"
