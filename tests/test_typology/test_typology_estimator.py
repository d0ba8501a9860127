"""TownTypology on the embedded synthetic dataset: the issue's ground truth and the estimator contract."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from typology import ModelFileError, TownTypology, TypologyWarning, town_rows

DEFAULT_FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]


@pytest.fixture(scope="module")
def typed(synthetic, synthetic_features):
    """Typology input of the issue: last year, typed towns only, the DESIGN.md default features."""
    truth = pd.Series(synthetic.truth["town_types"])
    towns = truth.index[~truth.isin(["core", "rural"])]
    X = town_rows(synthetic_features, "last", sample=towns)[DEFAULT_FEATURES]
    return X, truth.loc[X.index]


@pytest.fixture(scope="module")
def fitted(typed):
    return TownTypology(random_state=0).fit(typed[0])


def test_auto_finds_the_true_number_of_types(fitted, typed, synthetic):
    assert fitted.n_types_ == synthetic.truth["n_types"] == 4
    assert adjusted_rand_score(typed[1], fitted.labels_) >= 0.9
    # every true type is one fitted type (truth of the generator)
    tab = pd.crosstab(fitted.labels_, typed[1])
    assert (tab.max(axis=0) / tab.sum(axis=0)).min() >= 0.95


def test_selection_evidence_and_reason(fitted):
    sel = fitted.selection_
    assert list(sel.index) == list(range(2, 11))
    for col in ("silhouette", "calinski_harabasz", "davies_bouldin", "gap", "gap_se", "bic", "jaccard_min",
                "prediction_strength", "admissible", "votes", "voted_by", "chosen"):
        assert col in sel.columns
    assert sel["chosen"].sum() == 1 and sel.loc[4, "chosen"]
    assert sel["bic"].isna().all()  # BIC is a Gaussian-mixture criterion only
    # more than one index supports the choice, and every type at k = 4 is valid in Hennig's sense
    assert sel.loc[4, "votes"] >= 3
    assert sel.loc[4, "jaccard_min"] >= 0.75
    assert "k = 4" in fitted.selection_reason_ and "Admissible k" in fitted.selection_reason_


def test_silhouette_matches_sklearn_on_the_chosen_partition(fitted, typed):
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    Z, _ = fitted.transform_plan_.transform(typed[0].to_numpy(dtype=float))
    lab = fitted.labels_.to_numpy()
    row = fitted.selection_.loc[fitted.n_types_]
    assert row["silhouette"] == pytest.approx(silhouette_score(Z, lab), rel=1e-12)
    assert row["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(Z, lab), rel=1e-12)
    assert row["davies_bouldin"] == pytest.approx(davies_bouldin_score(Z, lab), rel=1e-12)


def test_identical_labels_and_names_across_two_fits(fitted, typed):
    again = TownTypology(random_state=0).fit(typed[0])
    assert_series_equal(again.labels_, fitted.labels_)
    assert again.type_names_ == fitted.type_names_
    assert_frame_equal(again.selection_, fitted.selection_)
    assert_frame_equal(again.stability_, fitted.stability_)


def test_identical_results_for_n_jobs_1_and_2(fitted, typed):
    par = TownTypology(random_state=0, n_jobs=2).fit(typed[0])
    assert_series_equal(par.labels_, fitted.labels_)
    assert par.type_names_ == fitted.type_names_
    assert_frame_equal(par.selection_, fitted.selection_)
    assert_frame_equal(par.stability_, fitted.stability_)
    assert_series_equal(par.confidence_, fitted.confidence_)


def test_identical_labels_and_names_for_permuted_rows(fitted, typed):
    X = typed[0]
    perm = X.iloc[np.random.default_rng(7).permutation(len(X))]
    other = TownTypology(random_state=0).fit(perm)
    assert list(other.labels_.index) == list(perm.index)  # labels_ follows the caller's row order
    assert_series_equal(other.labels_.loc[X.index], fitted.labels_)
    assert other.type_names_ == fitted.type_names_
    assert_frame_equal(other.selection_, fitted.selection_)


def test_canonical_order_is_by_size_then_smallest_town_id(fitted):
    sizes = fitted.labels_.value_counts().sort_index()
    assert (np.diff(sizes.to_numpy()) <= 0).all()
    firsts = [min(fitted.labels_.index[fitted.labels_ == t]) for t in sizes.index]
    ties = sizes.to_numpy()[1:] == sizes.to_numpy()[:-1]
    assert all(firsts[i] < firsts[i + 1] for i in np.flatnonzero(ties))


def test_assign_on_training_towns_reproduces_labels(fitted, typed):
    X = typed[0]
    a = fitted.assign(X)
    assert list(a.columns[:7]) == ["type", "type_name", "runner_up", "margin", "posterior", "distance", "atypical"]
    assert {"ood", "ood_pvalue", "ood_reason"} <= set(a.columns)
    assert_series_equal(a["type"], fitted.labels_, check_names=False)
    assert_series_equal(fitted.predict(X), fitted.labels_)
    assert (a["type_name"] == a["type"].map(fitted.type_names_)).all()
    assert (a["runner_up"] != a["type"]).all()
    P = fitted.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert (P.idxmax(axis=1) == a["type"]).all()
    np.testing.assert_allclose(a["margin"], a["posterior"] - P.to_numpy()[np.arange(len(X)), a["runner_up"] - 1])
    # the training towns are the reference: at most ~1 % look novel, ~5 % atypical (conformal levels)
    assert a["ood"].mean() <= 0.02
    assert a["atypical"].mean() <= 0.08


@pytest.mark.parametrize("feature", DEFAULT_FEATURES)
@pytest.mark.parametrize("sign", [1, -1])
def test_town_ten_sd_away_is_flagged_ood(fitted, typed, feature, sign):
    X = typed[0]
    town = X.iloc[[0]].copy()
    town.index = ["far"]
    town[feature] = town[feature] + sign * 10 * X[feature].std()
    a = fitted.assign(town)
    assert bool(a.loc["far", "ood"])
    assert feature in a.loc["far", "ood_reason"]


def test_town_ten_sd_away_in_every_feature_is_flagged(fitted, typed):
    X = typed[0]
    town = (X.iloc[[5]] + 10 * X.std()).set_axis(["far"])
    a = fitted.assign(town)
    assert bool(a.loc["far", "ood"])


def test_novel_combination_inside_every_range_is_flagged(fitted, typed):
    """Each value is ordinary, the combination is not: the k-NN conformal p-value catches it."""
    X = typed[0]
    town = pd.DataFrame({"corp_share": [X["corp_share"].quantile(0.95)], "dist_core_km": [X["dist_core_km"].min()],
                         "entropy": [X["entropy"].max()], "largest_employer_share": [X["largest_employer_share"].min()],
                         "pop_growth": [X["pop_growth"].min()]}, index=["odd"])
    assert ((town.to_numpy() >= X.min().to_numpy()) & (town.to_numpy() <= X.max().to_numpy())).all()
    a = fitted.assign(town)
    assert bool(a.loc["odd", "ood"])
    assert "far from every reference town" in a.loc["odd", "ood_reason"]
    assert a.loc["odd", "ood_pvalue"] == pytest.approx(1 / (len(X) + 1))


def test_new_towns_from_the_same_process_are_typed_right(fitted):
    """Towns of another draw of the generator: typed like their truth, rarely flagged."""
    from features import build_features
    from typology import generate

    new = generate(n_towns=80, n_years=6, seed=11, n_cores=6, world=1)  # the reference: 6 cores, world 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats = build_features(new.data)
    truth = pd.Series(new.truth["town_types"])
    Xn = town_rows(feats, "last", sample=truth.index[~truth.isin(["core", "rural"])])[DEFAULT_FEATURES]
    a = fitted.assign(Xn)
    assert adjusted_rand_score(truth.loc[Xn.index], a["type"]) >= 0.9
    assert a["ood"].mean() <= 0.1


def test_stability_and_confidence(fitted, typed):
    st = fitted.stability_
    assert list(st.index) == [1, 2, 3, 4]
    assert list(st.columns) == ["name", "size", "jaccard_mean", "jaccard_median", "jaccard_sd", "dissolved",
                                "recovered", "verdict"]
    assert st["size"].sum() == len(typed[0])
    assert (st["jaccard_mean"] >= 0.85).all() and (st["verdict"] == "highly stable").all()
    assert (st["dissolved"] == 0).all()
    c = fitted.confidence_
    assert list(c.index) == list(typed[0].index)
    assert c.between(0, 1).all() and c.mean() >= 0.95
    s = fitted.summary()
    assert list(s.columns) == ["name", "size", "share", "jaccard_mean", "verdict", "confidence"]
    assert s["share"].sum() == pytest.approx(1.0)


def test_profiles(fitted, typed):
    X, truth = typed
    pr = fitted.profiles_
    assert_frame_equal(pr.mean, X.groupby(fitted.labels_.to_numpy()).mean().rename_axis("type"))
    assert_frame_equal(pr.median, X.groupby(fitted.labels_.to_numpy()).median().rename_axis("type"))
    assert pr.summary["size"].tolist() == fitted.labels_.value_counts().sort_index().tolist()
    # the corporate remote towns' type: high corp_share and largest employer share distinguish it
    t_remote = fitted.labels_[truth == "corporate_remote"].mode()[0]
    d = pr.distinguishing.loc[t_remote]
    assert d.loc["corp_share", "direction"] == "higher" and d.loc["largest_employer_share", "direction"] == "higher"
    assert d.loc["corp_share", "cliffs_delta"] > 0.9
    assert (pr.tests["p_adjusted"] >= pr.tests["p_value"]).all()
    # typical towns are the nearest to their centre, atypical the farthest
    for t in range(1, 5):
        typ = pr.typical.loc[t, "distance"].to_numpy()
        aty = pr.atypical.loc[t, "distance"].to_numpy()
        assert (np.diff(typ) >= 0).all() and (np.diff(aty) <= 0).all() and typ.max() <= aty.min()
    assert "Type 1" in pr.text(fitted.type_names_)


def test_suggested_names_describe_the_true_types(fitted, typed):
    X, truth = typed
    names = fitted.type_names_
    assert len(set(names.values())) == 4
    of = {tt: names[fitted.labels_[truth == tt].mode()[0]] for tt in truth.unique()}
    assert "corporate" in of["corporate_remote"] and "far from agglomerations" in of["corporate_remote"]
    assert "near an agglomeration" in of["integrated_connected"] and "corporate" in of["integrated_connected"]
    assert "diversified" in of["diversified_satellite"]
    assert "shrinking" in of["detached_simplified"] and "non-corporate" in of["detached_simplified"]


def test_type_names_can_be_set(typed):
    m = TownTypology(random_state=1, n_types=4, n_boot=5, n_ref=0, n_ps=0).fit(typed[0])
    suggested = dict(m.type_names_)
    m.set_type_names({1: "  satellites "})
    assert m.type_names_[1] == "satellites" and m.suggested_names_ == suggested
    assert m.assign(typed[0].iloc[:50])["type_name"].isin(m.type_names_.values()).all()
    assert m.stability_.loc[1, "name"] == "satellites"
    with pytest.raises(ValueError, match="unknown types"):
        m.set_type_names({9: "x"})
    with pytest.raises(ValueError, match="unique"):
        m.set_type_names({2: "satellites"})
    with pytest.raises(ValueError, match="non-empty"):
        m.set_type_names({2: ""})


def test_surrogate_rules_reproduce_the_types(fitted, typed):
    X = typed[0]
    sur = fitted.surrogate_
    assert sur.fidelity >= 0.95 and sur.cv_fidelity >= 0.9
    assert sur.rules["n"].sum() == len(X)
    # each leaf's exact conditions select exactly the towns the tree puts there
    leaves = sur.tree.apply(X.to_numpy(dtype=float))
    for _, r in sur.rules.iterrows():
        inside = np.ones(len(X), dtype=bool)
        for f, op, v in r["conditions"]:
            inside &= (X[f] > v).to_numpy() if op == ">" else (X[f] <= v).to_numpy()
        assert len(np.unique(leaves[inside])) == 1 and inside.sum() == r["n"]
    assert "then type" in sur.to_text(fitted.type_names_)


def test_save_and_load_round_trip_and_refuse_tampering(fitted, typed, tmp_path):
    path = tmp_path / "typology.nordtowns"
    digest = fitted.save(path)
    back = TownTypology.load(path, expected_sha256=digest)
    assert_frame_equal(back.assign(typed[0]), fitted.assign(typed[0]))
    assert back.type_names_ == fitted.type_names_
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad = tmp_path / "tampered.nordtowns"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="modified"):
        TownTypology.load(bad)
    cut = tmp_path / "truncated.nordtowns"
    cut.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="truncated"):
        TownTypology.load(cut)


def test_fixed_number_of_types(typed):
    m = TownTypology(n_types=3, random_state=0, n_boot=10, n_ref=5, n_ps=2).fit(typed[0])
    assert m.n_types_ == 3 and list(m.selection_.index) == [3]
    assert "fixed by the analyst" in m.selection_reason_
    assert sorted(m.labels_.unique()) == [1, 2, 3]


@pytest.mark.parametrize("method", ["ward_kmeans", "gmm"])
def test_other_methods_recover_the_truth(typed, method):
    X, truth = typed
    m = TownTypology(method=method, n_types=4, random_state=0, n_boot=5, n_ref=0, n_ps=0).fit(X)
    assert adjusted_rand_score(truth, m.labels_) >= 0.9
    assert_series_equal(m.assign(X)["type"], m.labels_, check_names=False)
    if method == "gmm":
        assert np.isfinite(m.selection_["bic"]).all()


def test_clone_and_params():
    m = TownTypology(n_types=3, method="gmm", random_state=4)
    c = clone(m)
    assert c.get_params() == m.get_params()
    with pytest.raises(NotFittedError):
        c.predict(pd.DataFrame({"a": [1.0]}))


def test_bad_input_is_reported(typed):
    X = typed[0].iloc[:60].copy()
    with pytest.raises(ValueError, match="Expected 2D array"):  # arrays are accepted, one feature is a 2-D column
        TownTypology().fit(X["entropy"].to_numpy())
    dup = pd.concat([X, X.iloc[:2]])
    with pytest.raises(ValueError, match="duplicated"):
        TownTypology().fit(dup)
    txt = X.assign(region="north")
    with pytest.raises(ValueError, match="non-numeric columns \\['region'\\]"):
        TownTypology().fit(txt)
    holes = X.copy()
    holes.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match=f"1 towns have missing.*{X.index[3]}"):
        TownTypology().fit(holes)
    with pytest.raises(ValueError, match="k_range"):
        TownTypology(k_range=(1, 4)).fit(X)
    with pytest.raises(ValueError, match="at most"):
        TownTypology(k_range=(2, 40)).fit(X)
    with pytest.raises(ValueError, match="method"):
        TownTypology(method="dbscan").fit(X)
    with pytest.raises(ValueError, match="outside the domain"):
        TownTypology(feature_transform={"pop_growth": "log"}).fit(X)


def test_missing_drop_reports_left_out_towns(typed):
    X = typed[0].copy()
    X.iloc[[4, 9], 0] = np.nan
    with pytest.warns(TypologyWarning, match="2 towns have missing"):
        m = TownTypology(missing="drop", n_types=4, random_state=0, n_boot=3, n_ref=0, n_ps=0).fit(X)
    assert set(m.left_out_) == {X.index[4], X.index[9]}
    assert len(m.labels_) == len(X) - 2 and X.index[4] not in m.labels_.index
    with pytest.raises(ValueError, match="cannot be typed"):
        m.assign(X.iloc[[4]])


def test_predict_needs_the_fitted_features(fitted, typed):
    with pytest.raises(ValueError, match="lacks the features"):
        fitted.predict(typed[0].drop(columns="entropy"))
    # extra columns are ignored, column order does not matter
    X = typed[0].iloc[:20]
    shuffled = X[X.columns[::-1]].assign(extra=1.0)
    assert_series_equal(fitted.predict(shuffled), fitted.predict(X))


def test_conformal_pvalue_by_hand():
    from typology.estimator.typology import _conformal_p

    # (1 + #{reference >= s}) / (n + 1) with reference 1, 2, 2, 3: ties count as "at least as far"
    p = _conformal_p(np.array([1.0, 2.0, 2.0, 3.0]), np.array([0.0, 2.0, 2.5, 3.0, 4.0]))
    np.testing.assert_allclose(p, [5 / 5, 4 / 5, 2 / 5, 2 / 5, 1 / 5])


def test_ood_pvalue_equals_a_brute_force_knn(fitted, typed):
    from scipy.spatial.distance import cdist

    X = typed[0]
    new = X.iloc[::25] * 1.07  # scaled copies of some reference towns
    new.index = [f"new{i}" for i in range(len(new))]
    kk = fitted.ood_neighbors
    plan = fitted.transform_plan_
    Zr = plan.transform(X[fitted.feature_names_in_].to_numpy())[0]
    Zn = plan.transform(new[fitted.feature_names_in_].to_numpy())[0]
    loo = np.sort(cdist(Zr, Zr), axis=1)[:, kk]  # k-th neighbour other than the town itself
    d_new = np.sort(cdist(Zn, Zr), axis=1)[:, kk - 1]
    expected = (1.0 + (loo[None, :] >= d_new[:, None]).sum(axis=1)) / (len(Zr) + 1.0)
    np.testing.assert_allclose(fitted.assign(new)["ood_pvalue"].to_numpy(), expected, rtol=1e-12)
