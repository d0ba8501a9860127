"""Reference centralities of tests/test_features/test_connectivity.py, computed with networkx.

    PYTHONPATH=$PWD python tests/test_features/results/make_networkx_results.py \
        > tests/test_features/results/networkx_centrality.json

Three random ownership networks (seeds 0, 1, 2: 25 towns, 60 weighted ties, repeated pairs and
self-loops included, plus three isolated towns); the edges are stored with the values, so the
test does not depend on numpy's random streams. Repeated pairs are summed and self-loops left
out before networkx sees the graph (the convention ``ownership_centrality`` documents). Calls:
``nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-14, max_iter=10_000)``,
``nx.hits(G, tol=1e-14, max_iter=100_000)``,
``nx.betweenness_centrality(G, weight="distance", normalized=True)`` with distance = 1 / weight,
``G.in_degree(v)`` and ``G.out_degree(v, weight="weight")``.
"""

from __future__ import annotations

import json
import platform

import networkx as nx
import numpy as np
import pandas as pd


def graph(edges: pd.DataFrame, nodes) -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_nodes_from(nodes)
    e = edges[edges["source"] != edges["target"]].groupby(["source", "target"], as_index=False)["weight"].sum()
    for r in e.itertuples():
        G.add_edge(r.source, r.target, weight=r.weight, distance=1.0 / r.weight)
    return G


def case(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n, m = 25, 60
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    edges = pd.DataFrame({"source": [f"t{i:02d}" for i in src], "target": [f"t{i:02d}" for i in dst],
                          "weight": rng.integers(1, 40, m).astype(float)})
    nodes = [f"t{i:02d}" for i in range(n + 3)]  # three isolated towns
    G = graph(edges, nodes)
    pr = nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-14, max_iter=10_000)
    hubs, auth = nx.hits(G, tol=1e-14, max_iter=100_000)
    bc = nx.betweenness_centrality(G, weight="distance", normalized=True)
    return {"seed": seed, "nodes": nodes, "edges": edges.to_dict(orient="list"),
            "pagerank": [pr[v] for v in nodes], "hub": [hubs[v] for v in nodes],
            "authority": [auth[v] for v in nodes], "betweenness": [bc[v] for v in nodes],
            "in_degree": [G.in_degree(v) for v in nodes],
            "out_strength": [G.out_degree(v, weight="weight") for v in nodes]}


if __name__ == "__main__":
    out = {"software": f"networkx {nx.__version__}, numpy {np.__version__}, Python {platform.python_version()}",
           "command": "PYTHONPATH=$PWD python tests/test_features/results/make_networkx_results.py",
           "cases": [case(s) for s in (0, 1, 2)]}
    print(json.dumps(out, indent=1))
