"""Moran's I, Geary's C, local Moran and join counts (features.spatial) against esda 2.9 (same data,
same weights as a libpysal Graph, same draws where esda's seeding permits) and R spdep 1.2-7
(results/spatial_spdep.py, written by data/make_spatial_spdep.R)."""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import esda
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from features import spatial as sp

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "results"))
from spatial_spdep import SPDEP  # noqa: E402

TOWNS = pd.read_csv(HERE / "data" / "spatial_towns.csv", dtype={"town_id": "str"}).set_index("town_id")
Y = TOWNS["y"]


def _weights(name: str) -> sp.SpatialWeights:
    if name == "knn":
        return sp.knn_weights(TOWNS["lat"], TOWNS["lon"], 5)
    return sp.distance_band_weights(TOWNS["lat"], TOWNS["lon"], 300)


WEIGHTS = ("knn", "band")


@contextmanager
def esda_seed(seed: int):
    """esda's Moran, Geary and Join_Counts draw from numpy's global legacy generator: seed it for
    one call and put the state back."""
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


# -- Moran's I ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", WEIGHTS)
def test_moran_matches_spdep(name):
    m = sp.moran(Y, _weights(name), permutations=0)
    for key, var, z in (("normality", m.variance, m.z), ("randomisation", m.variance_rand, m.z_rand)):
        r = SPDEP[name][f"moran_{key}"]  # moran.test(y, nb2listw(nb, "W"), randomisation=..., two.sided)
        assert m.I == pytest.approx(r["I"], rel=1e-12)
        assert m.expected == pytest.approx(r["expected"], rel=1e-12)
        assert var == pytest.approx(r["variance"], rel=1e-12)
        assert z == pytest.approx(r["z"], rel=1e-12)
        p = m.p_norm if key == "normality" else m.p_rand
        assert p == pytest.approx(r["p"], rel=1e-9)


@pytest.mark.parametrize("name", WEIGHTS)
def test_moran_matches_esda_draw_for_draw(name):
    w = _weights(name)
    m = sp.moran(Y, w, permutations=999, random_state=np.random.RandomState(42))
    with esda_seed(42):
        e = esda.Moran(Y.reindex(w.ids).to_numpy(), w.to_libpysal(), transformation="o", permutations=999)
    assert m.I == pytest.approx(e.I, rel=1e-13)
    assert m.variance == pytest.approx(e.VI_norm, rel=1e-12)
    assert m.variance_rand == pytest.approx(e.VI_rand, rel=1e-12)
    assert m.p_norm == pytest.approx(e.p_norm, rel=1e-9)
    np.testing.assert_allclose(m.sim, e.sim, rtol=1e-12, atol=1e-14)
    assert m.p_sim == e.p_sim
    assert m.z_sim == pytest.approx(e.z_sim, rel=1e-10)


def test_moran_seeds_are_reproducible_and_pvalues_in_range():
    w = _weights("knn")
    a = sp.moran(Y, w, permutations=199, random_state=7)
    b = sp.moran(Y, w, permutations=199, random_state=np.random.SeedSequence(7))
    np.testing.assert_array_equal(a.sim, b.sim)
    c = sp.moran(Y, w, permutations=199, random_state=8)
    assert not np.array_equal(a.sim, c.sim)
    noise = pd.Series(np.random.default_rng(3).normal(size=len(Y)), index=Y.index)
    r = sp.moran(noise, w, permutations=199, random_state=1)
    for p in (r.p_norm, r.p_rand, r.p_sim, a.p_sim):
        assert 0 < p <= 1
    assert a.p_sim == 1 / 200  # strong autocorrelation: no permutation reaches I
    with pytest.raises(AttributeError):
        a.I = 0.0
    with pytest.raises(ValueError):
        a.sim[0] = 1.0


