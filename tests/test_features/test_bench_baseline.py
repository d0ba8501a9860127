"""The benchmark's per-town baseline computes the same indices as the feature builder, so the
speed-up it reports compares like with like (small panel; speed is measured in benchmarks/)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from benchmarks import bench_features as bf
from features import FeatureWarning


@pytest.fixture(scope="module")
def both(small_synthetic):
    ctx = bf.context_for(small_synthetic.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F = bf.build_features(ctx.data)
        base = {g: bf.baseline(g, ctx) for g in bf.GROUPS}
    return F, base


@pytest.mark.parametrize("group", bf.GROUPS)
def test_baseline_matches_the_builder(both, group):
    F, base = both
    B = base[group]
    if group == "network":
        B = B.rename_axis("town_id").reset_index().set_index(["town_id", "year"])
    else:
        B.index = B.index.set_names(["town_id", "year"])
    B = B.reindex(F.index)
    for c in B.columns:
        a, b = F[c], B[c]
        if c in ("leading_sector", "status"):
            same = (a.astype(object) == b.astype(object)) | (a.isna() & b.isna())
            assert same.mean() > 0.99, c  # ties may break differently
            continue
        b = b.astype(float)
        # networkx stops PageRank at an L1 change of n * 1e-6 and HITS at 1e-8; the builder's own
        # agreement with networkx at tight tolerances is tested in test_connectivity.py
        tol = {"hub": 1e-6, "authority": 1e-6, "pagerank": 1e-3}.get(c, 1e-9)
        np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(), rtol=tol, atol=tol * 1e-3, err_msg=c)


def test_quick_cases_are_well_formed():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        cs = bf.cases(quick=True)
    names = {c.name for c in cs}
    assert all(c.baseline in names for c in cs if c.baseline)
    assert {f"features: {g}" for g in bf.GROUPS if g != "network"} <= names
    assert "features: network, last year" in names
