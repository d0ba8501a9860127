"""A firm registry read out of core from a folder of Parquet files (typology.aggregate_registry)
gives exactly the features of the in-memory firms table.

The reference is the in-memory path itself (``features.corporate``: classify_groups,
firm_years, ownership_edges, corporate_ties on the firms table): every comparison is
``assert_frame_equal(..., check_exact=True)``.
"""

from __future__ import annotations

import pickle
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import typology
from features import FeatureBuilder, TownData, build_features, corporate_events
from features.firm_registry import RegistryAggregates, aggregate_firms
from features.validation import DataValidationError
from typology.data.io import read_dataset_hashed

pl = pytest.importorskip("polars")


def write_registry(firms: pd.DataFrame, folder, by: str | None = "year", parts: int = 2) -> None:
    """``firms`` as a folder of Parquet files: hive-partitioned ``by`` a column (its values in the
    folder names, not in the files), each partition split into ``parts`` files."""
    folder.mkdir(parents=True)
    if by is None:
        for i, chunk in enumerate(np.array_split(np.arange(len(firms)), parts)):
            firms.iloc[chunk].to_parquet(folder / f"part-{i}.parquet", index=False)
        return
    for key, part in firms.groupby(by, sort=True):
        d = folder / f"{by}={key}"
        d.mkdir()
        rest = part.drop(columns=by) if by == "year" else part
        for i, chunk in enumerate(np.array_split(np.arange(len(rest)), parts)):
            rest.iloc[chunk].to_parquet(d / f"part-{i}.parquet", index=False)


