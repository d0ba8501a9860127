"""Per-type bootstrap stability (Hennig 2007) and per-town confidence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from typology import TownTypology, TypologyWarning
from typology.estimator.stability import (
    DISSOLVED,
    HIGHLY_STABLE,
    PATTERN,
    RECOVERED,
    VALID,
    confidence,
    hennig_verdict,
    type_stability,
)


def test_thresholds_are_fpc_clusterboots():
    """fpc 2.2.10, ``help("clusterboot")``, Details, and the defaults ``dissolution = 0.5``,
    ``recover = 0.75`` (data/r/references.json, "clusterboot", written by data/r/references.R)."""
    cb = json.loads((Path(__file__).with_name("data") / "r" / "references.json").read_text(encoding="utf-8"))
    cb = cb["clusterboot"]
    assert (DISSOLVED, RECOVERED) == (cb["dissolution"], cb["recover"])
    text = cb["guidelines"]
    assert f"smaller or equal to {DISSOLVED:g} as an indication of a \"dissolved cluster\"" in text
    assert f"mean Jaccard similarity value of {VALID:g} or more" in text
    assert f"Between {PATTERN:g} and {VALID:g}, clusters may be considered as indicating patterns" in text
    assert f"Below average Jaccard values of {PATTERN:g}, clusters should not be trusted" in text
    assert f"average Jaccard similarities of {HIGHLY_STABLE:g} and above" in text


def test_hennig_thresholds():
    # the guidelines of fpc::clusterboot (test_thresholds_are_fpc_clusterboots): >= 0.85 highly stable,
    # >= 0.75 valid, 0.6-0.75 pattern, < 0.6 untrusted
    assert [hennig_verdict(j) for j in (0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.59)] == [
        "highly stable", "highly stable", "valid", "valid", "pattern, doubtful membership",
        "pattern, doubtful membership", "not to be trusted"]
    assert hennig_verdict(float("nan")) == "not assessed"


def test_type_stability_by_hand():
    J = np.array([[1.0, 0.4], [0.8, 0.5], [0.9, 0.9], [0.7, 0.6]])
    st = type_stability(J, np.array([1, 2]), np.array([30, 10]))
    np.testing.assert_allclose(st["jaccard_mean"], [0.85, 0.6])
    np.testing.assert_allclose(st["jaccard_median"], [0.85, 0.55])
    np.testing.assert_allclose(st["dissolved"], [0.0, 0.5])  # J <= 0.5
    np.testing.assert_allclose(st["recovered"], [0.75, 0.25])  # J > 0.75
    assert st["verdict"].tolist() == ["highly stable", "pattern, doubtful membership"]


def test_confidence_by_hand():
    boot = np.array([[0, 1, 1], [0, 0, 1], [1, 1, 1], [0, 1, 0]])
    np.testing.assert_allclose(confidence(boot, np.array([0, 1, 1])), [0.75, 0.75, 0.75])


def test_a_split_group_is_reported_unstable():
    """Three blobs forced into four types: the two halves of the split blob are not valid types."""
    rng = np.random.default_rng(0)
    Y = np.vstack([rng.normal(c, 1.0, (50, 2)) for c in ([0, 0], [8, 0], [0, 8])])
    X = pd.DataFrame(Y, columns=["x", "y"], index=[f"t{i:03d}" for i in range(150)])
    with pytest.warns(TypologyWarning, match="some type is unstable"):
        m = TownTypology(n_types=4, feature_transform=None, random_state=0, n_boot=40, n_ref=0, n_ps=0).fit(X)
    st = m.stability_.sort_values("jaccard_mean")
    assert (st["jaccard_mean"].iloc[:2] < 0.75).all() and (st["jaccard_mean"].iloc[2:] >= 0.85).all()
    halves = st.index[:2]
    # towns of the split blob keep their type less often than the others (pooled: type by type, the
    # larger half and the weaker whole blob are within a few points of each other, 0.84-0.88 over
    # random_state 0..3, and their order changes with the seed)
    split = m.labels_.isin(halves)
    assert m.confidence_[split].mean() < m.confidence_[~split].mean() - 0.15
    auto = TownTypology(feature_transform=None, k_range=(2, 6), random_state=0, n_boot=40, n_ref=10, n_ps=4).fit(X)
    assert auto.n_types_ == 3 and (auto.stability_["verdict"] == "highly stable").all()


def test_no_bootstrap_means_not_assessed():
    st = type_stability(np.zeros((0, 2)), np.array([1, 2]), np.array([5, 5]))
    assert st[["jaccard_mean", "dissolved", "recovered"]].isna().all().all()
    assert (st["verdict"] == "not assessed").all()
    assert np.isnan(confidence(np.zeros((0, 3), dtype=int), np.array([0, 1, 1]))).all()
