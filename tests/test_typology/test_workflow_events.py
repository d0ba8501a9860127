"""``[[event_studies]]`` of a run config: checked (bad keys, unknown methods, missing columns: exit 1
with a one-line message), fitted by ``typology fit`` with the cohort taken from the outcomes or
derived from the firm registry, written (event_studies.csv, event_overall.csv, event_bacon.csv,
event_cohorts.csv), shown in the report, and reproduced."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import models
from features import corporate_events
from typology.cli import main
from typology.data.io import write_dataset
from typology.workflow.config import event_seed, model_seed, parse_config

HEAD = """
[data]
path = "data"

[features]
groups = ["specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics"]

[typology]
features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
n_types = 4
random_state = 0
"""

STUDIES = """
[[event_studies]]
name = "entry_wages"
outcome = "log(avg_wage)"
cohort = {rule = "share", threshold = 0.3}
methods = ["callaway_santanna", "sun_abraham", "imputation", "twfe"]
n_boot = 19
leads = 3
lags = 3

[[event_studies]]
name = "entry_population"
outcome = "population"
cohort = "entry_year"
methods = ["callaway_santanna", "twfe"]
control = "never_treated"
n_boot = 19
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """40 towns, 6 years, every town in every year (a balanced panel for the Bacon decomposition);
    the outcomes carry entry_year and exit_year derived from the registry by the share rule."""
    from typology.data.synth import generate

    ds = generate(n_towns=40, n_years=6, seed=3, late_entry_rate=0.0, missing_outcome_rate=0.0)
    ev = corporate_events(ds.data, rule="share", threshold=0.3).set_index("town_id")
    out = ds.data.outcomes  # towns treated from 2010 on (censored entries) are dropped by the estimators
    out["entry_year"] = ev["entry_year"].reindex(out["town_id"]).fillna(0).astype("int64").to_numpy()
    out["exit_year"] = ev["exit_year"].reindex(out["town_id"]).fillna(0).astype("int64").to_numpy()
    root = tmp_path_factory.mktemp("events")
    write_dataset(ds.data.replace(outcomes=out), root / "data", truth=ds.truth)
    return root


@pytest.fixture(scope="module")
def run(dataset):
    (dataset / "config.toml").write_text(HEAD + STUDIES)
    assert main(["fit", str(dataset / "config.toml"), "--out", str(dataset / "run"), "--quiet"]) == 0
    return dataset / "run"


def test_tables_are_written(run):
    dyn = pd.read_csv(run / "event_studies.csv")
    ov = pd.read_csv(run / "event_overall.csv")
    assert list(dyn.columns) == ["study", "method", "event_time", "estimate", "std_error", "ci_lower", "ci_upper",
                                 "band_lower", "band_upper"]
    assert set(zip(ov["study"], ov["method"], strict=True)) == {
        ("entry_wages", m) for m in ("callaway_santanna", "sun_abraham", "imputation", "twfe")} | {
        ("entry_population", "callaway_santanna"), ("entry_population", "twfe")}
    # the window of leads and lags, and uniform bands wider than the pointwise intervals
    w = dyn[dyn["study"] == "entry_wages"]
    assert w["event_time"].between(-3, 3).all()
    ok = w["std_error"].notna()
    assert (w.loc[ok, "band_upper"] - w.loc[ok, "band_lower"] >= w.loc[ok, "ci_upper"] - w.loc[ok, "ci_lower"]).all()
    assert ((ov["pretrend_pvalue"] >= 0) & (ov["pretrend_pvalue"] <= 1)).all()
    assert (ov["n_boot"] == 19).all()
    bacon = pd.read_csv(run / "event_bacon.csv")
    assert set(bacon["study"]) == {"entry_wages", "entry_population"}
    cohorts = pd.read_csv(run / "event_cohorts.csv", dtype={"town_id": str})
    assert set(cohorts["study"]) == {"entry_wages"} and (cohorts["entry_year"] > 0).any()


