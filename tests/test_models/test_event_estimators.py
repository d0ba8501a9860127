"""Event studies by hand on small panels, on simulated panels with known effects, and their
contracts (validation messages, reproducible bootstrap, read-only results, printing, plots)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import models
from models.event import EventDataError


def simulate(n=600, T=10, seed=0, cohorts=(2002, 2003, 2005), never=0.2, slope=None, noise=1.0,
             pretrend=0.0):
    """Staggered panel; the effect at event time e >= 0 is (1 + e) * slope of the cohort.
    Returns the data (indexed by town_id, year) and the true dynamic path (cohort-size weights)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2000 + T)
    k = len(cohorts)
    slope = np.linspace(0.1, 0.5, k) if slope is None else slope
    g = rng.choice(np.array([*cohorts, 0]), size=n, p=[(1 - never) / k] * k + [never])
    e = years[None, :] - g[:, None]
    s = np.select([g == c for c in cohorts], slope, 0.0)[:, None]
    eff = np.where((g[:, None] > 0) & (e >= 0), (1 + e) * s, 0.0)
    trend = np.where(g[:, None] > 0, pretrend * (years - 2000)[None, :], 0.0)
    y = (rng.normal(size=n)[:, None] + 0.2 * rng.normal(size=T).cumsum()[None, :] + eff + trend
         + noise * rng.normal(size=(n, T)))
    df = pd.DataFrame({"town_id": np.repeat([f"{i:05d}" for i in range(n)], T), "year": np.tile(years, n),
                       "y": y.ravel(), "g": np.repeat(g, T), "eff": eff.ravel()})
    tr = df[df["g"] > 0].assign(e=lambda d: d["year"] - d["g"])
    truth = tr.groupby("e")["eff"].mean()
    return df.set_index(["town_id", "year"]), truth


# ----------------------------------------------------------------------------- by hand
def test_two_cohort_att_is_a_difference_of_four_means():
    df, _ = simulate(n=60, T=5, cohorts=(2002, 2003), never=0.4, seed=4)
    r = models.event_study(df, "y", "g", control="never_treated", n_boot=0)
    d = df.reset_index()
    m = d.pivot_table(index="g", columns="year", values="y", aggfunc="mean")
    for g, t in [(2002, 2002), (2002, 2004), (2003, 2004)]:
        b = g - 1
        hand = (m.loc[g, t] - m.loc[g, b]) - (m.loc[0, t] - m.loc[0, b])
        assert r.group_time.loc[(g, t), "estimate"] == pytest.approx(hand, abs=1e-12)
    # pre-period, varying base: year t against t - 1
    hand = (m.loc[2003, 2002] - m.loc[2003, 2001]) - (m.loc[0, 2002] - m.loc[0, 2001])
    assert r.group_time.loc[(2003, 2002), "estimate"] == pytest.approx(hand, abs=1e-12)
    u = models.event_study(df, "y", "g", control="never_treated", n_boot=0, base_period="universal")
    hand = (m.loc[2003, 2001] - m.loc[2003, 2002]) - (m.loc[0, 2001] - m.loc[0, 2002])
    assert u.group_time.loc[(2003, 2001), "estimate"] == pytest.approx(hand, abs=1e-12)
    assert u.group_time.loc[(2003, 2002), "estimate"] == 0 and np.isnan(u.group_time.loc[(2003, 2002), "std_error"])


def test_imputation_by_dummy_regression_and_bjs_variance_by_brute_force():
    df, _ = simulate(n=40, T=6, cohorts=(2002, 2004), never=0.3, seed=7)
    r = models.event_study(df, "y", "g", method="imputation", n_boot=0)
    d = df.reset_index()
    e = np.where(d["g"] > 0, d["year"] - d["g"], -99)
    treated = e >= 0
    Z = np.column_stack([pd.get_dummies(d["town_id"]).to_numpy(float), pd.get_dummies(d["year"]).to_numpy(float)[:, 1:]])
    Z0, Z1 = Z[~treated], Z[treated]
    coef = np.linalg.lstsq(Z0, d["y"].to_numpy()[~treated], rcond=None)[0]
    tau = d["y"].to_numpy()[treated] - Z1 @ coef
    e1 = e[treated]
    for v in (0, 2):
        w1 = (e1 == v) / (e1 == v).sum()
        assert r.dynamic.loc[v, "estimate"] == pytest.approx(w1 @ tau, abs=1e-10)
        # BJS Theorem 3: v0 = -Z0 (Z0'Z0)^+ Z1' w1; residuals: untreated fit, tau minus its cohort x e mean
        v0 = -Z0 @ np.linalg.pinv(Z0.T @ Z0) @ Z1.T @ w1
        res0 = d["y"].to_numpy()[~treated] - Z0 @ coef
        cell = pd.Series(tau).groupby([d["g"].to_numpy()[treated], e1]).transform("mean").to_numpy()
        contrib = pd.Series(np.concatenate([w1 * (tau - cell), v0 * res0]),
                            index=np.concatenate([d["town_id"][treated], d["town_id"][~treated]]))
        se = np.sqrt((contrib.groupby(level=0).sum() ** 2).sum())
        assert r.dynamic.loc[v, "std_error"] == pytest.approx(se, rel=1e-9)


