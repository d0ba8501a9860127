"""Benchmark of spatial weights and Moran's I over 20,000 municipalities against PySAL, in the
same run.

Data: 20,000 towns at random over the Russian North and Far East (latitude 50-75, longitude
20 E to 160 W, so the antimeridian is crossed), a standard normal variable (``--quick``:
2,000 towns). Cases, each against its PySAL equivalent measured in the same session:

* ``knn(k=6)``: ours ``features.spatial.knn_weights(lat, lon, 6)`` (row-standardized
  SpatialWeights) against ``libpysal.weights.KNN(libpysal.cg.KDTree(lonlat,
  distance_metric="Arc", radius=6371.0088), k=6)`` then ``w.transform = "r"`` and ``w.sparse``
  (libpysal 4.14.1);
* ``distance band 60 km``: ours ``distance_band_weights(lat, lon, 60)`` against
  ``libpysal.weights.DistanceBand(KDTree(..., "Arc"), threshold=60)``, row-standardized;
* ``Moran 999``: ``features.spatial.moran(y, w, 999, random_state=0)`` on the knn weights
  against ``esda.Moran(y, W, permutations=999)`` (esda 2.9) on the libpysal knn ``W``;
* ``knn + Moran 999``: the whole pipeline, weights built inside the timing, both sides.

Peak memory (tracemalloc, and the RSS column) is measured for our cases: the target is linear
in ``n`` (sparse weights; a dense ``n x n`` matrix would take 3,052 MiB at 20,000 towns).
The ratio column reads ``PySAL median / ours``: above 1 means we are faster.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from benchmarks.harness import Case
from features import spatial as sp
from features.connectivity import EARTH_RADIUS_KM

FULL, QUICK = 20_000, 2_000
K, BAND_KM, PERMUTATIONS = 6, 60.0, 999
TARGET = {"speedup": 1.0}


@functools.lru_cache(maxsize=2)
def towns(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    lon = rng.uniform(20.0, 200.0, n)
    return pd.DataFrame({"lat": rng.uniform(50.0, 75.0, n), "lon": np.where(lon > 180, lon - 360, lon),
                         "y": rng.normal(size=n)}, index=pd.Index([f"m{i:05d}" for i in range(n)], name="town_id"))


def _tree(t: pd.DataFrame):
    import libpysal

    return libpysal.cg.KDTree(t[["lon", "lat"]].to_numpy(), distance_metric="Arc", radius=EARTH_RADIUS_KM)


def _pysal_knn(t: pd.DataFrame):
    from libpysal import weights

    w = weights.KNN(_tree(t), k=K, ids=list(t.index))
    w.transform = "r"
    _ = w.sparse
    return w


def _pysal_band(t: pd.DataFrame):
    from libpysal import weights

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = weights.DistanceBand(_tree(t), threshold=BAND_KM, ids=list(t.index), silence_warnings=True)
    w.transform = "r"
    _ = w.sparse
    return w


def _ours_band(t: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SpatialWeightsWarning)
        return sp.distance_band_weights(t["lat"], t["lon"], BAND_KM)


def _esda_moran(y: np.ndarray, w):
    import esda

    return esda.Moran(y, w, permutations=PERMUTATIONS)


def cases(quick: bool = False) -> list[Case]:
    n = QUICK if quick else FULL
    tag = f"{n:,} towns"

    def t():
        return towns(n)

    def with_weights():
        d = towns(n)
        return d, sp.knn_weights(d["lat"], d["lon"], K), _pysal_knn(d)

    return [
        Case(f"spatial: knn(k={K}) weights, {tag}", lambda d: sp.knn_weights(d["lat"], d["lon"], K), t,
             baseline=f"pysal: libpysal KNN (arc) + transform r, {tag}", target=TARGET),
        Case(f"pysal: libpysal KNN (arc) + transform r, {tag}", _pysal_knn, t, measure_memory=False),
        Case(f"spatial: distance band {BAND_KM:g} km, {tag}", _ours_band, t,
             baseline=f"pysal: libpysal DistanceBand (arc), {tag}", target=TARGET),
        Case(f"pysal: libpysal DistanceBand (arc), {tag}", _pysal_band, t, repeat=3, measure_memory=False),
        Case(f"spatial: Moran {PERMUTATIONS} perms on knn, {tag}",
             lambda s: sp.moran(s[0]["y"], s[1], PERMUTATIONS, random_state=0), with_weights,
             baseline=f"pysal: esda.Moran {PERMUTATIONS} perms, {tag}", target=TARGET),
        Case(f"pysal: esda.Moran {PERMUTATIONS} perms, {tag}",
             lambda s: _esda_moran(s[0]["y"].to_numpy(), s[2]), with_weights, measure_memory=False),
        Case(f"spatial: knn + Moran {PERMUTATIONS} perms, {tag}",
             lambda d: sp.moran(d["y"], sp.knn_weights(d["lat"], d["lon"], K), PERMUTATIONS, random_state=0), t,
             baseline=f"pysal: KNN + esda.Moran {PERMUTATIONS} perms, {tag}", target=TARGET),
        Case(f"pysal: KNN + esda.Moran {PERMUTATIONS} perms, {tag}",
             lambda d: _esda_moran(d["y"].to_numpy(), _pysal_knn(d)), t, measure_memory=False),
    ]
