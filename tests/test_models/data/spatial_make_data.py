"""Write spatial_panel.csv and spatial_edges.csv: a balanced panel of 60 towns x 6 years drawn
from a spatial lag model with town and year effects (rho = 0.4, b = (1, -0.5)), and the
k = 5 nearest-neighbour links between the towns (on their longitude/latitude as plane
coordinates). Run once: ``python tests/test_models/data/spatial_make_data.py``."""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

HERE = Path(__file__).parent
rng = np.random.default_rng(20240615)
n, T, k = 60, 6, 5
lat, lon = rng.uniform(55.0, 60.0, n), rng.uniform(30.0, 40.0, n)
_, nb = cKDTree(np.column_stack([lon, lat])).query(np.column_stack([lon, lat]), k=k + 1)
ids = [f"t{i:02d}" for i in range(n)]
edges = pd.DataFrame({"town_id": np.repeat(ids, k), "neighbor": np.asarray(ids)[nb[:, 1:].ravel()]})
W = np.zeros((n, n))
W[np.repeat(np.arange(n), k), nb[:, 1:].ravel()] = 1.0 / k
X = rng.normal(size=(T, n, 2))
a, g = rng.normal(size=n), rng.normal(size=T)
A = np.linalg.inv(np.eye(n) - 0.4 * W)
y = np.stack([A @ (X[t] @ np.array([1.0, -0.5]) + a + g[t] + rng.normal(size=n)) for t in range(T)])
panel = pd.DataFrame({"town_id": np.tile(ids, T), "year": np.repeat(np.arange(2000, 2000 + T), n),
                      "lat": np.tile(lat, T).round(6), "lon": np.tile(lon, T).round(6),
                      "y": y.ravel().round(10), "x1": X[:, :, 0].ravel().round(10), "x2": X[:, :, 1].ravel().round(10)})
panel.to_csv(HERE / "spatial_panel.csv", index=False)
edges.to_csv(HERE / "spatial_edges.csv", index=False)