# ----------------------------------------------------------------------------- known truth
@pytest.fixture(scope="module")
def heterogeneous():
    # every town eventually treated but a few; effects grow with event time and differ by cohort
    return simulate(n=3000, T=12, cohorts=(2002, 2004, 2006, 2008), never=0.05, slope=(0.6, 0.4, 0.2, 0.05),
                    noise=0.5, seed=11)


@pytest.mark.parametrize("method", ["callaway_santanna", "sun_abraham", "imputation"])
def test_robust_estimators_cover_the_true_path_in_the_uniform_band(heterogeneous, method):
    df, truth = heterogeneous
    r = models.event_study(df, "y", "g", method=method, n_boot=299, random_state=5, lags=5, leads=5)
    d = r.dynamic.loc[0:5]
    t = truth.loc[d.index]
    assert ((d["band_lower"] <= t) & (t <= d["band_upper"])).all(), (d, t)
    pre = r.dynamic.loc[-5:-2]
    assert ((pre["band_lower"] <= 0) & (0 <= pre["band_upper"])).all()
    assert r.pretrend["pvalue"] > 0.001


def test_two_way_event_study_is_visibly_biased_on_the_same_data(heterogeneous):
    df, truth = heterogeneous
    r = models.event_study(df, "y", "g", method="twfe", n_boot=299, random_state=5, leads=3, lags=3)
    d = r.dynamic.loc[0:2]  # (3 is the binned end point)
    t = truth.loc[d.index]
    outside = (t < d["band_lower"]) | (t > d["band_upper"])
    assert outside.sum() >= 3, (d, t)
    cs = models.event_study(df, "y", "g", n_boot=0)
    true_att = df.loc[df["eff"] > 0, "eff"].mean()
    static = models.bacon_decomposition(df, "y", "g").attrs["twfe"]
    assert abs(static - true_att) > 5 * abs(cs.overall["estimate"] - true_att)


def test_pretrend_test_rejects_a_violation_and_states_its_df():
    df, _ = simulate(n=1500, T=8, pretrend=0.15, seed=2)
    r = models.event_study(df, "y", "g", n_boot=0)
    pre = r.dynamic.index[r.dynamic.index < 0]
    assert r.pretrend["df"] == len(pre)
    assert r.pretrend["pvalue"] < 1e-6
    ok, _ = simulate(n=1500, T=8, seed=2)
    assert models.event_study(ok, "y", "g", n_boot=0).pretrend["pvalue"] > 0.001


# ----------------------------------------------------------------------------- contracts
def test_bootstrap_is_reproducible_and_independent_of_n_jobs():
    df, _ = simulate(n=300, T=8, seed=1)
    a = models.event_study(df, "y", "g", n_boot=400, random_state=3)
    b = models.event_study(df, "y", "g", n_boot=400, random_state=3, n_jobs=2)
    c = models.event_study(df, "y", "g", n_boot=400, random_state=4)
    pd.testing.assert_frame_equal(a.dynamic, b.dynamic)
    assert a.crit_value == b.crit_value != c.crit_value
    z = 1.959963984540054
    k = a.dynamic["std_error"].notna().sum()
    from scipy import stats

    assert z < a.crit_value < stats.norm.ppf(1 - 0.025 / k) + 0.2  # between pointwise and Bonferroni


def test_result_is_read_only_and_prints_nothing_impossible():
    df, _ = simulate(n=200, T=7, seed=8)
    r = models.event_study(df, "y", "g", method="sun_abraham", n_boot=0)
    d = r.dynamic
    d.loc[:, "estimate"] = 99.0
    assert (r.dynamic["estimate"] != 99.0).all()
    with pytest.raises(AttributeError):
        r.method = "twfe"
    text = r.summary()
    assert "nan" not in text.lower() and "inf" not in text.lower()
    ref_line = next(line for line in text.splitlines() if line.strip().startswith("-1 "))
    assert "*" not in ref_line
    assert "no uniform band" in text
    long = r.to_frame()
    assert set(long["table"]) >= {"dynamic", "overall"}
    assert list(r.pretrend.index) == ["statistic", "df", "pvalue"]


