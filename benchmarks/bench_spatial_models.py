"""Benchmark of the fixed-effects spatial lag panel model against spreg, in the same run.

A balanced panel of 2,500 towns x 15 years (quick mode 500 x 5), ``y ~ x1 + x2``, k = 6
nearest-neighbour weights (row-standardized) on random points. Ours:
``models.fit_spatial_panel(data, "y ~ x1 + x2", W, model="lag", effects="entity",
bias_correction=False)`` (the model spreg fits: town effects, direct approach; default
method, i.e. sparse LU above 1,000 towns; design, checks, demeaning, ML, information matrix,
result). spreg 1.9.0 (the ``bench`` extra): ``spreg.Panel_FE_Lag(y, x, w)`` on the same arrays
(SuperLU log-determinant; its information matrix inverts the dense ``n x n`` matrix ``I - rho
W``). The ratio column reads ``spreg median / ours``: above 1 means we are faster. Memory: ours
holds no dense ``n x n`` matrix (a 2,500 x 2,500 float matrix is 47.7 MiB).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from benchmarks.harness import Case


def _data(n: int, T: int, k: int = 6, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(size=(n, 2))
    _, nb = cKDTree(xy).query(xy, k=k + 1)
    Wm = sparse.csr_array((np.full(n * k, 1.0 / k), (np.repeat(np.arange(n), k), nb[:, 1:].ravel())), shape=(n, n))
    X = rng.normal(size=(T, n, 2))
    A_rhs = X @ np.array([1.0, -0.5]) + rng.normal(size=n)[None, :] + rng.normal(size=(T, n))
    from scipy.sparse.linalg import splu

    lu = splu(sparse.csc_array(sparse.eye_array(n) - 0.4 * Wm))
    y = lu.solve(np.ascontiguousarray(A_rhs.T)).T                       # y_t = (I - 0.4 W)^{-1} (...)
    idx = pd.MultiIndex.from_product([range(2000, 2000 + T), np.arange(n)], names=["year", "town_id"]).swaplevel()
    frame = pd.DataFrame({"y": y.ravel(), "x1": X[:, :, 0].ravel(), "x2": X[:, :, 1].ravel()}, index=idx)
    return {"frame": frame, "W": Wm, "y": y.reshape(-1, 1), "x": X.reshape(-1, 2), "n": n}


def _cases(n: int, T: int, repeat: int) -> list[Case]:
    state: dict = {}
    size = f"{n:,} towns x {T} years"

    def setup():
        if "frame" not in state:
            state.update(_data(n, T))
            from features.spatial import SpatialWeights

            state["weights"] = SpatialWeights(state["W"], pd.Index(np.arange(n)), "r", "knn(k=6)")
        return state

    def setup_spreg():
        s = setup()
        if "w" not in s:
            import libpysal

            s["w"] = libpysal.weights.WSP(sparse.csr_matrix(s["W"])).to_W(silence_warnings=True)
            s["w"].transform = "r"
        return s

    def theirs(s):
        import spreg

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return spreg.Panel_FE_Lag(s["y"], s["x"], s["w"])

    def ours(s):
        from models import fit_spatial_panel

        return fit_spatial_panel(s["frame"], "y ~ x1 + x2", s["weights"], model="lag", effects="entity",
                                 bias_correction=False)

    base = f"spreg Panel_FE_Lag ({size})"
    return [Case(base, theirs, setup_spreg, repeat=repeat),
            Case(f"models fit_spatial_panel lag ({size})", ours, setup, repeat=repeat, baseline=base,
                 note=f"target: ratio >= 1, no dense n x n matrix ({n * n * 8 / 2**20:.1f} MiB)",
                 target={"speedup": 1.0, "peak_mib": n * n * 8 / 2**20})]


def cases(quick: bool) -> list[Case]:
    if quick:
        return _cases(500, 5, 2)
    return _cases(2_500, 15, 3)
