"""Spatial weights (features.spatial): neighbours against brute-force great-circle distances and R
spdep, transforms against libpysal, the antimeridian, islands, validation, reindexing, memory."""

from __future__ import annotations

import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import spatial as sp
from features.connectivity import haversine_km
from features.corporate import ownership_edges

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "results"))
from spatial_spdep import SPDEP  # noqa: E402

TOWNS = pd.read_csv(HERE / "data" / "spatial_towns.csv", dtype={"town_id": "str"}).set_index("town_id")


def _neighbours(w: sp.SpatialWeights) -> dict:
    fr = w.to_frame()
    return {i: sorted(fr["neighbor"][fr["focal"] == i]) for i in w.ids}


def _dense_distances(lat, lon) -> np.ndarray:
    D = haversine_km(lat, lon).to_numpy().copy()
    np.fill_diagonal(D, np.inf)
    return D


# -- neighbours ------------------------------------------------------------------------------

def test_knn_matches_brute_force_haversine_and_spdep():
    w = sp.knn_weights(TOWNS["lat"], TOWNS["lon"], 5)
    D = _dense_distances(TOWNS["lat"], TOWNS["lon"])
    brute = {t: sorted(TOWNS.index[np.argsort(D[i])[:5]]) for i, t in enumerate(TOWNS.index)}
    assert _neighbours(w) == brute
    # R spdep 1.2-7: knn2nb(knearneigh(cbind(lon, lat), k = 5, longlat = TRUE))
    r = dict(zip(TOWNS.index, [sorted(x) for x in SPDEP["knn"]["neighbours"]], strict=True))
    assert _neighbours(w) == r
    assert w.kind == "knn(k=5)" and w.transform == "r"
    np.testing.assert_allclose(w.sparse.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert (w.n_neighbors == 5).all() and len(w.islands) == 0


def test_distance_band_matches_brute_force_and_spdep():
    w = sp.distance_band_weights(TOWNS["lat"], TOWNS["lon"], 300, transform="b")
    D = _dense_distances(TOWNS["lat"], TOWNS["lon"])
    brute = {t: sorted(TOWNS.index[D[i] <= 300]) for i, t in enumerate(TOWNS.index)}
    assert _neighbours(w) == brute
    r = {t: sorted(x) if isinstance(x, list) else [x]
         for t, x in zip(TOWNS.index, SPDEP["band"]["neighbours"], strict=True)}
    assert _neighbours(w) == r
    assert w.is_symmetric and set(w.sparse.data) == {1.0}


def test_inverse_distance_and_kernel_values_by_hand():
    lat, lon = TOWNS["lat"], TOWNS["lon"]
    D = _dense_distances(lat, lon)
    w = sp.inverse_distance_weights(lat, lon, 300, power=2, transform="o").sparse.toarray()
    np.testing.assert_allclose(w, np.where(D <= 300, 1 / D**2, 0.0), rtol=1e-12)
    wr = sp.inverse_distance_weights(lat, lon, 300, power=2).sparse.toarray()
    np.testing.assert_allclose(wr, w / w.sum(axis=1, keepdims=True), rtol=1e-12)
    k = sp.kernel_weights(lat, lon, bandwidth_km=400, kernel="quartic", transform="o").sparse.toarray()
    u = D / 400
    np.testing.assert_allclose(k, np.where(u < 1, 15 / 16 * (1 - u**2) ** 2, 0.0), rtol=1e-12, atol=1e-15)
    ka = sp.kernel_weights(lat, lon, k=4, kernel="triangular", transform="o").sparse.toarray()
    h = np.sort(D, axis=1)[:, 3] * (1 + 1e-7)  # distance to the 4th nearest other town
    np.testing.assert_allclose(ka, np.where(D < h[:, None], 1 - D / h[:, None], 0.0), rtol=1e-9, atol=1e-15)
    assert ((ka > 0).sum(axis=1) == 4).all()


def test_antimeridian_chukotka_neighbours_across_180():
    # Chukotka-like towns on both sides of the antimeridian, and one far west
    ids = ["anadyr", "east_179", "west_179", "uelen", "moscow"]
    lat = pd.Series([64.73, 66.0, 66.0, 66.16, 55.75], index=ids)
    lon = pd.Series([177.5, 179.9, -179.9, -169.8, 37.62], index=ids)
    w = sp.knn_weights(lat, lon, 1)
    nb = _neighbours(w)
    assert nb["east_179"] == ["west_179"] and nb["west_179"] == ["east_179"]
    with pytest.warns(sp.SpatialWeightsWarning, match="'anadyr', 'uelen', 'moscow'"):
        band = sp.distance_band_weights(lat, lon, 50)
    assert "west_179" in _neighbours(band)["east_179"]  # about 9 km apart across the line
    with pytest.warns(sp.SpatialWeightsWarning):
        d = sp.inverse_distance_weights(lat, lon, 50, transform="o").to_frame()
    km = 1 / d.loc[(d.focal == "east_179") & (d.neighbor == "west_179"), "weight"].iloc[0]
    assert km == pytest.approx(haversine_km(lat, lon).loc["east_179", "west_179"], rel=1e-10)
    assert km < 10


# -- transforms, libpysal ----------------------------------------------------------------------

@pytest.mark.parametrize("transform", ["r", "b", "d", "v"])
def test_transforms_match_libpysal_graph(transform):
    w = sp.inverse_distance_weights(TOWNS["lat"], TOWNS["lon"], 300, transform="o")
    ours = w.transformed(transform)
    ref = w.to_libpysal().transform(transform.upper())  # libpysal 4.14.1 Graph.transform
    ref_dense = ref.sparse.toarray()
    order = pd.Index(ref.unique_ids).get_indexer(w.ids)
    np.testing.assert_allclose(ours.sparse.toarray(), ref_dense[np.ix_(order, order)], rtol=1e-12, atol=1e-15)
    assert ours.transform == transform


def test_weights_are_immutable_and_validated():
    w = sp.knn_weights(TOWNS["lat"], TOWNS["lon"], 3)
    with pytest.raises(ValueError):
        w.sparse.data[0] = 5.0
    with pytest.raises(AttributeError):
        w.transform = "b"
    from scipy import sparse

    bad = sparse.csr_array(np.array([[1.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="diagonal"):
        sp.SpatialWeights(bad, pd.Index(["a", "b"]))


# -- validation ------------------------------------------------------------------------------------

def test_validation_names_the_towns():
    lat, lon = TOWNS["lat"].copy(), TOWNS["lon"].copy()
    lat.loc["T07"] = np.nan
    with pytest.raises(ValueError, match=r"missing coordinates.*T07"):
        sp.knn_weights(lat, lon, 3)
    dup = TOWNS.iloc[[0, 1, 1]]
    with pytest.raises(ValueError, match=r"duplicate town_id \['T01'\]"):
        sp.distance_band_weights(dup["lat"], dup["lon"], 100)
    small = TOWNS.iloc[:4]
    with pytest.raises(ValueError, match=r"k = 4 neighbours need at least k \+ 1 = 5 towns; got 4"):
        sp.knn_weights(small["lat"], small["lon"], 4)
    two = pd.DataFrame({"lat": [60.0, 60.0, 61.0], "lon": [50.0, 50.0, 50.0]}, index=["x", "y", "z"])
    with pytest.raises(ValueError, match=r"distance 0 km: \('x', 'y'\)"):
        sp.inverse_distance_weights(two["lat"], two["lon"], 500)
    with pytest.raises(ValueError, match="latitude in"):
        sp.knn_weights(pd.Series([95.0, 60, 61]), pd.Series([50.0, 50, 50]), 1)


def test_islands_are_reported_by_name():
    with pytest.warns(sp.SpatialWeightsWarning, match=r"island\(s\).*'T"):
        w = sp.distance_band_weights(TOWNS["lat"], TOWNS["lon"], 150)
    D = _dense_distances(TOWNS["lat"], TOWNS["lon"])
    assert list(w.islands) == list(TOWNS.index[(D <= 150).sum(axis=1) == 0])
    assert len(w.islands) > 0
    assert np.all(w.sparse.toarray()[w.ids.get_indexer(w.islands)] == 0)  # row-standardized: stays zero


# -- reindex, lag ------------------------------------------------------------------------------------

def test_reindex_subsets_and_restandardizes():
    w = sp.distance_band_weights(TOWNS["lat"], TOWNS["lon"], 300)
    keep = TOWNS.index[::2][::-1]  # a subset, in another order
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SpatialWeightsWarning)
        sub = w.reindex(keep)
        direct = sp.distance_band_weights(TOWNS.loc[keep, "lat"], TOWNS.loc[keep, "lon"], 300)
    assert list(sub.ids) == list(keep)
    np.testing.assert_allclose(sub.sparse.toarray(), direct.sparse.toarray(), rtol=1e-14)
    with pytest.raises(KeyError, match="'nowhere'"):
        w.reindex(["T01", "nowhere"])


def test_lag_aligns_by_town_id():
    w = sp.knn_weights(TOWNS["lat"], TOWNS["lon"], 5)
    y = TOWNS["y"]
    lag = w.lag(y.sample(frac=1.0, random_state=1))  # shuffled order: aligned by id
    D = _dense_distances(TOWNS["lat"], TOWNS["lon"])
    brute = np.array([y.to_numpy()[np.argsort(D[i])[:5]].mean() for i in range(len(y))])
    np.testing.assert_allclose(lag.reindex(TOWNS.index).to_numpy(), brute, rtol=1e-13)
    with pytest.raises(KeyError, match="missing for"):
        w.lag(y.iloc[1:])


# -- ties -----------------------------------------------------------------------------------------

def test_links_weights_sum_ties_and_symmetrize():
    links = pd.DataFrame({"source_town_id": ["a", "a", "b", "c", "c"], "target_town_id": ["b", "b", "a", "c", "a"],
                          "weight": [1.0, 2.0, 4.0, 9.0, 1.0]})
    with pytest.warns(sp.SpatialWeightsWarning, match=r"itself left out \(town_id \['c'\]\)"):
        w = sp.links_weights(links, ids=["a", "b", "c", "d"], transform="o")
    expect = np.array([[0, 7, 1, 0], [7, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=float)
    np.testing.assert_array_equal(w.sparse.toarray(), expect)
    assert list(w.islands) == ["d"]
    directed = sp.links_weights(links[links.source_town_id != "c"], symmetric=False)
    np.testing.assert_allclose(directed.sparse.toarray(), [[0, 1], [1, 0]])


def test_network_weights_from_the_ownership_edges():
    fy = pd.DataFrame({"year": [2020] * 5 + [2021], "hq_town_id": ["h", "h", "h", "g", None, "h"],
                       "town_id": ["a", "b", "h", "a", "c", "a"], "employees": [10, 5, 7, 3, 4, 8]})
    edges = ownership_edges(fy)
    with pytest.raises(ValueError, match="several years"):
        sp.network_weights(edges)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SpatialWeightsWarning)
        w = sp.network_weights(edges, year=2020, ids=["a", "b", "c", "g", "h"], transform="o")
        co = sp.network_weights(edges, year=2020, ids=["a", "b", "c", "g", "h"], ties="common_owner", transform="o")
    dense = pd.DataFrame(w.sparse.toarray(), index=w.ids, columns=w.ids)
    assert dense.loc["h", "a"] == dense.loc["a", "h"] == 10  # employees in a controlled from h
    assert dense.loc["g", "a"] == 3 and dense.loc["h", "h"] == 0  # control from the town itself: no tie
    assert list(w.islands) == ["c"]  # independent firm only
    cod = pd.DataFrame(co.sparse.toarray(), index=co.ids, columns=co.ids)
    assert cod.loc["a", "b"] == 1 and cod.loc["b", "a"] == 1 and cod.to_numpy().sum() == 2  # both owned from h


# -- memory -----------------------------------------------------------------------------------------

def test_no_dense_matrix_at_20000_towns():
    """knn weights, a distance band and Moran's I with 99 permutations at n = 20,000 allocate far
    less than one dense n x n matrix (3.2 GB)."""
    rng = np.random.default_rng(0)
    n = 20_000
    ids = pd.Index([f"m{i}" for i in range(n)])
    lat = pd.Series(rng.uniform(50, 75, n), index=ids)
    lon = pd.Series(rng.uniform(20, 200, n), index=ids)
    lon = lon.where(lon <= 180, lon - 360)
    y = pd.Series(rng.normal(size=n), index=ids)
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SpatialWeightsWarning)
        w = sp.knn_weights(lat, lon, 6)
        b = sp.distance_band_weights(lat, lon, 60)
    sp.moran(y, w, permutations=99, random_state=0)
    sp.geary(y, b, permutations=9, random_state=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.02 * n * n * 8, f"peak {peak / 2**20:.0f} MiB"
