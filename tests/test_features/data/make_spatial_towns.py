"""Write spatial_towns.csv: 60 synthetic northern towns for the spatial statistics tests.

    python tests/test_features/data/make_spatial_towns.py

Columns: town_id, lat, lon (decimal degrees), y (a smooth north-east trend plus noise, so
positively autocorrelated), type (y cut into three types "a", "b", "c"), flag (y above its
median). numpy's default_rng(20240515); values rounded so the CSV is the data.
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20240515)
n = 60
lat = np.round(rng.uniform(60.0, 70.0, n), 4)
lon = np.round(rng.uniform(40.0, 80.0, n), 4)
y = np.round(0.5 * (lat - 65.0) + 0.1 * (lon - 60.0) + rng.normal(0.0, 1.0, n), 4)
types = np.array(["a", "b", "c"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
df = pd.DataFrame({"town_id": [f"T{i:02d}" for i in range(n)], "lat": lat, "lon": lon, "y": y,
                   "type": types, "flag": (y > np.median(y)).astype(int)})
df.to_csv(Path(__file__).with_name("spatial_towns.csv"), index=False)
