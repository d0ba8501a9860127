"""The user's workflow end to end: fit -> reproduce -> score held-out towns -> report, and the
checks that make it trustworthy (modified inputs, tampered model files, atomic run folders)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.metrics import adjusted_rand_score

from typology.cli import main
from typology.data.io import write_dataset
from typology.data.synth import TYPES

CONFIG = """
[data]
path = "{data}"

[features]
groups = ["specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics"]

[typology]
features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
period = "last"
n_types = "auto"
n_boot = 30
random_state = 0

[[models]]
name = "wages"
formula = "log(avg_wage) ~ corp_share + core_control_share + corp_share:core_control_share"
estimator = "within"
effects = "twoway"
cov_type = "clustered"
cluster = "entity"
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic):
    """Training data (90 % of the typed towns) and held-out data (the other 10 %)."""
    root = tmp_path_factory.mktemp("workflow")
    tt = pd.Series(synthetic.truth["town_types"])
    typed = tt[tt.isin(TYPES)].index
    rng = np.random.default_rng(7)
    held = pd.Index(rng.choice(typed, size=30, replace=False))
    train_ids = tt.index.difference(held)
    train = synthetic.data.subset(train_ids)
    test = synthetic.data.subset(held)
    truth = dict(synthetic.truth)
    truth["town_types"] = {t: v for t, v in truth["town_types"].items() if t in set(train.town_ids)}
    write_dataset(train, root / "train", truth=truth)
    write_dataset(test, root / "heldout")
    (root / "config.toml").write_text(CONFIG.format(data="train"))
    return root, held, tt


@pytest.fixture(scope="module")
def run_dir(workspace):
    root, _, _ = workspace
    assert main(["fit", str(root / "config.toml"), "--out", str(root / "run"), "--quiet"]) == 0
    return root / "run"


def test_run_folder_contents_and_manifest(run_dir):
    for f in ("manifest.json", "features.parquet", "types.csv", "coefficients.csv", "model.nordtowns", "report.html",
              "report.md", "selection.csv", "stability.csv", "spec_tests.csv", "regression_table.md"):
        assert (run_dir / f).is_file(), f
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["seed"] == 0
    assert set(m["data"]["files"]) >= {"towns", "employment", "firms", "groups", "outcomes"}
    assert all(len(v["sha256"]) == 64 for v in m["data"]["files"].values())
    assert {"numpy", "pandas", "scikit-learn", "linearmodels", "statsmodels"} <= set(m["packages"])
    # the manifest and the model file record the same versions (one collector)
    from typology.persist import read_header
    assert read_header(run_dir / "model.nordtowns")["versions"] == m["packages"]
    assert m["packages"]["scikit-learn"] == sklearn.__version__
    assert m["config"]["typology"]["n_boot"] == 30 and m["config"]["features"]["core_population"] == 250000
    assert "features.parquet" in m["outputs"] and "model.nordtowns" in m["outputs"]
    assert "report.html" in m["report"]
    # the synthetic truth is recovered on the training towns
    truth = m["summary"]["truth"]
    assert truth["n_types_found"] == 4 and truth["adjusted_rand"] >= 0.9
    assert all(v["covered"] for v in truth["coefficients"]["wages"].values())
    # no hidden temporary folder is left behind
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".run.")]


def test_reproduce_is_identical(run_dir, capsys):
    assert main(["reproduce", str(run_dir), "--quiet"]) == 0
    assert "reproduced identically" in capsys.readouterr().out


def test_score_held_out_towns(workspace, run_dir, tmp_path):
    root, held, tt = workspace
    out = tmp_path / "scores.csv"
    assert main(["score", str(run_dir), "--data", str(root / "heldout"), "--out", str(out), "--quiet"]) == 0
    s = pd.read_csv(out, index_col=0, dtype={"town_id": str})
    s.index = s.index.astype(str)
    assert set(held) <= set(s.index)
    for c in ("type", "type_name", "runner_up", "margin", "posterior", "atypical", "ood"):
        assert c in s.columns
    scored = s.loc[held].dropna(subset=["type"])
    assert len(scored) == len(held)
    # the held-out towns land in the type of the training towns of their true type
    train_types = pd.read_csv(run_dir / "types.csv", index_col=0, dtype={"town_id": str})["type"]
    mapping = train_types.groupby(tt.reindex(train_types.index.astype(str)).to_numpy()).agg(lambda v: v.mode()[0])
    expected = tt.reindex(scored.index).map(mapping)
    assert (scored["type"].astype(int) == expected.astype(int)).mean() >= 0.9
    assert adjusted_rand_score(tt.reindex(scored.index), scored["type"]) >= 0.8
    assert scored["ood"].astype(str).str.lower().eq("true").mean() <= 0.1


