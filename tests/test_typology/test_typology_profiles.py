"""Profiles (effect sizes, tests, adjustment) and the surrogate rules, by hand (names: test_typology_naming)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from typology.estimator.profiles import profile_types
from typology.estimator.surrogate import fit_surrogate


@pytest.fixture(scope="module")
def small():
    raw = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 10.0, 11.0, 12.0, 2.5],
                        "b": [5.0, 3.0, 4.0, 6.0, 5.5, 4.5, 3.5, 5.0]},
                       index=pd.Index([f"t{i}" for i in range(8)], name="town_id"))
    labels = np.array([1, 1, 1, 1, 2, 2, 2, 1])
    Z = ((raw - raw.mean()) / raw.std()).to_numpy()
    dist = np.array([0.3, 0.1, 0.2, 0.4, 0.5, 0.05, 0.6, 0.25])
    return raw, labels, Z, dist, profile_types(raw, Z, labels, np.array([1, 2]), dist, n_examples=2)


def test_central_values_and_z(small):
    raw, labels, Z, _, pr = small
    assert pr.summary["size"].tolist() == [5, 3] and pr.summary["share"].tolist() == [5 / 8, 3 / 8]
    assert pr.mean.loc[1, "a"] == pytest.approx((1 + 2 + 3 + 4 + 2.5) / 5)
    assert pr.median.loc[2, "b"] == 4.5
    assert pr.z.loc[2, "a"] == pytest.approx(Z[labels == 2, 0].mean())
    assert pr.reference.loc["sd", "a"] == pytest.approx(raw["a"].std())


def test_effect_sizes_and_tests_by_hand(small):
    raw, labels, Z, _, pr = small
    x, y = raw["b"][labels == 2].to_numpy(), raw["b"][labels == 1].to_numpy()
    # Cliff's delta by counting pairs: P(x > y) - P(x < y)
    gt = sum(xi > yi for xi, yi in itertools.product(x, y))
    lt = sum(xi < yi for xi, yi in itertools.product(x, y))
    row = pr.tests.loc[(2, "b")]
    assert row["cliffs_delta"] == pytest.approx((gt - lt) / (len(x) * len(y)))
    ref = mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    assert row["p_value"] == pytest.approx(ref.pvalue) and row["u"] == pytest.approx(ref.statistic)
    # Hedges' g on model-space values: pooled sd with n - 1, small-sample factor 1 - 3 / (4 (n1 + n2) - 9)
    zx, zy = Z[labels == 2, 1], Z[labels == 1, 1]
    sp = np.sqrt(((len(zx) - 1) * zx.var(ddof=1) + (len(zy) - 1) * zy.var(ddof=1)) / (len(zx) + len(zy) - 2))
    assert row["hedges_g"] == pytest.approx((zx.mean() - zy.mean()) / sp * (1 - 3 / (4 * 8 - 9)))
    assert pr.tests.loc[(1, "a"), "cliffs_delta"] == -1.0 and pr.tests.loc[(1, "a"), "direction"] == "lower"


def test_benjamini_hochberg_by_hand(small):
    pr = small[-1]
    p = pr.tests["p_value"].to_numpy()
    m = len(p)
    order = np.argsort(p)
    adj = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    expected = np.empty(m)
    expected[order] = np.minimum(adj, 1.0)
    np.testing.assert_allclose(pr.tests["p_adjusted"].to_numpy(), expected)
    d = pr.distinguishing
    assert ((d["p_adjusted"] < 0.05) & (d["cliffs_delta"].abs() >= 0.33)).all()


def test_typical_and_atypical_towns(small):
    pr = small[-1]
    assert pr.typical.loc[1, "town_id"].tolist() == ["t1", "t2"]  # distances 0.1, 0.2
    assert pr.atypical.loc[1, "town_id"].tolist() == ["t3", "t0"]  # 0.4, 0.3
    assert pr.typical.loc[2, "town_id"].tolist() == ["t5", "t4"]
    assert "Type 2 'B': 3 towns (38%)" in pr.text({1: "A", 2: "B"})


def test_surrogate_recovers_threshold_rules():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"share": rng.uniform(0, 1, 400), "km": rng.uniform(0, 1000, 400)})
    X = X[(np.abs(X["share"] - 0.3) > 0.02) & (np.abs(X["km"] - 500) > 20)]
    labels = np.where(X["share"] > 0.3, np.where(X["km"] <= 500, 1, 2), 3)
    s = fit_surrogate(X, labels, max_depth=2)
    assert s.fidelity == 1.0 and s.cv_fidelity == 1.0
    assert set(s.rules["type"]) == {1, 2, 3} and s.rules["purity"].eq(1.0).all()
    thr = {f: v for r in s.rules["conditions"] for f, _, v in r}
    assert 0.28 < thr["share"] < 0.32 and 480 < thr["km"] < 520
    assert "km <= " in s.to_text() and "then type 1" in s.to_text()
