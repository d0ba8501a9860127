"""Distances, market potential and ownership-network centrality.

Centrality is compared with networkx 3 (the conventions the docstrings promise; stored values
with their edges in results/networkx_centrality.json); distances with geosphere and known values;
market potential with sums written out by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import sparse

from features.connectivity import (
    EARTH_RADIUS_KM,
    _betweenness,
    _hits,
    _transit_sources,
    haversine_km,
    market_potential,
    market_potential_from_coords,
    ownership_centrality,
)

RESULTS = Path(__file__).resolve().parent / "results"  # provenance: results/README.md
R = json.loads((RESULTS / "r_results.json").read_text(encoding="utf-8"))
NX = json.loads((RESULTS / "networkx_centrality.json").read_text(encoding="utf-8"))


def test_haversine_known_distances():
    # geosphere::distHaversine, Nashville (36.12, -86.67) to Los Angeles (33.94, -118.40), on our
    # radius and on Rosetta Code's 6372.8 km ("Haversine formula": 2887.2599506071106 km)
    d = haversine_km(pd.Series([36.12, 33.94], index=["BNA", "LAX"]), pd.Series([-86.67, -118.40], index=["BNA", "LAX"]))
    ours, rosetta = R["dist_haversine_m"]
    assert d.loc["BNA", "LAX"] == pytest.approx(ours / 1000, rel=1e-13)
    assert d.loc["BNA", "LAX"] == pytest.approx(rosetta / 1000 * EARTH_RADIUS_KM / 6372.8, rel=1e-13)
    assert d.loc["LAX", "BNA"] == d.loc["BNA", "LAX"]
    assert (np.diag(d.to_numpy()) == 0).all()
    # one degree of a meridian is R pi / 180, a quarter of the equator R pi / 2
    one = haversine_km([60.0], [30.0], [61.0], [30.0]).iloc[0, 0]
    assert one == pytest.approx(EARTH_RADIUS_KM * math.pi / 180, rel=1e-13)
    quarter = haversine_km([0.0], [0.0], [0.0], [90.0]).iloc[0, 0]
    assert quarter == pytest.approx(math.pi / 2 * EARTH_RADIUS_KM, rel=1e-14)
    # near antipodes the haversine formula is ill-conditioned (asin near 1): about 1e-8
    anti = haversine_km([10.0], [20.0], [-10.0], [-160.0]).iloc[0, 0]
    assert anti == pytest.approx(math.pi * EARTH_RADIUS_KM, rel=1e-7)


def test_haversine_bad_coordinates():
    with pytest.raises(ValueError, match="latitude"):
        haversine_km([91.0], [0.0])
    with pytest.raises(ValueError, match="missing"):
        haversine_km([np.nan], [0.0])


@pytest.fixture
def three():
    # three towns on the equator at longitudes 0, 1 and 3 degrees
    idx = pd.Index(["a", "b", "c"], name="town_id")
    lat = pd.Series([0.0, 0.0, 0.0], index=idx)
    lon = pd.Series([0.0, 1.0, 3.0], index=idx)
    mass = pd.Series([100.0, 200.0, 300.0], index=idx)
    deg = EARTH_RADIUS_KM * math.pi / 180
    return lat, lon, mass, deg


def test_market_potential_power_hand(three):
    lat, lon, mass, deg = three
    D = haversine_km(lat, lon)
    mp = market_potential(mass, D)
    assert mp["a"] == pytest.approx(200 / deg + 300 / (3 * deg), rel=1e-12)
    assert mp["b"] == pytest.approx(100 / deg + 300 / (2 * deg), rel=1e-12)
    assert mp["c"] == pytest.approx(100 / (3 * deg) + 200 / (2 * deg), rel=1e-12)
    mp2 = market_potential(mass, D, beta=2.0)
    assert mp2["a"] == pytest.approx(200 / deg**2 + 300 / (3 * deg) ** 2, rel=1e-12)


def test_market_potential_exponential_and_self(three):
    lat, lon, mass, deg = three
    D = haversine_km(lat, lon)
    mp = market_potential(mass, D, beta=0.01, decay="exponential")
    assert mp["a"] == pytest.approx(200 * math.exp(-0.01 * deg) + 300 * math.exp(-0.03 * deg), rel=1e-12)
    area = pd.Series([100.0, 400.0, 900.0], index=mass.index)
    mps = market_potential(mass, D, self_potential=True, area_km2=area)
    d_aa = (2 / 3) * math.sqrt(100 / math.pi)  # Keeble et al. (1982) internal distance
    assert mps["a"] == pytest.approx(market_potential(mass, D)["a"] + 100 / d_aa, rel=1e-12)
    with pytest.raises(ValueError, match="area_km2"):
        market_potential(mass, D, self_potential=True)


def test_market_potential_errors(three):
    lat, lon, mass, _ = three
    D = haversine_km(lat, lon)
    with pytest.raises(ValueError, match="distance 0"):
        market_potential(mass, pd.DataFrame(np.zeros((3, 3)), index=D.index, columns=D.columns))
    with pytest.raises(ValueError, match="mass is missing"):
        market_potential(mass.iloc[:2], D)
    with pytest.raises(ValueError, match="decay"):
        market_potential(mass, D, decay="gravity")
    with pytest.raises(ValueError, match="beta"):
        market_potential(mass, D, beta=0)


def _random_towns(n, seed):
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"m{i:04d}" for i in range(n)], name="town_id")
    lat = pd.Series(rng.uniform(60, 72, n), index=idx)
    lon = pd.Series(rng.uniform(30, 170, n), index=idx)
    # a cluster of close neighbours (a few km apart) exercises the close-pair path
    lat.iloc[:20] = 64.0 + rng.uniform(0, 0.05, 20)
    lon.iloc[:20] = 40.0 + rng.uniform(0, 0.05, 20)
    M = pd.DataFrame(rng.uniform(1e3, 1e5, (n, 3)), index=idx, columns=[2010, 2011, 2012])
    return lat, lon, M


@pytest.mark.parametrize("beta,decay", [(1.0, "power"), (2.0, "power"), (1.5, "power"), (0.004, "exponential")])
def test_blocked_potential_equals_dense(beta, decay):
    lat, lon, M = _random_towns(300, 11)
    D = haversine_km(lat, lon)
    dense = pd.concat({y: market_potential(M[y], D, beta=beta, decay=decay) for y in M.columns}, axis=1)
    blocked = market_potential_from_coords(M, lat, lon, beta=beta, decay=decay, block_cells=3000)  # 10 rows a block
    assert_allclose(blocked.to_numpy(), dense.to_numpy(), rtol=1e-10)
    one_block = market_potential_from_coords(M, lat, lon, beta=beta, decay=decay)
    assert_allclose(blocked.to_numpy(), one_block.to_numpy(), rtol=1e-13)


def test_square_and_rectangular_paths_agree_and_threads_do_not_matter():
    lat, lon, M = _random_towns(250, 8)
    square = market_potential_from_coords(M, lat, lon, block_cells=2500, n_jobs=1)  # pairs of 50 x 50 blocks
    rect = market_potential_from_coords(M, lat, lon, origins=pd.DataFrame({"lat": lat, "lon": lon}), block_cells=2500)
    assert_allclose(square.to_numpy(), rect.to_numpy(), rtol=1e-12)
    for n_jobs in (2, -1):
        again = market_potential_from_coords(M, lat, lon, block_cells=2500, n_jobs=n_jobs)
        assert np.array_equal(again.to_numpy(), square.to_numpy())


def test_blocked_potential_new_origins_and_floor():
    lat, lon, M = _random_towns(200, 5)
    origins = pd.DataFrame({"lat": [65.0, lat.iloc[3]], "lon": [50.0, lon.iloc[3]]}, index=["new", lat.index[3]])
    mp = market_potential_from_coords(M[2010], lat, lon, origins=origins)
    D = haversine_km(origins["lat"], origins["lon"], lat, lon)
    # a new town sees every destination; a known town leaves itself out
    assert mp.loc["new", "market_potential"] == pytest.approx((M[2010] / D.loc["new"]).sum(), rel=1e-10)
    full = market_potential_from_coords(M[2010], lat, lon)
    assert mp.loc[lat.index[3], "market_potential"] == pytest.approx(full.iloc[3, 0], rel=1e-12)
    # two municipalities on one centroid: an error, or a floor
    lat2, lon2 = lat.copy(), lon.copy()
    lat2.iloc[1], lon2.iloc[1] = lat2.iloc[0], lon2.iloc[0]
    with pytest.raises(ValueError, match="distance 0"):
        market_potential_from_coords(M[2010], lat2, lon2)
    floored = market_potential_from_coords(M[2010], lat2, lon2, min_distance_km=1.0)
    assert np.isfinite(floored.to_numpy()).all()
    assert floored.iloc[0, 0] > M[2010].iloc[1] / 1.0


@pytest.mark.parametrize("case", NX["cases"], ids=lambda c: f"seed{c['seed']}")
def test_ownership_centrality_matches_networkx(case):
    # networkx 3.6.1 on a random network of 25 towns (60 ties, repeated pairs and self-loops
    # included) and three isolated towns: results/make_networkx_results.py
    edges = pd.DataFrame(case["edges"])
    nodes = case["nodes"]
    c = ownership_centrality(edges, nodes=nodes)
    assert list(c.index) == nodes
    assert_allclose(c["pagerank"].to_numpy(), case["pagerank"], atol=1e-11)
    assert_allclose(c["hub"].to_numpy(), case["hub"], atol=1e-12)
    assert_allclose(c["authority"].to_numpy(), case["authority"], atol=1e-12)
    assert_allclose(c["betweenness"].to_numpy(), case["betweenness"], atol=1e-14)
    assert_allclose(c["in_degree"].to_numpy(), case["in_degree"])
    assert_allclose(c["out_strength"].to_numpy(), case["out_strength"])
    assert c["pagerank"].sum() == pytest.approx(1.0) and c["hub"].sum() == pytest.approx(1.0)
    assert (c.loc[nodes[-3:], ["in_degree", "out_degree", "hub", "authority", "betweenness"]] == 0).all().all()


def test_ownership_chain_betweenness_by_hand():
    # HQ -> a -> b -> c: a lies on HQ->b, HQ->c; b on HQ->c, a->c; n = 5 with an isolated town
    edges = pd.DataFrame({"source": ["HQ", "a", "b"], "target": ["a", "b", "c"], "weight": [1.0, 1.0, 1.0]})
    c = ownership_centrality(edges, nodes=["HQ", "a", "b", "c", "z"])
    assert c.loc["a", "betweenness"] == pytest.approx(2 / (4 * 3))
    assert c.loc["b", "betweenness"] == pytest.approx(2 / (4 * 3))
    assert c.loc[["HQ", "c", "z"], "betweenness"].eq(0).all()


def test_betweenness_sources_pruning_is_exact():
    rng = np.random.default_rng(9)
    n = 60
    rows, cols = rng.integers(0, n, 90), rng.integers(0, n, 90)
    keep = rows != cols
    W = sparse.csr_matrix((rng.uniform(1, 9, keep.sum()), (rows[keep], cols[keep])), shape=(n, n))
    W.sum_duplicates()
    W.sort_indices()
    G = nx.from_scipy_sparse_array(W, create_using=nx.DiGraph)
    for _u, _v, d in G.edges(data=True):
        d["distance"] = 1.0 / d["weight"]
    bc = nx.betweenness_centrality(G, weight="distance")
    assert_allclose(_betweenness(W), [bc[i] for i in range(n)], atol=1e-14)
    # the pruned sources are exactly the nodes that reach a node with in- and out-edges
    transit = {v for v in G if G.in_degree(v) and G.out_degree(v)}
    expected = sorted(v for v in G if any(t in nx.descendants(G, v) for t in transit))
    assert _transit_sources(W).tolist() == expected


def test_hits_repeated_eigenvalue_is_the_limit_from_uniform_start():
    # two identical disjoint stars: the principal eigenvalue is double; Kleinberg's iteration
    # from the uniform vector splits the scores evenly between them
    edges = pd.DataFrame({"source": ["h1", "h1", "h2", "h2"], "target": ["a1", "b1", "a2", "b2"],
                          "weight": [2.0, 1.0, 2.0, 1.0]})
    c = ownership_centrality(edges)
    assert c.loc["h1", "hub"] == pytest.approx(0.5) and c.loc["h2", "hub"] == pytest.approx(0.5)
    assert c.loc["a1", "authority"] == pytest.approx(2 / 6) and c.loc["b2", "authority"] == pytest.approx(1 / 6)


def test_hits_lanczos_path_equals_dense_path():
    rng = np.random.default_rng(4)
    n = 300
    rows, cols = rng.integers(0, 40, 500), rng.integers(0, n, 500)
    keep = rows != cols
    W = sparse.csr_matrix((rng.uniform(1, 50, keep.sum()), (rows[keep], cols[keep])), shape=(n, n))
    W.sum_duplicates()
    h1, a1 = _hits(W)
    h2, a2 = _hits(W, dense_max=0)
    assert_allclose(h2, h1, atol=1e-12)
    assert_allclose(a2, a1, atol=1e-12)


def test_ownership_centrality_inputs():
    with pytest.raises(ValueError, match="columns"):
        ownership_centrality(pd.DataFrame({"from": ["a"], "to": ["b"], "weight": [1.0]}))
    with pytest.raises(ValueError, match="positive"):
        ownership_centrality(pd.DataFrame({"source": ["a"], "target": ["b"], "weight": [0.0]}))
    empty = ownership_centrality(pd.DataFrame({"source": [], "target": [], "weight": []}))
    assert len(empty) == 0
    # repeated pairs are summed and self-loops left out
    e = pd.DataFrame({"source": ["a", "a", "a"], "target": ["b", "b", "a"], "weight": [1.0, 2.0, 5.0]})
    c = ownership_centrality(e)
    assert c.loc["a", "out_strength"] == 3.0 and c.loc["a", "out_degree"] == 1.0
