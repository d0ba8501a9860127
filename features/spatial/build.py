"""Builders of spatial weights: from coordinates, from a links table, from the ownership network.

Distances are great-circle distances on the sphere of radius
:data:`features.connectivity.EARTH_RADIUS_KM` (the haversine distance of
:func:`features.connectivity.haversine_km`). Towns are placed on the unit sphere,
``v = (cos phi cos lambda, cos phi sin lambda, sin phi)``, and searched with a 3-D KD-tree
(``scipy.spatial.cKDTree``) on the chord ``c = |v_i - v_j|``, which is monotone in the arc
``d = 2 R asin(c / 2)`` (the haversine formula written with the chord). Nothing wraps at the
antimeridian: a town at 179.9 E and one at 179.9 W are 20 km apart at 45 N.

Why scipy and not libpysal here: at 20,000 municipalities, ``libpysal.weights.KNN`` on an arc
KD-tree takes 0.35 s (0.23 s to build, 0.12 s to row-standardize through its dictionaries),
``libpysal.graph.Graph.build_knn(metric="haversine")`` 0.75 s and
``libpysal.weights.DistanceBand`` (arc, 150 km) 4.6 s, against 0.02 s for the KD-tree query
that builds the same neighbours (``benchmarks/bench_spatial.py`` measures them in one run).
The weights convert to libpysal with :meth:`SpatialWeights.to_libpysal`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from ..connectivity import EARTH_RADIUS_KM
from .weights import SpatialWeights, SpatialWeightsWarning, from_triplets, warn_islands

__all__ = [
    "KERNELS",
    "distance_band_weights",
    "inverse_distance_weights",
    "kernel_weights",
    "knn_weights",
    "links_weights",
    "network_weights",
]


# ---------------------------------------------------------------------------------------
# coordinates
# ---------------------------------------------------------------------------------------

def _town_coords(lat, lon, ids, what: str) -> tuple[np.ndarray, pd.Index]:
    """Unit vectors of the towns and their ids, checked: same length, no missing coordinate,
    degrees in range, unique ids."""
    if ids is None:
        ids = lat.index if isinstance(lat, pd.Series) else pd.RangeIndex(len(np.asarray(lat)))
    ids = pd.Index(ids)
    la = np.asarray(lat, dtype=float).ravel()
    lo = np.asarray(lon, dtype=float).ravel()
    if isinstance(lat, pd.Series) and isinstance(lon, pd.Series) and not lat.index.equals(lon.index):
        raise ValueError(f"{what}: lat and lon must have the same index (town_id)")
    if not (len(la) == len(lo) == len(ids)):
        raise ValueError(f"{what}: lat ({len(la)}), lon ({len(lo)}) and ids ({len(ids)}) must have the same length")
    if ids.has_duplicates:
        raise ValueError(f"{what}: duplicate town_id {list(ids[ids.duplicated()].unique()[:5])}; "
                         "one row per town is expected")
    bad = ~(np.isfinite(la) & np.isfinite(lo))
    if bad.any():
        raise ValueError(f"{what}: missing coordinates (lat or lon NaN) for town_id {list(ids[bad][:5])} "
                         f"({int(bad.sum())} town(s)); drop them or fill their coordinates")
    out = (np.abs(la) > 90) | (np.abs(lo) > 180)
    if out.any():
        raise ValueError(f"{what}: coordinates out of range for town_id {list(ids[out][:5])}; expected "
                         "latitude in [-90, 90] and longitude in [-180, 180] (decimal degrees)")
    p, lam = np.radians(la), np.radians(lo)
    cp = np.cos(p)
    return np.stack([cp * np.cos(lam), cp * np.sin(lam), np.sin(p)], axis=1), ids


def _arc_km(V: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Great-circle distance (km) of the pairs ``(i, j)`` from the chord of their unit vectors."""
    c = np.linalg.norm(V[i] - V[j], axis=1)
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(c / 2.0, 0.0, 1.0))


def _chord(km: float) -> float:
    """Chord of the unit sphere for an arc of ``km``, slightly enlarged: the pairs found are then
    filtered on their great-circle distance, so rounding never loses a pair at the limit."""
    return 2.0 * np.sin(min(km / (2.0 * EARTH_RADIUS_KM), np.pi / 2)) * (1 + 1e-9) + 1e-15


def _check_positive(value, name: str, what: str) -> float:
    if value is None or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{what}: {name} must be a positive number, got {value!r}")
    return float(value)