def test_the_tables_are_the_estimators_on_the_run_panel(run, dataset):
    """The CS row of the column-cohort study equals models.event_study on the same frame and seed."""
    m = json.loads((run / "manifest.json").read_text())
    study = next(s for s in m["config"]["event_studies"] if s["name"] == "entry_population")
    assert study["random_state"] == event_seed(0, "entry_population") != model_seed(0, "entry_population")
    from typology import read_dataset

    data = read_dataset(dataset / "data")
    feats = pd.read_parquet(run / "features.parquet")
    frame = feats.join(data.outcomes.set_index(["town_id", "year"])[["population", "entry_year", "exit_year"]])
    # exits censored: the years from each town's exit on are dropped
    x = frame["exit_year"].to_numpy()
    frame = frame[~((x > 0) & (frame.index.get_level_values("year").to_numpy() >= x))]
    ref = models.event_study(frame, "population", "entry_year", control="never_treated", n_boot=19,
                             random_state=study["random_state"], exit=None)
    dyn = pd.read_csv(run / "event_studies.csv")
    got = dyn[(dyn["study"] == "entry_population") & (dyn["method"] == "callaway_santanna")].set_index("event_time")
    np.testing.assert_allclose(got["estimate"], ref.dynamic["estimate"], rtol=1e-10)
    np.testing.assert_allclose(got["band_upper"], ref.dynamic["band_upper"], rtol=1e-10)


def test_report_section(run):
    md = (run / "report.md").read_text()
    assert "## Event studies" in md and "### entry_wages: log(avg_wage) by registry entry: share >= 0.3" in md
    assert "| event time | callaway_santanna | sun_abraham | imputation | twfe |" in md
    assert "| overall |" in md and "| pre-trend p |" in md
    assert "forbidden comparisons" in md
    assert (run / "figures" / "event_study_1.png").is_file() and (run / "figures" / "event_study_2.png").is_file()
    html = (run / "report.html").read_text()
    assert "<h2>Event studies</h2>" in html


def test_reproduce_is_identical_and_sees_a_changed_estimate(run, monkeypatch, capsys):
    assert main(["reproduce", str(run), "--quiet"]) == 0
    assert "reproduced identically" in capsys.readouterr().out
    real = models.event_study

    def shifted(*args, **kwargs):
        r = real(*args, **kwargs)  # the result hands out read-only copies: shift the frame it holds
        object.__setattr__(r, "_dynamic", r._dynamic.assign(estimate=r._dynamic["estimate"] + 1e-6))
        return r

    monkeypatch.setattr(models, "event_study", shifted)
    assert main(["reproduce", str(run), "--quiet"]) == 1
    assert "event_studies: column 'estimate' differs" in capsys.readouterr().err


