"""The feature table: canonical columns, fitted reference, scoring subsets, truth of the generator."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from features import (
    FeatureBuilder,
    FeatureWarning,
    TownData,
    build_features,
    data_dictionary,
    employment_matrix,
)
from features.builder import STATUSES, stagnation_status
from features.dictionary import GROUPS, group_columns
from features.diversification import variety_decomposition
from features.specialization import (
    hachman,
    hhi,
    krugman,
    leading_sector,
    ogive,
    theil_specialization,
)

CANONICAL = ["lq_max", "leading_sector", "leading_share", "n_specialized", "krugman", "hhi", "hhi_norm", "theil",
             "hachman", "entropy", "related_variety", "unrelated_variety", "effective_sectors", "corp_share",
             "external_control_share", "core_control_share", "largest_employer_share", "n_groups", "dist_core_km",
             "market_potential", "core_access", "core_links", "rural_reach", "pagerank", "hub", "authority",
             "pop_growth", "emp_growth", "wage_growth", "entropy_change", "status", "coverage"]  # DESIGN.md section 5
GROUP_COLUMNS = {g: group_columns(g, ("links",)) for g in GROUPS}  # every column each group can produce


@pytest.fixture(scope="module")
def fitted(synthetic):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        fb = FeatureBuilder().fit(synthetic.data)
    return fb


@pytest.fixture(scope="module")
def full(fitted, synthetic):
    return fitted.transform(synthetic.data)


def test_canonical_columns_and_index(synthetic_features):
    F = synthetic_features
    missing = [c for c in CANONICAL if c not in F.columns]
    assert not missing
    assert F.index.names == ["town_id", "year"]
    assert F.index.is_unique and F.index.is_monotonic_increasing
    assert F["leading_sector"].dtype == "str" and F["status"].dtype == "str"
    assert set(F["status"].dropna()) <= set(STATUSES)
    numeric = F.drop(columns=["leading_sector", "status"])
    assert all(pd.api.types.is_float_dtype(t) for t in numeric.dtypes)


def test_one_row_per_town_year_with_employment(synthetic, synthetic_features):
    E = employment_matrix(synthetic.data.employment)
    assert synthetic_features.index.equals(E.index)


def test_data_dictionary_covers_every_column():
    d = data_dictionary()
    producible = {c for cols in GROUP_COLUMNS.values() for c in cols} | {"coverage"}
    assert producible == set(d.index)
    assert d.index.is_unique
    assert (d["definition"].str.len() > 10).all() and d["source"].notna().all()
    for g, cols in GROUP_COLUMNS.items():
        assert (d.loc[cols, "group"] == g).all()


def test_builder_equals_the_public_functions(synthetic, fitted, full):
    """Each index column is the public function applied with the year's national shares (up to
    the rounding of summing the shares in another order)."""
    E = employment_matrix(synthetic.data.employment)
    years = E.index.get_level_values("year")
    ref = pd.DataFrame(fitted.national_.loc[years].to_numpy(), index=E.index, columns=E.columns)
    lead = leading_sector(E, reference=ref)
    assert (full["leading_sector"] == lead["leading_sector"].astype("str")).all()
    for c in ("lq_max", "leading_share", "n_specialized"):
        assert_allclose(full[c].to_numpy(), lead[c].to_numpy(), rtol=1e-13)
    assert_allclose(full["krugman"].to_numpy(), krugman(E, reference=ref).to_numpy(), rtol=1e-13)
    assert_allclose(full["theil"].to_numpy(), theil_specialization(E, reference=ref).to_numpy(), rtol=1e-13)
    assert_allclose(full["hachman"].to_numpy(), hachman(E, reference=ref).to_numpy(), rtol=1e-13)
    assert_allclose(full["hhi"].to_numpy(), hhi(E).to_numpy(), rtol=1e-13)
    assert_allclose(full["hhi_norm"].to_numpy(), hhi(E, normalized=True).to_numpy(), rtol=1e-13)
    assert_allclose(full["ogive"].to_numpy(), ogive(E).to_numpy(), rtol=1e-13)
    d = variety_decomposition(E)
    for c in ("entropy", "related_variety", "unrelated_variety"):
        assert_allclose(full[c].to_numpy(), d[c].to_numpy(), rtol=1e-13, atol=1e-14)
    assert_allclose(full["effective_sectors"].to_numpy(), 1 / hhi(E).to_numpy(), rtol=1e-13)


def test_true_regressors_of_the_generator(synthetic, full):
    r = synthetic.regressors
    assert r.index.sort_values().equals(full.index)
    j = full[["corp_share", "core_control_share"]].join(r.add_suffix("_true"))
    for c in ("corp_share", "core_control_share"):
        assert_allclose(j[c].to_numpy(), j[f"{c}_true"].to_numpy(), rtol=0, atol=1e-12)
    assert j["corp_share"].gt(0).mean() > 0.2  # the test has something to compare


def test_scoring_a_subset_equals_the_full_panel(synthetic, fitted, full):
    towns = synthetic.data.towns
    rng = np.random.default_rng(0)
    cores = synthetic.truth["cores"][:2]
    rural = towns.loc[towns["kind"] == "rural", "town_id"].to_numpy()[:5]
    others = rng.choice(towns["town_id"].to_numpy(), 40, replace=False)
    ids = sorted(set(cores) | set(rural) | set(others))
    sub = fitted.transform(synthetic.data.subset(ids))
    assert set(sub.index.get_level_values("town_id")) == set(ids)
    ref = full.loc[sub.index]
    for c in sub.columns:
        if c in ("market_potential", "core_access"):  # blocked matrix products: rounding only
            assert_allclose(sub[c].to_numpy(), ref[c].to_numpy(), rtol=1e-12)
        elif sub[c].dtype == "str":
            assert sub[c].fillna("<NA>").equals(ref[c].fillna("<NA>")), c
        else:
            assert np.array_equal(sub[c].to_numpy(), ref[c].to_numpy(), equal_nan=True), c


def test_new_towns_are_scored_against_the_reference_one_by_one(synthetic):
    towns = synthetic.data.towns
    small = towns.loc[(towns["kind"] == "town") & ~towns["town_id"].isin(synthetic.truth["cores"]), "town_id"]
    new = list(small.iloc[:3])
    keep = [t for t in towns["town_id"] if t not in new]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        fb = FeatureBuilder(groups=["specialization", "diversification", "agglomeration", "dynamics"])
        fb.fit(synthetic.data.subset(keep))
        together = fb.transform(synthetic.data.subset(new, keep_context=True))
        alone = fb.transform(synthetic.data.subset(new[:1], keep_context=True))
    rows = alone.index
    for c in ("lq_max", "krugman", "theil", "market_potential", "core_access", "dist_core_km", "emp_growth"):
        assert_allclose(alone[c].to_numpy(), together.loc[rows, c].to_numpy(), rtol=1e-12, err_msg=c)
    # the national reference is the fitted one, not the new towns' own
    assert np.isfinite(together["market_potential"]).all()


def test_status_rule_truth_table():
    nan = np.nan
    #            pop    emp   wage  nat   comp
    cases = [(-1.0, -1.0, 9.0, 1.0, 1.0, "stagnating"),
             (-1.0, 0.5, 9.0, 1.0, 0.0, "modernizing"),
             (0.5, -1.0, 0.5, 1.0, 1.0, "intermediate"),
             (0.5, 0.5, 9.0, 1.0, -0.1, "intermediate"),
             (nan, -1.0, 9.0, 1.0, 1.0, None),  # employment falls, population unknown: undecided
             (nan, 0.5, 9.0, 1.0, 1.0, "modernizing"),
             (0.5, 0.5, nan, 1.0, 1.0, None),  # not stagnating, wage growth unknown: undecided
             (0.5, 0.5, nan, 1.0, -1.0, "intermediate"),  # competitive < 0 decides it
             (-1.0, -1.0, nan, nan, nan, "stagnating"),
             (nan, nan, nan, nan, nan, None)]
    arr = np.array([c[:5] for c in cases], dtype=float).T
    out = stagnation_status(*arr)
    assert list(out) == [c[5] for c in cases]


def test_status_column_follows_the_rule_and_the_truth(synthetic, fitted, full):
    years = full.index.get_level_values("year").to_numpy()
    base_year = fitted.base_["base_year"].reindex(full.index.get_level_values("town_id")).to_numpy()
    nw = fitted.national_wage_
    with np.errstate(invalid="ignore", divide="ignore"):
        nat = 100 * (np.log(nw.reindex(years).to_numpy()) - np.log(nw.reindex(base_year).to_numpy())) / (years - base_year)
    expected = stagnation_status(full["pop_growth"], full["emp_growth"], full["wage_growth"], nat, full["ss_competitive"])
    got = full["status"].to_numpy(dtype=object)
    assert all((a == b) or (a is None and pd.isna(b)) for a, b in zip(expected, got, strict=True))
    assert full.loc[full["emp_growth"].isna(), "status"].isna().all()  # base years
    # the generator's detached towns lose population and jobs; its satellites grow
    types = pd.Series(synthetic.truth["town_types"])
    last = full.groupby(level="town_id").tail(1)
    kind = types.reindex(last.index.get_level_values("town_id")).to_numpy()
    stag = (last["status"] == "stagnating").to_numpy()
    assert stag[kind == "detached_simplified"].mean() >= 0.95
    assert stag[kind == "diversified_satellite"].mean() <= 0.1


def test_dynamics_columns_by_hand(synthetic, fitted, full):
    E = employment_matrix(synthetic.data.employment)
    ent = variety_decomposition(E)["entropy"]
    tid = full.index.get_level_values("town_id")
    base = fitted.base_.reindex(tid)
    years = full.index.get_level_values("year").to_numpy()
    dt = years - base["base_year"].to_numpy()
    later = dt > 0
    assert_allclose(full["entropy_change"].to_numpy()[later], (ent.to_numpy() - base["entropy"].to_numpy())[later],
                    rtol=1e-12, atol=1e-14)
    emp = np.nansum(E.to_numpy(), axis=1)
    g = 100 * (np.log(emp) - np.log(base["employment"].to_numpy())) / np.where(later, dt, np.nan)
    assert_allclose(full["emp_growth"].to_numpy()[later], g[later], rtol=1e-12)
    ss = full[["ss_national_share", "ss_industry_mix", "ss_competitive"]].sum(axis=1).to_numpy()
    # the components add up to the growth of employment in the sectors published in both years
    e0 = fitted.base_E_.reindex(tid).to_numpy()
    both = ~(np.isnan(e0) | np.isnan(E.to_numpy()))
    b0 = np.where(both, e0, 0).sum(axis=1)
    b1 = np.where(both, E.to_numpy(), 0).sum(axis=1)
    assert_allclose(ss[later], ((b1 - b0) / b0)[later], rtol=1e-9, atol=1e-12)
    # the national component per base-year job is the national growth rate since the base year
    nat = fitted.national_.sum(axis=1)
    g = nat.reindex(years).to_numpy() / nat.reindex(base["base_year"].to_numpy()).to_numpy() - 1
    assert_allclose(full["ss_national_share"].to_numpy()[later], g[later], rtol=1e-12)


def test_agglomeration_columns(synthetic, fitted, full):
    cores = synthetic.truth["cores"]
    at_core = full.index.get_level_values("town_id").isin(cores)
    assert (full.loc[at_core, "dist_core_km"] == 0).all()
    assert (full.loc[~at_core, "dist_core_km"] > 0).all()
    assert list(fitted.cores_) == cores
    assert (full["market_potential"] > full["core_access"]).all()
    types = pd.Series(synthetic.truth["town_types"])
    last = full.groupby(level="town_id").tail(1)
    kind = types.reindex(last.index.get_level_values("town_id")).to_numpy()
    near = last["dist_core_km"].to_numpy()[np.isin(kind, ["integrated_connected", "diversified_satellite"])]
    far = last["dist_core_km"].to_numpy()[np.isin(kind, ["corporate_remote", "detached_simplified"])]
    assert near.max() <= 230 and far.min() >= 440  # the generator places them 40-220 km and 450+ km away


def test_fitted_reference_attributes(fitted, synthetic):
    assert fitted.skipped_ == {}
    assert list(fitted.get_feature_names_out()) == list(fitted.feature_names_out_)
    assert fitted.national_.shape == (len(fitted.years_), len(fitted.sectors_))
    E = employment_matrix(synthetic.data.employment)
    assert_allclose(fitted.national_.to_numpy().sum(), np.nansum(E.to_numpy()))


def test_skipped_groups_are_reported(synthetic):
    data = synthetic.data.replace(firms=None, groups=None)
    with pytest.warns(FeatureWarning) as record:
        fb = FeatureBuilder().fit(data)
    assert {str(w.message).split("'")[1] for w in record if "skipped" in str(w.message)} == set(fb.skipped_)
    assert set(fb.skipped_) == {"corporate", "network", "town_village"}
    assert "firms" in fb.skipped_["corporate"]
    assert not set(GROUP_COLUMNS["corporate"]) & set(fb.feature_names_out_)
    with pytest.raises(ValueError, match="corporate"):
        FeatureBuilder(groups=["corporate"]).fit(data)


def test_towns_without_employment_are_named(small_synthetic):
    d = small_synthetic.data
    gone = d.towns["town_id"].iloc[5]
    data = d.replace(employment=d.employment[d.employment["town_id"] != gone])
    with pytest.warns(FeatureWarning, match="no employment rows"):
        fb = FeatureBuilder(groups=["specialization"]).fit(data)
    assert fb.towns_without_employment_ == [gone]


def test_estimator_contract(small_synthetic):
    fb = FeatureBuilder(groups=["specialization", "diversification"], base=2.0)
    assert fb.get_params()["base"] == 2.0
    assert fb.set_params(base=10.0) is fb and fb.base == 10.0
    with pytest.raises(ValueError, match="unknown parameter"):
        fb.set_params(colour="red")
    with pytest.raises(RuntimeError, match="not fitted"):
        fb.transform(small_synthetic.data)
    assert fb.fit(small_synthetic.data) is fb
    with pytest.raises(TypeError, match="TownData"):
        fb.transform(small_synthetic.data.employment)
    for bad in ({"groups": ["nonsense"]}, {"missing": "zero"}, {"mp_decay": "linear"}, {"groups": "specialization"},
                {"core_population": 0}, {"base": 1.0}):
        with pytest.raises(ValueError):
            FeatureBuilder(**bad).fit(small_synthetic.data)


def test_deterministic_and_picklable(small_synthetic):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        a = build_features(small_synthetic.data)
        fb = FeatureBuilder().fit(small_synthetic.data)
        b = pickle.loads(pickle.dumps(fb)).transform(small_synthetic.data)
    pd.testing.assert_frame_equal(a, build_features(small_synthetic.data))
    pd.testing.assert_frame_equal(a.drop(columns=["market_potential", "core_access"]),
                                  b.drop(columns=["market_potential", "core_access"]))
    assert_allclose(a["market_potential"], b["market_potential"], rtol=1e-12)
    d = pickle.loads(pickle.dumps(small_synthetic.data))
    assert isinstance(d, TownData) and d.fingerprint() == small_synthetic.data.fingerprint()


def test_threads_do_not_change_the_features(synthetic):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        one = build_features(synthetic.data, n_jobs=1)
        two = build_features(synthetic.data, n_jobs=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    with pytest.raises(ValueError, match="n_jobs"):
        FeatureBuilder(n_jobs=0).fit(synthetic.data)


def test_new_years_are_mapped_with_a_warning(small_synthetic):
    d = small_synthetic.data
    fb = FeatureBuilder(groups=["specialization"]).fit(d)
    last = int(d.years.max())
    moved = d.replace(employment=d.employment.assign(year=d.employment["year"] + 1),
                      outcomes=d.outcomes.assign(year=d.outcomes["year"] + 1))
    with pytest.warns(FeatureWarning, match=str(last + 1)):
        F = fb.transform(moved)
    E = employment_matrix(moved.employment)
    lastE = E.xs(last + 1, level="year", drop_level=False)
    ref = pd.Series(fb.national_.loc[last].to_numpy(), index=E.columns)
    assert_allclose(F.loc[lastE.index, "krugman"].to_numpy(), krugman(lastE, reference=ref).to_numpy(), rtol=1e-15)


def test_missing_raise_refuses_suppressed_cells(small_synthetic):
    assert small_synthetic.data.employment["employment"].isna().any()
    with pytest.raises(ValueError, match="suppressed"):
        build_features(small_synthetic.data, groups=["specialization"], missing="raise")


def test_coverage_column(small_synthetic):
    F = build_features(small_synthetic.data, groups=["specialization"])
    E = employment_matrix(small_synthetic.data.employment)
    X = E.to_numpy()
    nan = np.isnan(X)
    expected = 1 - nan.sum(axis=1) / (nan | (np.nan_to_num(X) > 0)).sum(axis=1)
    assert_allclose(F["coverage"].to_numpy(), expected)
    assert (F["coverage"] < 1).any() and (F["coverage"] > 0).all()


def test_self_potential_equals_the_public_function(small_synthetic):
    data = small_synthetic.data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        fb = FeatureBuilder(groups=["agglomeration"], self_potential=True)
        F = fb.fit_transform(data)
        plain = FeatureBuilder(groups=["agglomeration"]).fit_transform(data)
    from features.connectivity import market_potential_from_coords

    for y in (int(fb.years_[0]), int(fb.years_[-1])):
        mass = fb.masses_[y].dropna()
        t = data.towns.set_index("town_id").loc[mass.index]
        ref = market_potential_from_coords(mass, t["lat"], t["lon"], self_potential=True, area_km2=t["area_km2"],
                                           min_distance_km=fb.min_distance_km)["market_potential"]
        got = F.xs(y, level="year")["market_potential"]
        assert_allclose(got.to_numpy(), ref.reindex(got.index).to_numpy(), rtol=1e-12)
        # the self term mass_i / ((2/3) sqrt(area_i / pi)) is what the option adds (Keeble et al. 1982)
        own = mass.reindex(got.index) / ((2.0 / 3.0) * np.sqrt(t["area_km2"].reindex(got.index) / np.pi))
        assert_allclose((got - plain.xs(y, level="year")["market_potential"]).to_numpy(), own.to_numpy(), rtol=1e-9)


def test_rural_links_by_hand(small_synthetic):
    data = small_synthetic.data
    kind = data.towns.set_index("town_id")["kind"]
    emp_towns = pd.unique(data.employment["town_id"])
    a, b = [t for t in emp_towns if kind[t] == "town"][:2]
    r1, r2 = list(kind.index[kind == "rural"][:2])
    y = int(data.employment["year"].max())
    links = pd.DataFrame({"source_town_id": [a, r2, b, a, a, a],
                          "target_town_id": [r1, a, r1, b, r1, a],
                          "weight": [5.0, 2.0, 7.0, 100.0, 1.0, 50.0],
                          "year": [y, y, y, y, y - 1, y]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        F = FeatureBuilder(groups=["town_village"]).fit_transform(data.replace(links=links))
    got = F["rural_links"]
    # ties with rural municipalities either way, credited to the other end, summed per town and year;
    # town-town and self links ignored (a rural municipality's tie with a town counts for the town)
    expected = pd.Series(0.0, index=F.index)
    expected[(a, y)] = 5.0 + 2.0
    expected[(a, y - 1)] = 1.0
    expected[(b, y)] = 7.0
    expected = expected.reindex(F.index)  # rural municipalities without employment have no row
    assert_allclose(got.to_numpy(), expected.to_numpy())
    # links without a year (one row per pair) hold in every year: each town's sum over its rural ties
    undated = links.drop(index=4).drop(columns="year")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        F = FeatureBuilder(groups=["town_village"]).fit_transform(data.replace(links=undated))
    town = F.index.get_level_values("town_id")
    expected = np.select([town == a, town == b], [5.0 + 2.0, 7.0], 0.0)
    assert_allclose(F["rural_links"].to_numpy(), expected)
    assert (town == a).sum() > 1 and (town == b).sum() > 1  # the sums are repeated in every year


def test_sectors_outside_the_fitted_universe_are_refused(small_synthetic):
    data = small_synthetic.data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        fb = FeatureBuilder().fit(data.replace(employment=data.employment[data.employment["sector"] != "01"]))
        with pytest.raises(ValueError, match=r"\['01'\] are not in the sector universe .* refit on data"):
            fb.transform(data)


def test_plan_says_which_groups_the_data_supports_without_fitting(small_synthetic):
    from features import FeatureBuilder

    data = small_synthetic.data
    b = FeatureBuilder(groups=["specialization", "corporate"])
    plan = b.plan(data.replace(firms=None, groups=None))
    assert "corporate" not in plan.groups and "network" not in plan.groups
    assert "specialization" in plan.groups and "firms" in plan.skipped["corporate"]
    assert not hasattr(b, "cores_") and b.groups == ["specialization", "corporate"]  # the builder is not fitted
    full = FeatureBuilder().plan(data)
    assert "corporate" in full.groups and full.skipped == {}
    fitted = FeatureBuilder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted.fit(data)
    assert list(full.cores) == list(fitted.cores_)