def test_moran_missing_values_subset_the_weights():
    w = _weights("band")
    y = Y.copy()
    y.iloc[[3, 10]] = np.nan
    with pytest.warns(sp.SpatialWeightsWarning, match=r"2 town\(s\) with no value left out \('T03', 'T10'\)"):
        m = sp.moran(y, w, permutations=0)
    keep = Y.index.drop(["T03", "T10"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SpatialWeightsWarning)
        sub = w.reindex(keep)
    e = esda.Moran(Y[keep].to_numpy(), sub.to_libpysal(), transformation="o", permutations=0)
    assert m.n == 58 and list(m.dropped) == ["T03", "T10"]
    assert m.I == pytest.approx(e.I, rel=1e-13)
    with pytest.raises(ValueError, match=r"missing values for town_id \['T03', 'T10'\]"):
        sp.moran(y, w, missing="raise")
    with pytest.raises(KeyError, match=r"not in the weights.*'X99'"):
        sp.moran(pd.concat([Y, pd.Series({"X99": 1.0})]), w)
    with pytest.raises(ValueError, match="constant"):
        sp.moran(pd.Series(1.0, index=Y.index), w)


# -- Geary's C ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", WEIGHTS)
def test_geary_matches_spdep_and_esda(name):
    w = _weights(name)
    g = sp.geary(Y, w, permutations=999, random_state=np.random.RandomState(5))
    for key, var, z in (("normality", g.variance, g.z), ("randomisation", g.variance_rand, g.z_rand)):
        r = SPDEP[name][f"geary_{key}"]  # geary.test(y, listw, randomisation=...): z = (1 - C) / sd
        assert g.C == pytest.approx(r["C"], rel=1e-12)
        assert var == pytest.approx(r["variance"], rel=1e-12)
        assert -z == pytest.approx(r["z"], rel=1e-12)
        p = g.p_norm if key == "normality" else g.p_rand
        assert p == pytest.approx(r["p"], rel=1e-9)
    with esda_seed(5):
        e = esda.Geary(Y.reindex(w.ids).to_numpy(), w.to_libpysal(), transformation="o", permutations=999)
    assert g.C == pytest.approx(e.C, rel=1e-13)
    assert g.variance_rand == pytest.approx(e.VC_rand, rel=1e-12)
    assert g.p_norm == pytest.approx(2 * e.p_norm, rel=1e-9)  # esda's Geary p_norm is one-sided
    np.testing.assert_allclose(g.sim, e.sim, rtol=1e-12)
    assert g.p_sim == e.p_sim


# -- local Moran ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", WEIGHTS)
def test_local_moran_matches_spdep(name):
    lm = sp.local_moran(Y, _weights(name), permutations=99, random_state=0)
    r = SPDEP[name]["localmoran"]
    np.testing.assert_allclose(lm["Is"], r["Ii_mlvar_false"], rtol=1e-12)  # localmoran(mlvar = FALSE)
    np.testing.assert_allclose(lm["z"], r["Z_total"], rtol=1e-11)  # mlvar = TRUE, conditional = FALSE
    np.testing.assert_allclose(lm["z_cond"], r["Z_conditional"], rtol=1e-11)  # conditional = TRUE
    n = len(Y)
    np.testing.assert_allclose(lm["expected"] * n / (n - 1), r["E_total"], rtol=1e-12)
    np.testing.assert_allclose(lm["variance"] * (n / (n - 1)) ** 2, r["Var_total"], rtol=1e-11)


def test_local_moran_matches_esda_and_labels():
    w = _weights("knn")
    shuffled = Y.sample(frac=1.0, random_state=2)  # aligned by town_id
    lm = sp.local_moran(shuffled, w, permutations=999, random_state=12345, fdr=0.05)
    e = esda.Moran_Local(Y.reindex(w.ids).to_numpy(), w.to_libpysal(), transformation="o", permutations=999,
                         seed=12345)
    assert list(lm.index) == list(w.ids)
    np.testing.assert_allclose(lm["Is"], e.Is, rtol=1e-13)
    np.testing.assert_array_equal(lm["p_sim"], e.p_sim)
    np.testing.assert_allclose(lm["q_value"], multipletests(e.p_sim, method="fdr_bh")[1], rtol=1e-13)
    cut = esda.fdr(e.p_sim, 0.05)  # esda's BH cut-off (strict <)
    assert (lm["significant"] == (e.p_sim < cut)).all()
    quad = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
    assert list(lm["quadrant"].astype(str)) == [quad[q] for q in e.q]
    sig = lm["significant"].to_numpy()
    assert (lm["cluster"].astype(str).to_numpy()[~sig] == "not significant").all()
    assert (lm["cluster"].astype(str).to_numpy()[sig] == lm["quadrant"].astype(str).to_numpy()[sig]).all()
    assert set(lm["cluster"].astype(str)) >= {"high-high", "low-low", "not significant"}
    raw = sp.local_moran(Y, w, permutations=999, random_state=12345, fdr=None)
    assert (raw["significant"] == (e.p_sim <= 0.05)).all() and raw["significant"].sum() >= sig.sum()


def test_benjamini_hochberg_matches_statsmodels():
    p = np.random.default_rng(0).uniform(size=200) ** 3
    np.testing.assert_allclose(sp.benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-14)


# -- join counts -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", WEIGHTS)
def test_join_counts_match_spdep(name):
    jc = sp.join_counts(TOWNS["type"], _weights(name), permutations=0)
    r = {t["type"]: t for t in SPDEP[name]["joincount"]}  # joincount.test(factor(type), style "B", nonfree)
    for t in ("a", "b", "c"):
        row = jc.types.loc[t]
        ref = r[t]
        assert row["joins"] == ref["joins"]
        assert row["expected"] == pytest.approx(ref["expected"], rel=1e-12)
        assert row["variance"] == pytest.approx(ref["variance"], rel=1e-12)
        assert row["z"] == pytest.approx(ref["z"], rel=1e-12)
        assert row["p_norm"] == pytest.approx(ref["p"], rel=1e-9)
    assert jc.crosstab.to_numpy().sum() == jc.total
    assert jc.different == pytest.approx(jc.total - jc.types["joins"].sum())


def test_join_counts_binary_match_esda_draw_for_draw():
    w = _weights("knn")
    jc = sp.join_counts(TOWNS["flag"], w, permutations=999, random_state=np.random.RandomState(3))
    with esda_seed(3):
        e = esda.Join_Counts(TOWNS["flag"].reindex(w.ids).to_numpy(), w.to_libpysal(), permutations=999)
    assert (jc.bb, jc.ww, jc.bw, jc.total) == (e.bb, e.ww, e.bw, e.J)
    assert jc.types.loc[1, "p_sim"] == e.p_sim_bb
    assert jc.p_sim_different == e.p_sim_bw
    assert jc.types.loc[1, "mean_sim"] == pytest.approx(e.mean_bb, rel=1e-12)
    with pytest.raises(ValueError, match="two types"):
        _ = sp.join_counts(TOWNS["type"], w, permutations=0).bb


# -- islands -----------------------------------------------------------------------------------------------

def test_islands_are_kept_as_esda_and_never_significant_locally():
    from libpysal import weights

    with pytest.warns(sp.SpatialWeightsWarning, match="island"):
        w = sp.distance_band_weights(TOWNS["lat"], TOWNS["lon"], 150)
    assert len(w.islands) > 5
    W = weights.WSP(w.sparse.tocsr()).to_W(silence_warnings=True)  # esda 2.9's Geary fails on a Graph
    y = Y.reindex(w.ids).to_numpy()  # with isolates; a W works for both statistics
    m, e = sp.moran(Y, w, permutations=0), esda.Moran(y, W, transformation="o", permutations=0)
    assert m.I == pytest.approx(e.I, rel=1e-13) and m.variance_rand == pytest.approx(e.VI_rand, rel=1e-12)
    g, eg = sp.geary(Y, w, permutations=0), esda.Geary(y, W, transformation="o", permutations=0)
    assert g.C == pytest.approx(eg.C, rel=1e-13) and g.variance_rand == pytest.approx(eg.VC_rand, rel=1e-12)
    lm = sp.local_moran(Y, w, permutations=99, random_state=1)
    isl = lm.loc[w.islands]
    assert isl["p_sim"].isna().all() and isl["quadrant"].isna().all()
    assert (isl["cluster"] == "not significant").all() and not isl["significant"].any()
    rest = lm.drop(w.islands)
    np.testing.assert_allclose(rest["q_value"], multipletests(rest["p_sim"], method="fdr_bh")[1], rtol=1e-13)
