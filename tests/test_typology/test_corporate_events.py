"""Event studies on the generator's world 2 against its truth; the corporate_events experiment."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import models
from typology.data.synth import generate
from typology.workflow.event_montecarlo import (
    METHODS,
    ROBUST,
    att_by_cohort,
    event_design,
    replication_truth,
    run_event_monte_carlo,
)


@pytest.fixture(scope="module")
def world():
    """World 2 (the default, as the demo), its outcomes as an event-study panel of log wages."""
    ds = generate()
    o = ds.data.outcomes.set_index(["town_id", "year"])
    panel = pd.DataFrame({"log_wage": np.log(o["avg_wage"]), "entry_year": o["entry_year"]}).dropna()
    return ds, panel


def _true_path(ds) -> pd.Series:
    eff = ds.truth["events"]["effects"]["log_wage"]
    return pd.Series({int(e): v for e, v in eff["dynamic"].items()}).sort_index()


@pytest.mark.parametrize("method", ["callaway_santanna", "sun_abraham", "imputation"])
def test_robust_estimators_hold_the_true_wage_path_inside_the_uniform_band(world, method):
    ds, panel = world
    r = models.event_study(panel, "log_wage", "entry_year", method=method, n_boot=999, random_state=0, exit=None)
    d = r.dynamic[np.isfinite(r.dynamic["std_error"])]
    truth = _true_path(ds).reindex(d.index)
    assert truth.notna().all() and len(d) >= 22  # every event time -12..11 but the reference has a truth
    inside = (d["band_lower"] <= truth) & (truth <= d["band_upper"])
    assert inside.all(), d.assign(truth=truth)[~inside]
    o = r.overall
    assert o["ci_lower"] <= ds.truth["events"]["effects"]["log_wage"]["overall"] <= o["ci_upper"]


def test_static_two_way_did_is_biased_on_the_same_data(world):
    """The static two-way DiD misses the true overall ATT (0.0972) by more than 8 % and by more
    than two of its standard errors; the imputation estimator on the same panel does not."""
    ds, panel = world
    true = ds.truth["events"]["effects"]["log_wage"]["overall"]
    tw = models.event_study(panel, "log_wage", "entry_year", method="twfe", n_boot=0, exit=None).overall
    assert (tw["estimate"] - true) / true < -0.08
    assert (true - tw["estimate"]) / tw["std_error"] > 2.0
    assert not tw["ci_lower"] <= true <= tw["ci_upper"]
    imp = models.event_study(panel, "log_wage", "entry_year", method="imputation", n_boot=0, exit=None).overall
    assert abs(imp["estimate"] - true) / true < 0.03 and abs(imp["estimate"] - true) < imp["std_error"]


def test_demo_report_compares_the_event_study_and_the_stagnation_logit_with_the_truth(demo_run):
    m = json.loads((demo_run / "manifest.json").read_text(encoding="utf-8"))
    truth = m["summary"]["truth"]
    study = truth["event_studies"]["entry_wages"]
    assert study["outcome"] == "log_wage" and study["overall"] == pytest.approx(0.0972, abs=1e-4)
    assert set(study["methods"]) == {"callaway_santanna", "sun_abraham", "imputation", "twfe"}
    for method in ("callaway_santanna", "sun_abraham", "imputation"):
        assert study["methods"][method]["path_in_band"] is True
        assert study["methods"][method]["overall"]["covered"] is True
    stag = truth["coefficients"]["stagnation"]
    assert set(stag) == {"Intercept", "corp_share", "core_control_share", "dist_core_km"}
    assert all(v["covered"] for v in stag.values())
    report = (demo_run / "report.md").read_text(encoding="utf-8")
    section = report[report.index("## Event studies"):report.index("## Recovery of the synthetic truth")]
    assert "Against the synthetic truth (truth.json events.effects.log_wage" in section
    assert "| true path inside the band |" in section
    assert "(figures/event_study_1.png)" in section
    assert "| stagnation | corp_share | -4.000 |" in report


# ------------------------------------------------------------------------ the Monte Carlo
@pytest.fixture(scope="module")
def small_design():
    return event_design(n_towns=40, n_years=8, data_seed=3)


def test_replication_truth_by_hand():
    att = pd.DataFrame([[0.0, 0.0, 1.0, 2.0], [0.0, 0.0, 0.0, 4.0]], index=[2012, 2013],
                       columns=pd.Index([-2, -1, 0, 1], name="event_time"))
    att.loc[2013, 1] = np.nan  # cohort 2013 not observed at e = 1
    theta, overall = replication_truth(att, pd.Series({2012: 3, 2013: 1}))
    assert theta.to_dict() == {-2: 0.0, -1: 0.0, 0: 0.75, 1: 2.0}
    # cells (2012, 0), (2012, 1), (2013, 0) weighted 3, 3, 1: (3 + 6 + 0) / 7
    assert overall == pytest.approx(9 / 7)
    theta, overall = replication_truth(att, pd.Series({2012: 2}))  # cohort 2013 not drawn
    assert theta[0] == 1.0 and overall == pytest.approx(1.5)


def test_design_effects_are_zero_before_entry_and_match_the_truth(small_design):
    towns = small_design.index.get_level_values("town_id")
    assert (pd.Series(1, index=towns).groupby(level=0).size() == 8).all()  # balanced
    e = small_design.index.get_level_values("year") - small_design["entry_year"]
    treated = small_design["entry_year"] > 0
    assert (small_design.loc[treated & (e < 0), "tau"].abs() < 1e-12).all()
    assert (small_design.loc[~treated, "tau"].abs() < 1e-12).all()
    att = att_by_cohort(small_design)
    assert (att.columns < 0).any() and np.nanmax(att.to_numpy()) > 0


def test_tiny_monte_carlo_has_the_expected_columns(small_design):
    out = run_event_monte_carlo(n_reps=3, seed=1, design=small_design, n_boot=49)
    assert list(out.columns) == ["true", "mean_estimate", "bias", "rmse", "sd_estimate", "sd_error",
                                 "mean_std_error", "coverage", "band_coverage", "n_reps"]
    assert list(out.index.names) == ["method", "target"]
    assert list(dict.fromkeys(out.index.get_level_values("method"))) == [m[0] for m in METHODS]
    for m, _, _ in METHODS:
        targets = out.loc[m].index
        assert targets[0] == "overall" and targets[-1] == "path"
        assert all(isinstance(t, int) for t in targets[1:-1])
    assert (out["n_reps"] == 3).all()
    assert out["coverage"].between(0, 1).all()
    est = out[out.index.get_level_values("target") != "path"]
    np.testing.assert_allclose(est["rmse"] ** 2, est["bias"] ** 2 + 2 / 3 * est["sd_error"] ** 2, rtol=1e-9)
    assert out.attrs["n_reps"] == 3 and out.attrs["n_years"] == 8


def test_monte_carlo_same_result_whatever_n_jobs(small_design):
    a = run_event_monte_carlo(n_reps=3, seed=5, design=small_design, n_boot=49, n_jobs=1)
    b = run_event_monte_carlo(n_reps=3, seed=5, design=small_design, n_boot=49, n_jobs=2)
    pd.testing.assert_frame_equal(a, b)


def test_monte_carlo_refuses_bad_arguments(small_design):
    with pytest.raises(ValueError, match="n_reps"):
        run_event_monte_carlo(n_reps=0, design=small_design)
    with pytest.raises(ValueError, match="outcome"):
        event_design(n_towns=40, n_years=8, outcome="log_investment")


def test_experiment_cli_writes_the_run_and_the_monte_carlo(tmp_path, capsys):
    from typology.cli import main

    out = tmp_path / "runs" / "ce.csv"
    assert main(["experiment", "corporate_events", "--reps", "2", "--jobs", "1", "--out", str(out),
                 "--data", str(tmp_path / "data"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "entry_wages imputation: overall" in printed and f"wrote {out}" in printed
    mc = pd.read_csv(out)
    assert list(mc.columns[:3]) == ["n_towns", "method", "target"] and set(mc["n_towns"]) == {300, 1200}
    report = (tmp_path / "runs" / "ce" / "report.md").read_text(encoding="utf-8")
    for name in ("entry_wages", "entry_wages_never", "entry_employment", "entry_population"):
        assert f"### {name}:" in report


@pytest.mark.slow
def test_monte_carlo_coverage_of_the_robust_estimators_with_many_clusters():
    """200 replications on a world of 1,200 towns (85-105 per cohort): the robust estimators'
    95 % intervals cover the truth 0.92-0.98 of the time on average over the event times and
    for the overall ATT; the static two-way DiD almost never does (README: 1,000 replications)."""
    out = run_event_monte_carlo(n_reps=200, seed=0, n_jobs=2, n_boot=199, n_towns=1200)
    for m in ROBUST:
        g = out.loc[m]
        times = g.loc[[t for t in g.index if t not in ("overall", "path")]]
        assert 0.92 <= times["coverage"].mean() <= 0.98, (m, times["coverage"].mean())
        assert 0.92 <= g.loc["overall", "coverage"] <= 0.98, (m, g.loc["overall", "coverage"])
        assert abs(g.loc["overall", "bias"]) < 0.2 * g.loc["overall", "rmse"]
    tw = out.loc["twfe"].loc["overall"]
    assert tw["coverage"] < 0.05 and tw["bias"] < -0.01