def assert_same_features(data_mem: TownData, data_agg: TownData, **params) -> None:
    """Features, the fitted network and group classification, and scoring across the two forms."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_frame_equal(build_features(data_agg, **params), build_features(data_mem, **params), check_exact=True)
        b_mem, b_agg = FeatureBuilder(**params).fit(data_mem), FeatureBuilder(**params).fit(data_agg)
        for attr in ("edges_", "groups_table_"):
            if getattr(b_mem, attr) is None:
                assert getattr(b_agg, attr) is None
            else:
                assert_frame_equal(getattr(b_agg, attr), getattr(b_mem, attr), check_exact=True)
        assert_frame_equal(b_mem.transform(data_agg), b_mem.transform(data_mem), check_exact=True)
        assert_frame_equal(b_agg.transform(data_mem), b_mem.transform(data_mem), check_exact=True)


@pytest.fixture(scope="module")
def synth():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return typology.generate(n_towns=150, seed=3).data


def test_synthetic_registry_from_parquet_folder_equals_in_memory(synth, tmp_path):
    write_registry(synth.firms, tmp_path / "firms", by="year")
    reg = typology.aggregate_registry(tmp_path / "firms", towns=synth.towns, groups=synth.groups)
    ref = aggregate_firms(synth.firms)
    assert_frame_equal(reg.employers, ref.employers, check_exact=True)
    assert_frame_equal(reg.presence, ref.presence, check_exact=True)
    assert reg.sectors == ref.sectors and reg.years == ref.years and reg.n_rows == len(synth.firms)
    assert_same_features(synth, synth.replace(firms=reg))


def test_read_dataset_uses_the_out_of_core_path_for_a_firms_folder(synth, tmp_path):
    typology.write_dataset(synth, tmp_path / "ds", fmt="parquet")
    (tmp_path / "ds" / "firms.parquet").unlink()
    write_registry(synth.firms, tmp_path / "ds" / "firms", by="year", parts=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data, hashes = read_dataset_hashed(tmp_path / "ds")
    assert data.firms is None and data.registry is not None and data.has_firms
    assert hashes["firms"]["file"] == "firms/" and len(hashes["firms"]["sha256"]) == 64
    assert data.summary().loc["firms", "rows"] == len(synth.firms)
    assert_same_features(synth, data)
    # a registry kept elsewhere, named by read_dataset(firms=...)
    write_registry(synth.firms, tmp_path / "elsewhere", by=None, parts=4)
    typology.write_dataset(synth.replace(firms=None), tmp_path / "bare", fmt="csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = typology.read_dataset(tmp_path / "bare", firms=tmp_path / "elsewhere")
    assert other.registry == data.registry
    with pytest.raises(ValueError, match="town-year aggregates"):
        typology.write_dataset(data, tmp_path / "copy")


def test_a_dataset_with_both_a_firms_file_and_a_firms_folder_is_refused(synth, tmp_path):
    typology.write_dataset(synth, tmp_path / "ds", fmt="parquet")
    write_registry(synth.firms, tmp_path / "ds" / "firms", by="year")
    with pytest.raises(DataValidationError, match="one firm registry"):
        typology.read_dataset(tmp_path / "ds")


# ------------------------------------------------------------------ edge cases
def _edge_dataset(seed: int = 0, with_year: bool = True, with_groups: bool = True) -> TownData:
    """A small dataset built to hold the registry's edge cases: independent firms, groups flagged
    and inferred, ties for the largest employer (equal firms, a group equal to a firm), firm
    sectors absent from the employment table, firms in towns without employment rows, a town
    whose registry is empty."""
    rng = np.random.default_rng(seed)
    n_towns, years = 12, [2015, 2016, 2017]
    towns = pd.DataFrame({"town_id": [f"{i:08d}" for i in range(n_towns)], "name": [f"t{i}" for i in range(n_towns)],
                          "region": ["01"] * 6 + ["02"] * 6, "lat": rng.uniform(60, 70, n_towns),
                          "lon": rng.uniform(30, 60, n_towns),
                          "population": [400_000.0, 300_000.0] + list(rng.integers(2_000, 90_000, n_towns - 2) * 1.0),
                          "kind": ["town"] * 9 + ["rural"] * 3})
    emp_towns = towns["town_id"][:8]  # towns 8..11 have no employment rows
    sectors = ["01", "10", "24", "47", "85"]
    employment = pd.DataFrame([(t, y, s, float(rng.integers(50, 3_000))) for t in emp_towns for y in years
                               for s in sectors], columns=["town_id", "year", "sector", "employment"])
    groups = pd.DataFrame({"group_id": ["G1", "G2", "G3", "G4"], "hq_town_id": ["00000000", "00000002", "00000005",
                                                                            "00000009"],
                           "vertically_integrated": pd.array([True, pd.NA, pd.NA, False], dtype="boolean")})
    rows = []
    n_firms = 60
    for y in years if with_year else [None]:
        for f in range(n_firms):
            town = f"{int(rng.integers(0, n_towns)):08d}"
            group = [None, None, "G1", "G2", "G3", "G4"][f % 6] if with_groups else None
            sector = ["01", "10", "24", "47", "85", "35", "B"][(f + (y or 0)) % 7]  # 35, B: not in employment
            rows.append((f"F{f:03d}", town, sector, int(rng.integers(0, 400)), y, group))
    firms = pd.DataFrame(rows, columns=["firm_id", "town_id", "sector", "employees", "year", "group_id"])
    # ties for the largest employer in town 1: two independent firms of 500, a group of 250 + 250
    tie = [("T1", "00000001", "10", 500, None), ("T2", "00000001", "47", 500, None),
           ("T3", "00000001", "24", 250, "G2"), ("T4", "00000001", "01", 250, "G2")]
    for y in years if with_year else [None]:
        rows = [(fid, t, s, e, y, g) for fid, t, s, e, g in tie]
        firms = pd.concat([firms, pd.DataFrame(rows, columns=firms.columns)], ignore_index=True)
    firms = firms[firms["town_id"] != "00000003"]  # a town with employment and no firm at all
    if not with_year:
        firms = firms.drop(columns="year")
    if not with_groups:
        firms = firms.drop(columns="group_id")
    return TownData.from_tables(towns, employment, firms=firms, groups=groups)


# a snapshot (no year) cannot be partitioned by year: that combination is not a case
LAYOUTS = [(y, by) for y in (True, False) for by in ("year", "region", None) if y or by != "year"]


@pytest.mark.parametrize(("with_year", "by"), LAYOUTS,
                         ids=[f"{'firm-years' if y else 'snapshot'}-{by or 'plain'}" for y, by in LAYOUTS])
@pytest.mark.parametrize("with_groups", [True, False], ids=["groups", "no-group-column"])
def test_edge_cases_equal_in_memory(tmp_path, with_year, with_groups, by):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = _edge_dataset(with_year=with_year, with_groups=with_groups)
    firms = data.firms
    if by == "region":
        firms = firms.assign(region=np.where(firms["town_id"] < "00000006", "01", "02"))
    write_registry(firms, tmp_path / "firms", by=by)
    reg = typology.aggregate_registry(tmp_path / "firms", towns=data.towns, groups=data.groups)
    ref = aggregate_firms(data.firms)
    assert_frame_equal(reg.employers, ref.employers, check_exact=True)
    assert_frame_equal(reg.presence, ref.presence, check_exact=True)
    agg = data.replace(firms=reg)
    assert_same_features(data, agg)
    assert_same_features(data, agg, vi_min_towns=3, vi_min_sections=3, core_population=350_000)
    F = build_features(agg)
    assert (F.xs("00000003", level="town_id")["n_groups"] == 0).all()  # employment, no firm


def test_largest_employer_ties_and_towns_without_employment():
    """The tie in town 1 (two firms of 500, a group of 250 + 250) gives a largest employer of 500
    in both forms; firms in towns without employment rows still make ownership edges."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = _edge_dataset()
        agg = data.replace(firms=aggregate_firms(data.firms))
        F = build_features(agg)
        b = FeatureBuilder().fit(agg)
    total = data.employment.query("town_id == '00000001' and year == 2015")["employment"].sum()
    assert F.loc[("00000001", 2015), "largest_employer_share"] >= 500 / total
    assert_frame_equal(F, build_features(data), check_exact=True)
    no_rows = set(data.towns["town_id"][8:])
    assert set(b.edges_["target"]) & no_rows