@pytest.mark.parametrize("study, expected", [
    ('name = "x"\noutcome = "population"\ncohort = "entry_year"\nbootstraps = 9',
     "unknown key(s) ['bootstraps'] in [[event_studies]] entry 1 ('x'); valid keys are"),
    ('name = "x"\noutcome = "population"\ncohort = "entry_year"\nmethods = ["cs", "twfe"]',
     "[[event_studies]] entry 1 ('x') methods: expected a non-empty list of distinct methods among"),
    ('name = "x"\noutcome = "population"', "[[event_studies]] entry 1 ('x') cohort: missing"),
    ('name = "x"\noutcome = "exp(population)"\ncohort = "entry_year"',
     "outcome: expected a column name or \"log(column)\"; found 'exp(population)'"),
    ('name = "x"\noutcome = "population"\ncohort = {rule = "anchor", threshold = 0.3}',
     "cohort threshold: applies to rule = \"share\""),
    ('name = "x"\noutcome = "population"\ncohort = {rule = "share", threshold = 1.5}',
     "cohort threshold: expected a number in (0, 1]; found 1.5"),
    ('name = "x"\noutcome = "population"\ncohort = "entry_year"\ncontrol = "last_treated"',
     "control: is \"last_treated\", the comparison of Sun and Abraham only"),
    ('name = "x"\noutcome = "population"\ncohort = "entry_year"\nn_boot = -1',
     "n_boot: expected an integer in 0..1,000,000; found -1"),
    # checked against the data, before any computation
    ('name = "x"\noutcome = "log(gdp)"\ncohort = "entry_year"',
     "[[event_studies]] 'x' outcome: 'gdp' is neither a feature nor a column of the dataset"),
    ('name = "x"\noutcome = "population"\ncohort = "treated_year"',
     "[[event_studies]] 'x' cohort: 'treated_year' is not a column of the outcomes table"),
    ('name = "x"\noutcome = "population"\ncohort = "entry_year"\ncovariates = ["gdp"]',
     "[[event_studies]] 'x' covariates: 'gdp' is neither a feature nor a column"),
])
def test_bad_event_study_exits_1_with_one_line(dataset, tmp_path, capsys, study, expected):
    cfg = tmp_path / "c.toml"
    cfg.write_text(HEAD.replace('path = "data"', f'path = "{dataset / "data"}"') + "\n[[event_studies]]\n" + study)
    assert main(["fit", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert expected in err and str(cfg) in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_rule_needs_a_registry_by_year(dataset, tmp_path, capsys):
    from typology import read_dataset

    data = read_dataset(dataset / "data")
    firms = data.firms.drop(columns="year").drop_duplicates("firm_id")
    write_dataset(data.replace(firms=firms), tmp_path / "snap")
    cfg = tmp_path / "c.toml"
    cfg.write_text(HEAD.replace('path = "data"', f'path = "{tmp_path / "snap"}"')
                   + '\n[[event_studies]]\nname = "x"\noutcome = "population"\ncohort = {rule = "anchor"}\n')
    assert main(["fit", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "[[event_studies]] 'x' cohort: rule = 'anchor' dates events between years" in err
    assert "has no column 'year'" in err


def test_resolved_config_round_trips():
    raw = {"data": {"path": "/tmp"}, "event_studies": [
        {"name": "a", "outcome": "log(avg_wage)", "cohort": {"rule": "share", "threshold": 0.4, "min_years": 2}},
        {"name": "b", "outcome": "population", "cohort": "entry_year", "methods": ["twfe"], "exit": "none"}]}
    cfg = parse_config(raw)
    a, b = cfg.event_studies
    assert a.cohort["threshold"] == 0.4 and a.cohort["event"] == "entry" and a.exit is None
    assert a.methods == ("callaway_santanna", "sun_abraham", "twfe", "imputation") and a.n_boot == 999
    assert b.exit is None and b.random_state == event_seed(0, "b")
    assert parse_config(cfg.to_dict()) == cfg
    assert parse_config({"data": {"path": "/tmp"}}).event_studies == ()
    with pytest.raises(ValueError, match="two \\[\\[event_studies\\]\\] are named 'a'"):
        parse_config({"data": {"path": "/tmp"}, "event_studies": [raw["event_studies"][0]] * 2})


def test_starter_config_offers_an_event_study_that_parses():
    import tomllib

    from typology.workflow.config import starter_config

    text = starter_config("ds", outcomes=["avg_wage", "population"])
    lines = text.splitlines()
    start = lines.index("# [[event_studies]]")
    block = [ln[2:] for ln in lines[start:] if ln.startswith("# ")]
    cfg = parse_config(tomllib.loads(text + "\n" + "\n".join(block)))
    (study,) = cfg.event_studies
    assert study.outcome == "log(avg_wage)" and study.rule["rule"] == "share" and study.rule["min_years"] == 2
    assert "# [[event_studies]]" not in starter_config("ds", outcomes=["avg_wage"], groups=["specialization"])


def test_an_event_study_outcome_may_be_a_russian_column():
    raw = {"data": {"path": "/tmp"}, "event_studies": [{"name": "a", "outcome": "log(зарплата)", "cohort": "год_входа"}]}
    (study,) = parse_config(raw).event_studies
    assert study.log_outcome == ("зарплата", True)