def _knn_pairs(V: np.ndarray, ids: pd.Index, k: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other towns of every town: positions ``(n, k)`` and distances (km)."""
    n = len(ids)
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"{what}: k must be a positive integer, got {k!r}")
    if k >= n:
        raise ValueError(f"{what}: k = {k} neighbours need at least k + 1 = {k + 1} towns; got {n} "
                         f"({list(ids[:5])}{' ...' if n > 5 else ''})")
    _, idx = cKDTree(V).query(V, k=k + 1)
    idx = idx.reshape(n, k + 1)
    keep = idx != np.arange(n)[:, None]
    no_self = keep.all(axis=1)  # more than k towns at distance 0: the town itself was not returned
    keep[no_self, -1] = False
    nb = idx[keep].reshape(n, k)
    rows = np.repeat(np.arange(n), k)
    return nb, _arc_km(V, rows, nb.ravel()).reshape(n, k)


def _band_pairs(V: np.ndarray, km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both directions of every pair of distinct towns at most ``km`` apart: rows, cols, km."""
    pairs = cKDTree(V).query_pairs(_chord(km), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d = _arc_km(V, i, j)
    ok = d <= km
    i, j, d = i[ok], j[ok], d[ok]
    return np.r_[i, j], np.r_[j, i], np.r_[d, d]


def knn_weights(lat, lon, k: int, ids=None, transform: str = "r") -> SpatialWeights:
    """k-nearest-neighbour weights on great-circle distances.

    ``w_ij = 1`` when ``j`` is one of the ``k`` towns nearest to ``i`` (``j != i``), else 0; then
    ``transform`` (row-standardized by default: ``w_ij = 1/k``). The weights are not symmetric.
    Ties at the k-th distance are broken by the KD-tree's order (as in libpysal).

    Parameters
    ----------
    lat, lon : Series indexed by ``town_id`` (or arrays with ``ids``)
        Decimal degrees.
    k : int
        Neighbours per town, ``1 <= k < n``.
    ids : array-like, optional
        ``town_id`` of the rows when ``lat`` is not a Series.
    transform : {"r", "b", "o", "d", "v"}

    Returns
    -------
    SpatialWeights
        ``kind = "knn(k=...)"``; no town is an island.

    Raises
    ------
    ValueError
        Missing or out-of-range coordinates, duplicate ids (named), ``k >= n``.
    """
    V, ids = _town_coords(lat, lon, ids, "knn_weights")
    nb, _ = _knn_pairs(V, ids, k, "knn_weights")
    n = len(ids)
    return from_triplets(np.repeat(np.arange(n), k), nb.ravel(), np.ones(n * k), ids, transform, f"knn(k={k})")


def distance_band_weights(lat, lon, km: float, binary: bool = True, power: float = 1.0, ids=None,
                          transform: str = "r") -> SpatialWeights:
    """Distance-band weights: towns at most ``km`` kilometres apart (great circle) are neighbours.

    ``w_ij = 1`` (``binary=True``) or ``d_ij^-power`` (``binary=False``) for ``0 < d_ij <= km``,
    ``i != j``; then ``transform``. Towns with no neighbour within the band are islands (named in
    a :class:`SpatialWeightsWarning`).

    Raises
    ------
    ValueError
        As :func:`knn_weights`; with ``binary=False``, distinct towns at 0 km (named).
    """
    km = _check_positive(km, "km", "distance_band_weights")
    V, ids = _town_coords(lat, lon, ids, "distance_band_weights")
    i, j, d = _band_pairs(V, km)
    if binary:
        w, kind = np.ones(len(d)), f"distance_band({km:g} km)"
    else:
        w, kind = _inverse(d, power, ids, i, j, "distance_band_weights"), f"distance_band({km:g} km, d^-{power:g})"
    return from_triplets(i, j, w, ids, transform, kind)


def _inverse(d: np.ndarray, power: float, ids: pd.Index, i, j, what: str) -> np.ndarray:
    _check_positive(power, "power", what)
    zero = d == 0
    if zero.any():
        pairs = ", ".join(f"({ids[a]!r}, {ids[b]!r})" for a, b in zip(i[zero][:5], j[zero][:5], strict=True))
        raise ValueError(f"{what}: distinct towns at distance 0 km: {pairs}; inverse distance would be "
                         "infinite. Give them distinct coordinates or merge them")
    return d ** (-power)


def inverse_distance_weights(lat, lon, km: float, power: float = 1.0, ids=None,
                             transform: str = "r") -> SpatialWeights:
    """Inverse-distance weights with a cut-off: ``w_ij = d_ij^-power`` for ``d_ij <= km``, else 0.

    The same as ``distance_band_weights(lat, lon, km, binary=False, power=power)``; then
    ``transform`` (row-standardized by default, so the unit of ``d`` cancels).
    """
    km = _check_positive(km, "km", "inverse_distance_weights")
    V, ids = _town_coords(lat, lon, ids, "inverse_distance_weights")
    i, j, d = _band_pairs(V, km)
    w = _inverse(d, power, ids, i, j, "inverse_distance_weights")
    return from_triplets(i, j, w, ids, transform, f"inverse_distance({km:g} km, power={power:g})")


#: Kernel functions of ``u = d / h`` on ``0 <= u < 1`` (0 beyond), as in ``libpysal.weights.Kernel``.
KERNELS = {
    "triangular": lambda u: 1.0 - u,
    "uniform": lambda u: np.full_like(u, 0.5),
    "quadratic": lambda u: 0.75 * (1.0 - u**2),
    "epanechnikov": lambda u: 0.75 * (1.0 - u**2),
    "quartic": lambda u: (15.0 / 16.0) * (1.0 - u**2) ** 2,
    "bisquare": lambda u: (15.0 / 16.0) * (1.0 - u**2) ** 2,
    "gaussian": lambda u: np.exp(-0.5 * u**2) / np.sqrt(2.0 * np.pi),
}


def kernel_weights(lat, lon, bandwidth_km: float | None = None, k: int | None = None,
                   kernel: str = "triangular", ids=None, transform: str = "r") -> SpatialWeights:
    """Kernel weights ``w_ij = K(d_ij / h_i)`` for ``d_ij < h_i``, ``j != i`` (zero diagonal).

    Fixed bandwidth ``h_i = bandwidth_km``, or adaptive: ``h_i`` = the distance to town ``i``'s
    ``k``-th nearest other town times ``1 + 1e-7`` (libpysal's ``Kernel(fixed=False)``
    convention, so the k-th neighbour keeps a small positive weight under the triangular
    kernel). Kernels (:data:`KERNELS`): triangular ``1 - u``, uniform ``1/2``, quadratic
    (Epanechnikov) ``3/4 (1 - u^2)``, quartic (bisquare) ``15/16 (1 - u^2)^2``, gaussian
    ``exp(-u^2/2) / sqrt(2 pi)`` truncated at ``u = 1``.

    Give exactly one of ``bandwidth_km`` and ``k``.
    """
    if (bandwidth_km is None) == (k is None):
        raise ValueError("kernel_weights: give exactly one of bandwidth_km (fixed) and k (adaptive bandwidth)")
    if kernel not in KERNELS:
        raise ValueError(f"kernel_weights: kernel must be one of {sorted(KERNELS)}, got {kernel!r}")
    V, ids = _town_coords(lat, lon, ids, "kernel_weights")
    n = len(ids)
    if k is not None:
        nb, d = _knn_pairs(V, ids, k, "kernel_weights")
        h = d[:, -1] * (1 + 1e-7)
        i, j, d = np.repeat(np.arange(n), k), nb.ravel(), d.ravel()
        kind = f"kernel({kernel}, k={k})"
    else:
        h0 = _check_positive(bandwidth_km, "bandwidth_km", "kernel_weights")
        i, j, d = _band_pairs(V, h0)
        h = np.full(n, h0)
        kind = f"kernel({kernel}, {h0:g} km)"
    hi = h[i]
    u = np.divide(d, hi, out=np.zeros_like(d), where=hi > 0)
    inside = u < 1.0
    w = KERNELS[kernel](u[inside])
    return from_triplets(i[inside], j[inside], w, ids, transform, kind)


# ---------------------------------------------------------------------------------------
# tables of ties
# ---------------------------------------------------------------------------------------

def _tie_columns(links: pd.DataFrame, what: str) -> tuple[str, str]:
    for s, t in (("source", "target"), ("source_town_id", "target_town_id")):
        if s in links.columns and t in links.columns:
            return s, t
    raise ValueError(f"{what}: expected columns source, target (or source_town_id, target_town_id) and "
                     f"weight; got {list(links.columns)}")


def _tie_triplets(links: pd.DataFrame, ids, year, what: str):
    """Source positions, target positions, weights and ids from a table of ties."""
    if year is not None:
        if "year" not in links.columns:
            raise ValueError(f"{what}: year={year} given but the table has no year column")
        links = links[links["year"] == year]
    elif "year" in links.columns and links["year"].nunique() > 1:
        raise ValueError(f"{what}: the table holds several years {sorted(links['year'].unique())[:5]}; "
                         "give year= (weights are built for one year)")
    s, t = _tie_columns(links, what)
    src = links[s].astype("str").to_numpy()
    tgt = links[t].astype("str").to_numpy()
    w = links["weight"].to_numpy(dtype=float) if "weight" in links.columns else np.ones(len(links))
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ValueError(f"{what}: weight must be finite and non-negative; rows {list(links.index[bad][:5])}")
    ids = pd.Index(pd.unique(np.r_[src, tgt])).sort_values() if ids is None else pd.Index(ids).astype("str")
    if ids.has_duplicates:
        raise ValueError(f"{what}: duplicate town_id {list(ids[ids.duplicated()].unique()[:5])}")
    si, ti = ids.get_indexer(src), ids.get_indexer(tgt)
    unknown = (si < 0) | (ti < 0)
    if unknown.any():
        names = pd.unique(np.r_[src[si < 0], tgt[ti < 0]])
        raise ValueError(f"{what}: ties name town_id not in ids: {list(names[:5])}")
    return si, ti, w, ids


def links_weights(links: pd.DataFrame, symmetric: bool = True, binary: bool = False, ids=None, year=None,
                  transform: str = "r") -> SpatialWeights:
    """Weights from a table of ties between towns (DESIGN.md's ``links``: supply, commuting...).

    ``links`` has ``source``, ``target`` (or ``source_town_id``, ``target_town_id``) and
    optionally ``weight`` (default 1) and ``year``. Repeated pairs are summed:
    ``a_ij = sum of the weights of the ties i -> j``. ``symmetric=True`` gives
    ``w_ij = a_ij + a_ji`` (a tie in either direction), else ``w_ij = a_ij``; ``binary`` sets
    every non-zero weight to 1. Ties of a town with itself are left out (with a warning naming
    them). ``ids`` sets the towns and their order (towns without ties become islands); default
    the towns named in the table, sorted.
    """
    si, ti, w, ids = _tie_triplets(links, ids, year, "links_weights")
    return _tie_weights(si, ti, w, ids, symmetric, binary, transform, "links", warn_self=True)


def _tie_weights(si, ti, w, ids, symmetric, binary, transform, kind, warn_self) -> SpatialWeights:
    self_tie = si == ti
    if self_tie.any() and warn_self:
        warnings.warn(f"{kind}: {int(self_tie.sum())} tie(s) of a town with itself left out "
                      f"(town_id {list(ids[si[self_tie]].unique()[:5])})", SpatialWeightsWarning, stacklevel=3)
    keep = ~self_tie & (w > 0)
    si, ti, w = si[keep], ti[keep], w[keep]
    if symmetric:
        si, ti, w = np.r_[si, ti], np.r_[ti, si], np.r_[w, w]
    out = from_triplets(si, ti, w, ids, "o", kind, warn=False)
    base = out.base
    if binary:
        base = out.transformed("b").sparse
    res = SpatialWeights(base, ids, "o", f"{kind}{'(symmetric)' if symmetric else ''}{', binary' if binary else ''}")
    res = res.transformed(transform)
    warn_islands(res)
    return res


def network_weights(edges: pd.DataFrame, year=None, ids=None, ties: str = "control", binary: bool = False,
                    transform: str = "r") -> SpatialWeights:
    """Weights from the intermunicipal ownership network of a year.

    ``edges`` is the table :func:`features.corporate.ownership_edges` builds (and the network
    feature group uses): ``source`` (headquarters town), ``target`` (town of the controlled
    firms), ``weight`` (employees), optionally ``year`` (then ``year=`` picks one, required when
    there are several). Control of a town's firms from the town itself is not a tie between
    towns and is left out.

    ``ties="control"``: ``w_ij = a_ij + a_ji`` with ``a_ij`` the employees in ``j`` controlled from
    ``i`` (a tie in either direction). ``ties="common_owner"``: towns whose firms are controlled
    from a common headquarters town ``h`` (``h`` other than both), ``w_jk`` = the number of such
    towns ``h``: ``W = B^T B`` off the diagonal with ``B`` the binary control matrix. ``binary``
    sets every non-zero weight to 1. Then ``transform`` (row-standardized by default).
    ``ids``: the towns (default those of the edges); towns with no tie are islands, named in a
    warning.
    """
    if ties not in ("control", "common_owner"):
        raise ValueError(f"network_weights: ties must be 'control' or 'common_owner', got {ties!r}")
    si, ti, w, ids = _tie_triplets(edges, ids, year, "network_weights")
    if ties == "control":
        return _tie_weights(si, ti, w, ids, True, binary, transform, "network(control)", warn_self=False)
    keep = (si != ti) & (w > 0)
    n = len(ids)
    B = sparse.csr_array((np.ones(int(keep.sum())), (si[keep], ti[keep])), shape=(n, n))
    B.data[:] = 1.0  # duplicate ties count once
    C = (B.T @ B).tocoo()
    off = C.row != C.col
    return _tie_weights(C.row[off], C.col[off], C.data[off], ids, False, binary, transform,
                        "network(common_owner)", warn_self=False)