def test_subset_and_pickle_of_an_aggregated_registry():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = _edge_dataset()
        agg = data.replace(firms=aggregate_firms(data.firms))
        keep = ["00000001", "00000004", "00000006"]
        sub_mem, sub_agg = data.subset(keep), agg.subset(keep)
        assert sub_agg.registry == aggregate_firms(sub_mem.firms)
        assert_same_features(sub_mem, sub_agg)
    back = pickle.loads(pickle.dumps(agg))
    assert back.registry == agg.registry and back.fingerprint() == agg.fingerprint()


def test_int64_sums_are_exact_whatever_the_order(tmp_path):
    """Employees near the contract's bound: int64 sums (and float64 of their totals below 2**53)
    do not depend on the order of the files or rows."""
    rng = np.random.default_rng(7)
    n = 4_000
    firms = pd.DataFrame({"firm_id": [f"F{i}" for i in range(n)], "town_id": rng.choice(["A", "B"], n),
                          "sector": "01", "employees": rng.integers(9_000_000_000, 9_999_999_999, n)})
    write_registry(firms, tmp_path / "one", by=None, parts=1)
    write_registry(firms.iloc[::-1], tmp_path / "rev", by=None, parts=7)
    a = typology.aggregate_registry(tmp_path / "one")
    b = typology.aggregate_registry(tmp_path / "rev")
    assert_frame_equal(a.employers, b.employers, check_exact=True)
    exact = firms.groupby("town_id")["employees"].agg(lambda s: sum(int(x) for x in s))  # Python integers
    assert a.employers.set_index("town_id")["employees"].to_dict() == exact.to_dict()


