"""The synthetic generator: contract-valid, deterministic, and encoding the documented mechanisms."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from typology.cli import main
from typology.data.io import read_dataset
from typology.data.synth import TYPES, generate


def _hashes(ds):
    return {name: pd.util.hash_pandas_object(df, index=False).sum() for name, df in ds.data.tables().items()}


@pytest.fixture(scope="module")
def world2():
    """The default world (``world=2``, the demo's embedded dataset): corporate events."""
    return generate()


@pytest.fixture(scope="module")
def world2_features(world2):
    import warnings

    from features import build_features

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_features(world2.data)


def test_same_seed_same_dataset_other_seed_other_dataset():
    a = generate(n_towns=24, n_years=6, seed=11)
    b = generate(n_towns=24, n_years=6, seed=11)
    c = generate(n_towns=24, n_years=6, seed=12)
    assert _hashes(a) == _hashes(b)
    assert a.truth == b.truth
    assert _hashes(a) != _hashes(c)


def test_default_size_and_structure(synthetic):
    data, truth = synthetic.data, synthetic.truth
    towns = data.towns
    tt = pd.Series(truth["town_types"])
    typed = tt[tt.isin(TYPES)]
    assert len(typed) == 300
    assert set(typed) == set(TYPES) and truth["n_types"] == 4
    # about a quarter of the towns per type
    assert typed.value_counts().min() >= 70
    assert (towns["kind"] == "rural").sum() > 50
    cores = tt[tt == "core"].index
    assert len(cores) >= 4 and (towns.set_index("town_id").loc[cores, "population"] >= 250_000).all()
    small = towns.set_index("town_id").loc[typed.index, "population"]
    assert small.max() < 250_000
    # a northern latitude band
    assert towns["lat"].between(55, 75).all()
    assert data.years.tolist() == list(range(2010, 2025))
    # employment by OKVED-2 division, some cells suppressed
    assert data.employment["sector"].str.fullmatch(r"\d\d").all()
    assert data.employment["employment"].isna().sum() > 100


def test_panel_is_unbalanced(synthetic):
    years_per_town = synthetic.data.employment.groupby("town_id")["year"].nunique()
    assert years_per_town.max() == 15
    assert (years_per_town < 15).sum() >= 10
    out = synthetic.data.outcomes
    assert out["avg_wage"].isna().mean() > 0.01


def _ownership_changes(ds):
    f = ds.data.firms
    per_firm = f.groupby("firm_id")["group_id"].agg(lambda s: tuple(s.fillna("-")))
    changed = per_firm[per_firm.map(lambda g: len(set(g)) > 1)]
    entered = changed.map(lambda g: g[0] == "-" and g[-1] != "-").sum()
    left = changed.map(lambda g: g[0] != "-" and g[-1] == "-").sum()
    switched = changed.map(lambda g: g[0] != "-" and g[-1] != "-" and g[0] != g[-1]).sum()
    return entered, left, switched


def test_corporate_ties_change_over_time(synthetic, world2):
    entered, left, switched = _ownership_changes(synthetic)
    assert entered > 20 and left > 20 and switched > 5
    # world 2: groups enter and leave; an owner never passes to another group directly
    entered, left, switched = _ownership_changes(world2)
    assert entered > 100 and left > 20 and switched == 0


def test_true_regressors_have_within_town_variation(synthetic):
    r = synthetic.regressors
    within_sd = r.groupby(level="town_id").transform(lambda s: s - s.mean()).std()
    assert within_sd["corp_share"] > 0.01
    assert within_sd["core_control_share"] > 0.02


def test_type_mechanisms_are_visible_in_the_raw_tables(synthetic):
    tt = pd.Series(synthetic.truth["town_types"])
    out = synthetic.data.outcomes
    first = out.sort_values("year").groupby("town_id").first()
    last = out.sort_values("year").groupby("town_id").last()
    growth = (np.log(last["population"]) - np.log(first["population"])) / (last["year"] - first["year"])
    by_type = growth.groupby(tt).mean()
    # documented trends: detached < remote corporate < integrated < satellites
    assert by_type["detached_simplified"] < by_type["corporate_remote"] < by_type["integrated_connected"] < by_type["diversified_satellite"]
    trend = synthetic.truth["population_trend_per_year"]  # the generator's documented trends (truth.json)
    assert (trend["detached_simplified"], trend["corporate_remote"]) == (-0.02, -0.011)  # module docstring
    np.testing.assert_allclose(by_type["detached_simplified"], trend["detached_simplified"], atol=0.003)
    np.testing.assert_allclose(by_type["corporate_remote"], trend["corporate_remote"], atol=0.003)


def test_synth_cli_writes_a_valid_dataset_with_truth(tmp_path):
    out = tmp_path / "ds"
    assert main(["synth", "--towns", "16", "--years", "5", "--seed", "4", "--out", str(out)]) == 0
    truth = json.loads((out / "truth.json").read_text())
    assert truth["params"]["seed"] == 4 and set(truth["equations"]) == {"wages", "investment", "stagnation"}
    data = read_dataset(out)
    assert len(data.towns) > 16
    # the files reproduce the in-memory generator exactly
    ref = generate(n_towns=16, n_years=5, seed=4)
    pd.testing.assert_frame_equal(data.outcomes, ref.data.outcomes, check_dtype=False)
    # refusing to overwrite a dataset
    assert main(["synth", "--towns", "16", "--years", "5", "--out", str(out)]) == 1
    assert main(["synth", "--towns", "16", "--years", "5", "--out", str(out), "--overwrite"]) == 0


@pytest.mark.parametrize("kwargs", [{"n_towns": 4}, {"n_years": 2}])
def test_generator_refuses_degenerate_sizes(kwargs):
    with pytest.raises(ValueError):
        generate(**kwargs)


# ------------------------------------------------------------------ world 2: corporate events
def test_world_argument_is_checked_and_recorded():
    with pytest.raises(ValueError, match="world must be one of"):
        generate(n_towns=8, n_years=5, world=4)
    assert "world" not in generate(n_towns=8, n_years=5, world=1).truth["params"]  # world 1's truth unchanged
    assert generate(n_towns=8, n_years=5).truth["params"]["world"] == 2


def _events(ds) -> pd.DataFrame:
    ev = ds.truth["events"]
    return pd.DataFrame({"entry_year": pd.Series(ev["entry_year"]), "exit_year": pd.Series(ev["exit_year"])})


def test_events_are_staggered_with_never_and_not_yet_treated_towns(world2):
    ev = _events(world2)
    towns = world2.data.towns.set_index("town_id")
    typed = towns.index[(towns["kind"] == "town") & ~towns.index.isin(world2.truth["cores"])]
    e = ev.loc[typed]
    start = world2.truth["params"]["start_year"]
    cohorts = e.loc[e["entry_year"] > start, "entry_year"].value_counts()
    assert len(cohorts) == 5 and cohorts.min() >= 10 and cohorts.sum() >= 100
    assert sorted(cohorts.index) == world2.truth["events"]["cohorts"]
    assert (e["entry_year"] == 0).sum() >= 100       # never treated
    assert (e["entry_year"] == start).sum() >= 5     # always treated (VI-owned from the first year)
    assert (e["exit_year"] > 0).sum() >= 10
    assert (e.loc[e["exit_year"] > 0, "exit_year"] > e.loc[e["exit_year"] > 0, "entry_year"]).all()
    # the outcomes table carries the same columns
    out = world2.data.outcomes.drop_duplicates("town_id").set_index("town_id")
    np.testing.assert_array_equal(out["entry_year"].to_numpy(dtype=float), ev.loc[out.index, "entry_year"].to_numpy(dtype=float))
    np.testing.assert_array_equal(out["exit_year"].to_numpy(dtype=float), ev.loc[out.index, "exit_year"].to_numpy(dtype=float))


def test_events_are_visible_in_the_registry(world2):
    """The town's largest firm passes to a VI group in the entry year and leaves it in the exit
    year; towns that never change owner have no VI employment at all."""
    from features.corporate import classify_groups

    data = world2.data
    vi = classify_groups(data.firms, data.groups)["vertically_integrated"]
    f = data.firms.assign(vi=data.firms["group_id"].map(vi).fillna(False).astype(bool))
    largest = f.sort_values(["employees", "firm_id"], ascending=[False, True]).drop_duplicates(["town_id", "year"])
    largest = largest.set_index(["town_id", "year"])
    ev = _events(world2)
    start = world2.truth["params"]["start_year"]
    entered = ev[ev["entry_year"] > start]
    at = largest.reindex(pd.MultiIndex.from_arrays([entered.index, entered["entry_year"].to_numpy()]))
    before = largest.reindex(pd.MultiIndex.from_arrays([entered.index, entered["entry_year"].to_numpy() - 1]))
    assert at["vi"].all() and before["group_id"].isna().all()
    assert (at["firm_id"].to_numpy() == before["firm_id"].to_numpy()).all()  # the same (anchor) firm
    left = ev[ev["exit_year"] > 0]
    last_on = largest.reindex(pd.MultiIndex.from_arrays([left.index, left["exit_year"].to_numpy() - 1]))
    assert last_on["vi"].all()
    gone = f.set_index(["firm_id", "year"]).reindex(
        pd.MultiIndex.from_arrays([last_on["firm_id"].to_numpy(), left["exit_year"].to_numpy()]))
    assert gone["group_id"].isna().all() and gone["town_id"].notna().all()
    r = world2.regressors.join(data.outcomes.set_index(["town_id", "year"])[["entry_year", "exit_year"]])
    assert (r.loc[r["entry_year"] == 0, "corp_share"] == 0).all()
    pre = r[(r["entry_year"] > start) & (r.index.get_level_values("year") < r["entry_year"])]
    assert (pre["corp_share"] == 0).all()
    on = r[(r["entry_year"] > start) & (r.index.get_level_values("year") >= r["entry_year"])
           & ((r["exit_year"] == 0) | (r.index.get_level_values("year") < r["exit_year"]))]
    assert on["corp_share"].min() >= 0.05


def _observed_effects(ds) -> pd.DataFrame:
    """Y(observed) - Y(untreated) of every municipality-year, from the tables and ds.potential."""
    out = ds.data.outcomes.set_index(["town_id", "year"])
    obs = pd.DataFrame({"log_wage": np.log(out["avg_wage"]), "log_employment": np.log(out["employment"]),
                        "log_population": np.log(out["population"])})
    return (obs - ds.potential.reindex(obs.index)).join(out[["entry_year"]])


def test_true_effects_are_the_potential_outcome_differences(world2):
    d = _observed_effects(world2)
    year = d.index.get_level_values("year")
    e = year - d["entry_year"]
    start = world2.truth["params"]["start_year"]
    treated = d["entry_year"] > start
    cols = ["log_wage", "log_employment", "log_population"]
    # no effect where there is no entry, nor before it (no anticipation)
    assert (d.loc[~treated, cols].fillna(0) == 0).all().all()
    assert (d.loc[treated & (e < 0), cols].fillna(0) == 0).all().all()
    eff = world2.truth["events"]["effects"]
    for y in cols:
        t = d[treated].assign(g=d["entry_year"][treated], e=e[treated])
        cell = t.groupby(["g", "e"])[y].mean()
        truth = pd.Series({(int(g), int(k)): v for g, path in eff[y]["by_cohort"].items() for k, v in path.items()})
        both = cell.index.intersection(truth.index)
        tol = 1e-12 if y != "log_wage" else 0.02  # blanked wage cells are in the truth, not in the tables
        np.testing.assert_allclose(cell[both].to_numpy(), truth[both].to_numpy(), atol=tol)
        # dynamic and overall aggregations of the cohort paths, weighted by cohort size
        n = pd.Series(eff[y]["cohort_sizes"]).rename(index=int)
        tr = truth.rename_axis(["g", "e"]).rename("att").reset_index()
        tr["n"] = tr["g"].map(n)
        dyn = tr.groupby("e").apply(lambda s: (s["att"] * s["n"]).sum() / s["n"].sum(), include_groups=False)
        np.testing.assert_allclose(dyn.to_numpy(), [eff[y]["dynamic"][str(k)] for k in dyn.index], rtol=1e-12)
        post = tr[tr["e"] >= 0]
        assert eff[y]["overall"] == pytest.approx((post["att"] * post["n"]).sum() / post["n"].sum(), rel=1e-12)
    # effects build up after entry, are larger for earlier cohorts, and switch off after exit
    w = eff["log_wage"]
    assert 0 < w["dynamic"]["0"] < 0.6 * max(w["dynamic"][str(k)] for k in range(3, 6))
    first, last = (w["by_cohort"][str(g)] for g in world2.truth["events"]["cohorts"][::4])
    assert first["2"] > last["2"]
    assert all(v < -0.02 for k, v in world2.truth["events"]["exit_effects"]["log_wage"]["dynamic"].items()
               if int(k) >= 0)


def test_status_shares_transitions_and_the_stagnation_logit(world2, world2_features):
    """Stagnating, intermediate and modernizing towns in meaningful shares; towns change type;
    the demo's logit of stagnation covers the known coefficients (statsmodels 0.14, clustered)."""
    import statsmodels.api as sm

    F = world2_features
    tt = pd.Series(world2.truth["town_types"])
    typed = tt[tt.isin(TYPES)].index
    st = F.loc[F.index.get_level_values("town_id").isin(typed), "status"].dropna().astype(str)
    share = st.value_counts(normalize=True)
    assert 0.15 <= share["modernizing"] <= 0.35
    assert 0.25 <= share["stagnating"] <= 0.5 and share["intermediate"] >= 0.25
    by_year = world2.truth["events"]["types_by_year"]
    switched = sum(len(set(v.values())) > 1 for v in by_year.values())
    assert switched >= 100
    assert {v for t in by_year.values() for v in t.values()} == set(TYPES)
    # the demo's model: status ~ corp_share + core_control_share + dist_core_km on every row with a status
    m = F.reset_index().dropna(subset=["status", "corp_share", "core_control_share", "dist_core_km"])
    y = (m["status"].astype(str) == "stagnating").astype(float)
    X = sm.add_constant(m[["corp_share", "core_control_share", "dist_core_km"]]).rename(columns={"const": "Intercept"})
    fit = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": pd.factorize(m["town_id"])[0]})
    ci = fit.conf_int()
    true = world2.truth["equations"]["stagnation"]["coefficients"]
    for term, value in true.items():
        assert ci.loc[term, 0] <= value <= ci.loc[term, 1], term
    # the regressors the features compute are the generator's
    j = F[["corp_share"]].rename(columns={"corp_share": "feature"}).join(world2.regressors, how="inner")
    np.testing.assert_allclose(j["feature"], j["corp_share"], atol=1e-12)


def _within(v: np.ndarray, town: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Two-way within transformation by alternating projections (to 1e-12)."""
    v = v.astype(float).copy()
    for _ in range(500):
        v -= pd.Series(v).groupby(town).transform("mean").to_numpy()
        step = pd.Series(v).groupby(year).transform("mean").to_numpy()
        v -= step
        if np.abs(step).max() < 1e-12:
            break
    return v


def _cs_2x2(panel: pd.DataFrame, y: str) -> tuple[dict, float]:
    """Callaway-Sant'Anna group-time ATTs by 2 x 2 mean differences against the never-treated
    (base year g - 1), aggregated like the truth (cohort-size weights)."""
    W = panel.pivot(index="town_id", columns="year", values=y)
    g = panel.groupby("town_id")["entry_year"].first().reindex(W.index)
    never = (g == 0).to_numpy()
    cells = []
    for gg in sorted(g[g > 0].unique()):
        mem = (g == gg).to_numpy()
        for t in W.columns[W.columns >= gg]:
            d = (W[t] - W[gg - 1]).to_numpy()
            cells.append((t - gg, np.nanmean(d[mem]) - np.nanmean(d[never]), mem.sum()))
    c = pd.DataFrame(cells, columns=["e", "att", "n"])
    dyn = c.groupby("e").apply(lambda s: (s["att"] * s["n"]).sum() / s["n"].sum(), include_groups=False)
    return dyn.to_dict(), float((c["att"] * c["n"]).sum() / c["n"].sum())


def test_naive_twfe_is_biased_while_group_time_differences_recover_the_truth(world2):
    """On the default world (towns: never treated and entry cohorts; always-treated left out):
    the static two-way fixed-effects DiD of log wages misses the true overall ATT (0.0972) by
    more than 0.009 (it gives 0.0867: -11 %, about 3 of its standard errors), while 2 x 2
    Callaway-Sant'Anna group-time differences against the never-treated give it within 0.0035
    (0.0972) and the true dynamic path within 0.012 at event times 0..5; for log employment and
    log population (smaller effects, noisier) within 0.006 and 0.008."""
    out = world2.data.outcomes
    start = world2.truth["params"]["start_year"]
    towns = world2.data.towns
    typed = towns.loc[(towns["kind"] == "town") & ~towns["town_id"].isin(world2.truth["cores"]), "town_id"]
    panel = out[out["town_id"].isin(typed) & ((out["entry_year"] == 0) | (out["entry_year"] > start))].assign(
        log_wage=lambda d: np.log(d["avg_wage"]), log_employment=lambda d: np.log(d["employment"]),
        log_population=lambda d: np.log(d["population"]))
    eff = world2.truth["events"]["effects"]
    tol = {"log_wage": (0.0035, 0.012), "log_employment": (0.006, 0.008), "log_population": (0.006, 0.008)}
    for y, (tol_overall, tol_path) in tol.items():
        dyn, overall = _cs_2x2(panel, y)
        assert abs(overall - eff[y]["overall"]) < tol_overall, y
        for k in range(6):
            assert abs(dyn[k] - eff[y]["dynamic"][str(k)]) < tol_path, (y, k)
    d = panel.dropna(subset=["log_wage"])
    town, year = d["town_id"].to_numpy(), d["year"].to_numpy()
    D = ((d["entry_year"] > 0) & (d["year"] >= d["entry_year"])).to_numpy(dtype=float)
    Dw, yw = _within(D, town, year), _within(d["log_wage"].to_numpy(), town, year)
    twfe = float(Dw @ yw / (Dw @ Dw))
    assert twfe - eff["log_wage"]["overall"] < -0.009


def test_synth_command_writes_the_world_asked(tmp_path):
    """`typology synth --world 3` writes world 3 (its truth says so); an unknown world is bad usage."""
    import json

    from typology.cli import main

    assert main(["synth", "--towns", "8", "--years", "5", "--world", "3", "--out", str(tmp_path / "w3"),
                 "--quiet"]) == 0
    truth = json.loads((tmp_path / "w3" / "truth.json").read_text(encoding="utf-8"))
    assert truth["params"]["world"] == 3 and "spatial" in truth
    with pytest.raises(SystemExit) as exc:
        main(["synth", "--world", "4", "--out", str(tmp_path / "w4")])
    assert exc.value.code == 2 and not (tmp_path / "w4").exists()