def test_report_command_rewrites_the_report(run_dir, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(run_dir, d)
    before = (d / "report.md").read_text()
    (d / "report.md").unlink()
    assert main(["report", str(d)]) == 0
    assert (d / "report.md").read_text() == before
    html = (d / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5
    assert "<script" not in html
    # reporting does not break the run folder's hash checks
    assert main(["reproduce", str(d), "--quiet"]) == 0


def test_modified_input_makes_reproduce_fail(workspace, run_dir, tmp_path, capsys):
    root, _, _ = workspace
    data = tmp_path / "data"
    shutil.copytree(root / "train", data)
    out = pd.read_csv(data / "outcomes.csv", dtype=str, keep_default_na=False)
    out.loc[5, "avg_wage"] = str(float(out.loc[5, "avg_wage"] or 1) * 1.5)
    out.to_csv(data / "outcomes.csv", index=False)
    code = main(["reproduce", str(run_dir), "--data", str(data), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "outcomes.csv changed since the run" in err
    assert "coefficients" in err


def test_tampered_model_file_is_refused(workspace, run_dir, tmp_path, capsys):
    root, _, _ = workspace
    d = tmp_path / "tampered"
    shutil.copytree(run_dir, d)
    with open(d / "model.nordtowns", "r+b") as fh:
        fh.seek(200)
        b = fh.read(1)
        fh.seek(200)
        fh.write(bytes([b[0] ^ 0xFF]))
    code = main(["score", str(d), "--data", str(root / "heldout"), "--out", str(tmp_path / "s.csv"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "model.nordtowns" in err and "refusing to score" in err
    assert not (tmp_path / "s.csv").exists()


def test_tampered_table_makes_reproduce_fail(run_dir, tmp_path, capsys):
    d = tmp_path / "t2"
    shutil.copytree(run_dir, d)
    t = pd.read_csv(d / "types.csv", dtype=str)
    t.loc[0, "type"] = "9"
    t.to_csv(d / "types.csv", index=False)
    assert main(["reproduce", str(d), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "types.csv: modified" in err
    # nor is a report written from it
    before = (d / "report.md").read_bytes()
    assert main(["report", str(d), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "types.csv: modified" in err and "refusing to write a report" in err
    assert (d / "report.md").read_bytes() == before


def test_fit_refuses_existing_folder_and_bad_config(workspace, run_dir, tmp_path, capsys):
    root, _, _ = workspace
    assert main(["fit", str(root / "config.toml"), "--out", str(run_dir), "--quiet"]) == 1
    assert "exists" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.format(data=str(root / "train")).replace("n_boot = 30", "n_bootstraps = 30"))
    assert main(["fit", str(bad), "--out", str(tmp_path / "r"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "n_bootstraps" in err and "valid keys" in err and "n_boot" in err
    assert not (tmp_path / "r").exists()


def test_interrupted_fit_leaves_no_run_folder(workspace, tmp_path, monkeypatch):
    import typology.workflow.runs as runs

    root, _, _ = workspace

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runs, "write_report", boom, raising=False)
    monkeypatch.setattr("typology.workflow.report.write_report", boom)
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(data=str(root / "train")))
    with pytest.raises(KeyboardInterrupt):
        main(["fit", str(cfg), "--out", str(tmp_path / "run"), "--quiet"])
    assert list(tmp_path.iterdir()) == [cfg]


def test_bad_data_in_fit_exits_1(workspace, tmp_path, capsys):
    root, _, _ = workspace
    data = tmp_path / "data"
    shutil.copytree(root / "train", data)
    (data / "employment.csv").unlink()
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(data="data"))
    assert main(["fit", str(cfg), "--out", str(tmp_path / "run"), "--quiet"]) == 1
    assert "employment" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_report_section_is_one_function_in_the_section_list(run_dir, tmp_path, monkeypatch):
    """Adding a section to the report is one function ``section(doc, run)`` and one entry of
    ``SECTIONS``; the others are unchanged and the run folder still verifies."""
    import typology.workflow.report as report

    d = tmp_path / "extra"
    shutil.copytree(run_dir, d)

    def towns_per_type(doc, run):
        doc.h("Towns per type")
        doc.table(run.table("types.csv", dtype={"town_id": str})["type"].value_counts().sort_index().to_frame())

    before = (d / "report.md").read_text()
    monkeypatch.setattr(report, "SECTIONS", (*report.SECTIONS, towns_per_type))
    report.write_report(d)
    md = (d / "report.md").read_text()
    assert md.startswith(before) and md[len(before):].startswith("\n## Towns per type")
    assert "<h2>Towns per type</h2>" in (d / "report.html").read_text()
    assert main(["reproduce", str(d), "--quiet"]) == 0