# ------------------------------------------------------------------ bad input
def _good(n=6) -> pd.DataFrame:
    return pd.DataFrame({"firm_id": [f"F{i}" for i in range(n)], "town_id": ["00000001"] * n,
                         "sector": ["01"] * n, "employees": np.arange(n, dtype=np.int64) + 1,
                         "group_id": [None, "G1"] * (n // 2)})


def _bad(tmp_path, frames: dict[str, pd.DataFrame], **kw) -> str:
    root = tmp_path / "firms"
    for rel, df in frames.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(root / rel, index=False)
    with pytest.raises(DataValidationError) as exc:
        typology.aggregate_registry(root, **kw)
    return str(exc.value)


def test_missing_column_names_the_file(tmp_path):
    msg = _bad(tmp_path, {"year=2019/a.parquet": _good(), "year=2020/b.parquet": _good().drop(columns="sector")})
    assert "firms/year=2020/b.parquet, column 'sector'" in msg and "a column 'sector'" in msg


def test_wrong_type_names_the_file_and_column(tmp_path):
    msg = _bad(tmp_path, {"a.parquet": _good().assign(employees=lambda d: d["employees"].astype(str))})
    assert "firms/a.parquet, column 'employees'" in msg and "whole numbers" in msg
    msg = _bad(tmp_path / "x", {"a.parquet": _good().assign(sector=1)})
    assert "column 'sector'" in msg and "stored as text" in msg
    msg = _bad(tmp_path / "y", {"a.parquet": _good(), "b.parquet": _good().assign(employees=lambda d: d["employees"] * 1.0)})
    assert "one type for column 'employees'" in msg


def test_non_integer_employees_name_the_rows(tmp_path):
    f = _good().assign(employees=[1.0, 2.5, 3.0, 4.25, 5.0, 6.0])
    msg = _bad(tmp_path, {"year=2019/a.parquet": _good().assign(employees=1.0), "year=2020/b.parquet": f})
    assert "firms/year=2020/b.parquet, column 'employees', rows 2, 4" in msg and "fractional" in msg


def test_negative_missing_and_out_of_range_employees(tmp_path):
    f = _good().assign(employees=[1.0, -2.0, np.nan, 1e10, 5.0, 6.0])
    msg = _bad(tmp_path, {"a.parquet": f})
    assert "column 'employees', rows 2, 4" in msg and "out of range" in msg
    assert "column 'employees', row 3" in msg and "missing values" in msg


def test_duplicate_firm_years_across_files(tmp_path):
    msg = _bad(tmp_path, {"year=2019/a.parquet": _good(), "year=2019/b.parquet": _good().iloc[[2]],
                          "year=2020/a.parquet": _good()})
    assert "one row per (firm_id, year)" in msg and "('F2', 2019)" in msg
    assert "firms/year=2019/a.parquet" in msg and "firms/year=2019/b.parquet" in msg
    snap = _bad(tmp_path / "s", {"a.parquet": _good(), "b.parquet": _good().iloc[[0]]})
    assert "one row per (firm_id)" in snap and "need that column" in snap


def test_empty_identifiers_and_unknown_references(tmp_path):
    f = _good().assign(firm_id=["F0", " ", "F2", "F3", "F4", "F5"])
    msg = _bad(tmp_path, {"a.parquet": f})
    assert "column 'firm_id', row 2" in msg
    towns = pd.DataFrame({"town_id": ["00000002"]})
    groups = pd.DataFrame({"group_id": ["G9"], "hq_town_id": ["00000002"]})
    msg = _bad(tmp_path / "r", {"a.parquet": _good().assign(sector=["01", "01", "01", "ZZ", "01", "01"])},
               towns=towns, groups=groups)
    assert "column 'town_id', rows 1, 2, 3, 4, 5" in msg and "'00000001'" in msg
    assert "column 'group_id'" in msg and "'G1'" in msg
    assert "column 'sector', row 4" in msg and "'ZZ'" in msg


def test_groups_without_a_groups_table(tmp_path):
    msg = _bad(tmp_path, {"a.parquet": _good()}, towns=pd.DataFrame({"town_id": ["00000001"]}),
               groups=pd.DataFrame({"group_id": pd.Series([], dtype="str")}))
    assert "column 'group_id', rows 2, 4, 6" in msg and "no groups table was given" in msg


def test_a_folder_without_parquet_files(tmp_path):
    (tmp_path / "firms").mkdir()
    (tmp_path / "firms" / "notes.txt").write_text("x")
    with pytest.raises(DataValidationError, match="Parquet files"):
        typology.aggregate_registry(tmp_path / "firms")


def test_missing_polars_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match=r"nordtowns\[registry\]"):
        typology.aggregate_registry(tmp_path)


def test_registry_aggregates_checked_against_the_dataset():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = _edge_dataset()
    reg = aggregate_firms(data.firms)
    with pytest.raises(DataValidationError, match="unknown value"):
        TownData.from_tables(data.towns.iloc[:5], data.employment[data.employment["town_id"] <= "00000004"],
                             firms=reg, groups=data.groups)
    with pytest.raises(ValueError, match="one row per"):
        RegistryAggregates(pd.concat([reg.employers, reg.employers.iloc[:1]]), reg.presence, reg.sectors, 1)
    with pytest.raises(ValueError, match="whole numbers of employees"):
        aggregate_firms(data.firms.assign(employees=data.firms["employees"] + 0.5))
    with pytest.raises(ValueError, match="town-year aggregates"):
        corporate_events(data.replace(firms=reg))


def test_config_names_a_registry_kept_elsewhere(tmp_path):
    from typology.workflow.config import parse_config

    cfg = parse_config({"data": {"path": "ds", "firms": "../big/firms"}}, base_dir=tmp_path)
    assert cfg.data.firms == (tmp_path / "../big/firms").resolve()
    assert cfg.data.to_dict() == {"path": str((tmp_path / "ds").resolve()), "firms": str(cfg.data.firms)}
    plain = parse_config({"data": {"path": "ds"}}, base_dir=tmp_path)
    assert plain.data.firms is None and plain.data.to_dict() == {"path": str((tmp_path / "ds").resolve())}


@pytest.mark.parametrize("layout", ["by-year", "plain"])
def test_duplicates_found_across_buckets(tmp_path, monkeypatch, layout):
    """Repeated firm-years are found when the keys are grouped one year at a time (a registry
    partitioned by year) or in hash buckets (any other layout)."""
    import typology.data.registry as registry

    monkeypatch.setattr(registry, "_BUCKET_ROWS", 3)
    good = pd.concat([_good(8).assign(year=y) for y in (2019, 2020, 2021)], ignore_index=True).drop(columns="group_id")
    bad = pd.concat([good, good.iloc[[13]]], ignore_index=True)  # ('F5', 2020) twice
    write_registry(good, tmp_path / "ok", by="year" if layout == "by-year" else None)
    assert typology.aggregate_registry(tmp_path / "ok").n_rows == len(good)
    write_registry(bad, tmp_path / "firms", by="year" if layout == "by-year" else None)
    with pytest.raises(DataValidationError, match=r"2 rows sharing a key \(1 distinct keys\), e.g. \('F5', 2020\)"):
        typology.aggregate_registry(tmp_path / "firms")


def test_read_dataset_reports_the_registry_with_the_other_tables(tmp_path):
    """A dataset folder without groups whose registry names groups, and a registry row in an
    unknown town: both named, with the file and rows, in the one error of read_dataset."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = _edge_dataset()
    typology.write_dataset(data.replace(firms=None, groups=None), tmp_path / "ds", fmt="csv")
    firms = data.firms
    firms.loc[firms.index[0], "town_id"] = "99999999"
    write_registry(firms, tmp_path / "ds" / "firms", by="year", parts=1)
    with pytest.raises(DataValidationError) as exc:
        typology.read_dataset(tmp_path / "ds")
    msg = str(exc.value)
    assert "firms/year=2015/part-0.parquet, column 'town_id', row 1" in msg and "'99999999'" in msg
    assert "column 'group_id'" in msg and "no groups table was given" in msg
