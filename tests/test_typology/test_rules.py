"""Threshold typologies (study 2 x 2, monotowns, custom rules) and their reconciliation with clusters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats.contingency import association
from sklearn.metrics import adjusted_mutual_info_score

from typology import RuleTypology, TypologyWarning, reconcile
from typology.estimator.rules import cramers_v


@pytest.fixture()
def towns():
    return pd.DataFrame({
        "corp_share": [0.45, 0.25, 0.20, 0.05, 0.00, 0.19999],
        "dist_core_km": [1200.0, 150.0, 300.0, 90.0, 900.0, 310.0],
        "largest_employer_share": [0.5, 0.3, 0.1, 0.04, 0.2, 0.19],
    }, index=pd.Index(["a", "b", "c", "d", "e", "f"], name="town_id"))


def test_study_2x2_preset(towns):
    rt = RuleTypology(preset="study_2x2").fit(towns)
    # thresholds inclusive: corp_share >= 0.2 and dist_core_km <= 300
    assert rt.labels_.tolist() == [2, 1, 1, 3, 4, 4]
    assert rt.type_names_[1] == "embedded in corporate networks, tied to an agglomeration"
    assert rt.type_names_[4].startswith("detached")
    assert rt.counts_.tolist() == [2, 1, 1, 2] and rt.n_types_ == 4
    a = rt.assign(towns)
    assert a.columns.tolist() == ["type", "type_name", "embedded", "tied"]
    assert a.loc["c", "embedded"] and a.loc["c", "tied"] and not a.loc["f", "embedded"]
    assert rt.describe().loc[2, "rule"] == "corp_share >= 0.2 and not (dist_core_km <= 300)"
    alt = RuleTypology.study_2x2(corp_threshold=0.1, distance_km=1000).predict(towns)
    assert alt.tolist() == [2, 1, 1, 3, 3, 1]


def test_monotown_preset(towns):
    rt = RuleTypology.monotown()
    # Decree No. 709 (2014): a town-forming employer with >= 20 % of the headcount
    assert rt.predict(towns).tolist() == [1, 1, 2, 2, 1, 2]
    assert rt.type_names_ == {1: "monotown", 2: "not a monotown"}
    assert RuleTypology(preset="monotown").predict(towns).equals(rt.predict(towns))


def test_custom_rules_with_and_or(towns):
    rt = RuleTypology(criteria={"remote_corporate": "corp_share > 0.3 and dist_core_km > 500 or corp_share == 0",
                                "big_employer": ("largest_employer_share", ">=", 0.3)},
                      names={(True, True): "remote company town"})
    assert rt.features == ["corp_share", "dist_core_km", "largest_employer_share"]
    p = rt.predict(towns)
    assert p.tolist() == [1, 3, 4, 4, 2, 4]
    assert rt.type_names_[1] == "remote company town"
    assert rt.type_names_[2] == "remote_corporate, not big_employer"


def test_missing_values(towns):
    t = towns.copy()
    t.loc["b", "dist_core_km"] = np.nan
    with pytest.raises(ValueError, match="1 towns lack a feature.*b"):
        RuleTypology(preset="study_2x2").fit(t)
    rt = RuleTypology(preset="study_2x2", missing="unclassified").fit(t)
    assert rt.labels_["b"] == 0 and rt.counts_[0] == 1 and rt.type_names_[0].startswith("unclassified")


def test_bad_definitions(towns):
    with pytest.raises(ValueError, match="cannot read"):
        RuleTypology(criteria={"x": "corp_share => 0.2"}).predict(towns)
    with pytest.raises(ValueError, match="lacks the features"):
        RuleTypology(criteria={"x": "wage >= 1"}).predict(towns)
    with pytest.raises(ValueError, match="preset"):
        RuleTypology(preset="oecd").predict(towns)
    with pytest.raises(ValueError, match="either preset or criteria"):
        RuleTypology(preset="monotown", criteria={"x": "corp_share > 0"}).predict(towns)
    with pytest.raises(ValueError, match="tuples of 1 booleans"):
        RuleTypology(criteria={"x": "corp_share > 0"}, names={(True, False): "?"}).predict(towns)


def test_reconcile_by_hand():
    # 2 x 2 table [[20, 5], [10, 15]], n = 50
    a = pd.Series(["p"] * 25 + ["q"] * 25, index=[f"t{i}" for i in range(50)])
    b = pd.Series(["x"] * 20 + ["y"] * 5 + ["x"] * 10 + ["y"] * 15, index=a.index)
    r = reconcile(a, b)
    assert r.crosstab.to_numpy().tolist() == [[20, 5], [10, 15]] and r.n == 50
    # phi = (ad - bc) / sqrt(row and column totals) = 250 / sqrt(25 * 25 * 30 * 20)
    assert r.cramers_v == pytest.approx(250 / np.sqrt(25 * 25 * 30 * 20))
    assert r.cramers_v == pytest.approx(association(r.crosstab.to_numpy(), method="cramer"))
    assert r.chi2 == pytest.approx(50 * (250 / np.sqrt(375000)) ** 2) and r.dof == 1
    # ARI (Hubert & Arabie 1985): index 350, expected 600 * 625 / 1225, max (600 + 625) / 2
    expected = 600 * 625 / 1225
    assert r.ari == pytest.approx((350 - expected) / (612.5 - expected))
    # R 4.2.2, mclust 6.0.0: adjustedRandIndex(a, b) (data/r/references.json, written by data/r/references.R)
    r_ref = json.loads((Path(__file__).with_name("data") / "r" / "references.json").read_text(encoding="utf-8"))
    assert r.ari == pytest.approx(r_ref["adjusted_rand_index"]["value"], rel=1e-13)
    assert r.ami == pytest.approx(adjusted_mutual_info_score(a, b))
    # Bergsma (2013): phi2 - (r-1)(c-1)/(n-1), with corrected r and c
    phi2c = 1 / 6 - 1 / 49
    assert r.cramers_v_corrected == pytest.approx(np.sqrt(phi2c / (1 - 1 / 49)))
    assert "adjusted Rand 0.143" in r.summary()


def test_reconcile_reports_towns_typed_once(towns):
    rt = RuleTypology(preset="study_2x2").fit(towns)
    clusters = pd.Series([1, 1, 1, 2, 2, 2, 2], index=["a", "b", "c", "d", "e", "f", "zz"])
    with pytest.warns(TypologyWarning, match="1 towns only in clusters, 0 only in rules"):
        r = reconcile(clusters, rt)
    assert r.n == 6 and r.left_out == {"only_clusters": 1, "only_rules": 0, "untyped": 0}
    assert r.crosstab.columns.tolist()[0].startswith("1: embedded")


def test_cramers_v_of_perfect_and_independent_tables():
    assert cramers_v(np.array([[10, 0, 0], [0, 7, 0], [0, 0, 5]]))[0] == pytest.approx(1.0)
    assert cramers_v(np.array([[10, 10], [20, 20]]))[0] == pytest.approx(0.0)


def test_rules_against_clusters_on_the_synthetic_towns(synthetic, synthetic_features):
    """The study's 2 x 2 on the synthetic towns is the generator's design: each true type is one cell."""
    from typology import town_rows

    truth = pd.Series(synthetic.truth["town_types"])
    X = town_rows(synthetic_features, "last", sample=truth.index[~truth.isin(["core", "rural"])])
    rt = RuleTypology(preset="study_2x2").fit(X)
    r = reconcile(truth.loc[X.index], rt)
    assert r.ari >= 0.95 and r.cramers_v >= 0.95
    cell = pd.crosstab(truth.loc[X.index], rt.labels_).idxmax(axis=1)
    assert cell.to_dict() == {"integrated_connected": 1, "corporate_remote": 2, "diversified_satellite": 3,
                              "detached_simplified": 4}
    mono = RuleTypology.monotown().fit(X)
    share = (mono.labels_ == 1).groupby(truth.loc[X.index]).mean()
    assert share["corporate_remote"] == 1.0 and share["diversified_satellite"] == 0.0