def test_event_plot_draws_several_estimators_side_by_side():
    df, _ = simulate(n=300, T=8, seed=9)
    res = {m: models.event_study(df, "y", "g", method=m, n_boot=99, random_state=0)
           for m in ("callaway_santanna", "twfe")}
    ax = models.event_plot(res)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"callaway_santanna", "twfe", "pre-period"} <= set(labels)
    assert res["twfe"].plot() is not None


def test_columns_instead_of_index_are_accepted():
    df, _ = simulate(n=100, T=6, seed=3)
    a = models.event_study(df, "y", "g", n_boot=0)
    b = models.event_study(df.reset_index(), "y", "g", n_boot=0)
    pd.testing.assert_frame_equal(a.dynamic, b.dynamic)
    with pytest.raises(EventDataError, match="indexed by"):
        models.event_study(df.reset_index().rename(columns={"year": "yr"}), "y", "g")


def test_validation_names_column_and_towns():
    df, _ = simulate(n=100, T=6, seed=3)
    d = df.reset_index()
    bad = d.copy()
    bad.loc[bad.index[0], "g"] = 2004 if bad.loc[bad.index[0], "g"] != 2004 else 2003
    with pytest.raises(EventDataError, match=r"cohort column 'g'.*changes within 1 towns: 00000"):
        models.event_study(bad, "y", "g")
    out = d.copy()
    out.loc[out["town_id"] == "00001", "g"] = 2030
    with pytest.raises(EventDataError, match=r"outside the panel's years.*00001 \(2030\)"):
        models.event_study(out, "y", "g")
    ex = d.assign(exit_year=0)
    ex.loc[ex["town_id"].isin(["00002", "00005"]), "exit_year"] = 2004
    with pytest.raises(EventDataError, match=r"switches off in 2 towns.*00002, 00005"):
        models.event_study(ex, "y", "g")
    assert models.event_study(ex, "y", "g", exit=None, n_boot=0).n_towns == 100
    nonever = d[d["g"] != 0]
    with pytest.raises(EventDataError, match="never-treated towns"):
        models.event_study(nonever, "y", "g", control="never_treated")
    r = models.event_study(nonever, "y", "g", n_boot=0)
    assert any("last cohort" in n for n in r.notes)
    with pytest.raises(ValueError, match="method must be one of"):
        models.event_study(d, "y", "g", method="did")
    with pytest.raises(EventDataError, match="outcome column 'z'"):
        models.event_study(d, "z", "g")


@pytest.mark.slow
def test_monte_carlo_coverage_of_the_robust_estimators():
    """200 panels of 400 towns: the 95 % intervals of the overall ATT cover the truth (the mean
    effect over treated town-years, every estimator's overall estimand here) 92-98 % of the time."""
    hits = {m: [] for m in ("callaway_santanna", "imputation", "sun_abraham")}
    for rep in range(200):
        df, _ = simulate(n=400, T=8, seed=1000 + rep)
        d = df.reset_index()
        true = d.loc[(d["g"] > 0) & (d["year"] >= d["g"]), "eff"].mean()
        for m in hits:
            o = models.event_study(df, "y", "g", method=m, n_boot=0, control="never_treated").overall
            hits[m].append(o["ci_lower"] <= true <= o["ci_upper"])
    for m, h in hits.items():
        assert 0.92 <= np.mean(h) <= 0.98, (m, np.mean(h))


def test_a_uniform_band_is_never_narrower_than_the_pointwise_intervals():
    """With few draws the sup-t quantile can fall below the normal one; the band is then the
    pointwise interval, with a note (R did's ``mboot`` rule)."""
    df, _ = simulate(n=200, T=6, seed=2, cohorts=(2003,))
    floored = 0
    for seed in range(12):
        r = models.event_study(df, "y", "g", n_boot=19, random_state=seed)
        d = r.dynamic.dropna(subset=["std_error"])
        assert (d["band_upper"] - d["band_lower"] >= d["ci_upper"] - d["ci_lower"] - 1e-12).all()
        floored += any("R did's rule" in n for n in r.notes)
    assert floored > 0  # the case occurs with these draws
