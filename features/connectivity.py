"""Connectivity of towns: great-circle distances, market potential, ownership-network centrality.

References: Harris, C. D. (1954) "The market as a factor in the localization of industry in
the United States", *Annals of the AAG* 44(4) (market potential); Keeble, D., Owens, P. L. &
Thompson, C. (1982) *Regional Studies* 16(6) (self potential with the internal distance
``(2/3) sqrt(area / pi)``, also Head & Mayer 2004); Page, L. et al. (1999) "The PageRank
citation ranking", Stanford InfoLab; Kleinberg, J. (1999) "Authoritative sources in a
hyperlinked environment", *JACM* 46(5) (HITS); Brandes, U. (2001) "A faster algorithm for
betweenness centrality", *J. Math. Sociology* 25(2). The centrality conventions (dangling
nodes, normalisations) are those of networkx 3, so its results can be compared directly.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd
from scipy import sparse

from ._matrix import thread_map

__all__ = [
    "EARTH_RADIUS_KM",
    "distance_decay",
    "haversine_km",
    "haversine_matrix",
    "internal_distance_km",
    "market_potential",
    "market_potential_from_coords",
    "ownership_centrality",
]

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088


def haversine_matrix(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distances (km) between arrays of origins and destinations, decimal degrees:
    the formula of :func:`haversine_km` on plain arrays, without checks or labels."""
    p1, l1 = np.radians(lat1)[:, None], np.radians(lon1)[:, None]
    p2, l2 = np.radians(lat2)[None, :], np.radians(lon2)[None, :]
    a = np.sin((p2 - p1) / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _coords(lat, lon, what: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    lat_s = pd.Series(lat)
    lon_s = pd.Series(lon, index=lat_s.index) if not isinstance(lon, pd.Series) else lon
    if not lat_s.index.equals(lon_s.index):
        raise ValueError(f"{what}: lat and lon must have the same index")
    la = lat_s.to_numpy(dtype=float)
    lo = lon_s.to_numpy(dtype=float)
    if np.isnan(la).any() or np.isnan(lo).any():
        raise ValueError(f"{what}: coordinates are missing for {list(lat_s.index[np.isnan(la) | np.isnan(lo)][:5])}")
    if (np.abs(la) > 90).any() or (np.abs(lo) > 180).any():
        raise ValueError(f"{what}: expected latitude in [-90, 90] and longitude in [-180, 180] (decimal degrees)")
    return la, lo, lat_s.index


def haversine_km(lat, lon, to_lat=None, to_lon=None) -> pd.DataFrame:
    """Great-circle distance matrix in km (haversine formula, sphere of radius 6371.0088 km).

    ``d_ij = 2 R asin( sqrt( sin^2((phi_j - phi_i)/2) + cos phi_i cos phi_j sin^2((lambda_j - lambda_i)/2) ) )``
    with latitudes ``phi`` and longitudes ``lambda`` in radians. The error against the
    ellipsoidal (Vincenty) distance is below 0.5 %; the formula is accurate to rounding
    except near antipodal points (relative error about 1e-8 there).

    Parameters
    ----------
    lat, lon : Series (same index) or array-like
        Decimal degrees of the origins.
    to_lat, to_lon : optional
        Destinations; default the origins themselves (a square, symmetric matrix).

    Returns
    -------
    DataFrame
        Rows = origins, columns = destinations, labelled by the inputs' index.
    """
    la, lo, idx = _coords(lat, lon, "haversine_km")
    if to_lat is None and to_lon is None:
        la2, lo2, idx2 = la, lo, idx
    else:
        la2, lo2, idx2 = _coords(to_lat, to_lon, "haversine_km (destinations)")
    return pd.DataFrame(haversine_matrix(la, lo, la2, lo2), index=idx, columns=idx2)


def distance_decay(d: np.ndarray, beta: float, decay: str) -> np.ndarray:
    """Weight of a distance: ``d^-beta`` (``decay="power"``) or ``exp(-beta d)`` (``"exponential"``)."""
    if decay == "power":
        with np.errstate(divide="ignore"):
            return d ** (-beta)
    return np.exp(-beta * d)


def _check_decay(beta: float, decay: str) -> None:
    if decay not in ("power", "exponential"):
        raise ValueError(f"decay must be 'power' or 'exponential', got {decay!r}")
    if not (np.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a positive number, got {beta!r}")


def internal_distance_km(area_km2, index) -> np.ndarray:
    """Internal distance ``(2/3) sqrt(area / pi)`` of each town of ``index`` (Keeble et al. 1982)."""
    if area_km2 is None:
        raise ValueError("self_potential=True needs area_km2 (the towns' areas, km^2) for the internal distance")
    area = pd.Series(area_km2, dtype=float).reindex(index).to_numpy()
    bad = ~(area > 0)
    if bad.any():
        raise ValueError(f"area_km2 must be positive for every origin; missing or non-positive for {list(index[bad][:5])}")
    return (2.0 / 3.0) * np.sqrt(area / np.pi)


def market_potential(mass, distance, beta: float = 1.0, decay: str = "power",
                     self_potential: bool = False, area_km2=None) -> pd.Series:
    """Harris (1954) market potential of each origin town.

    ``MP_i = sum_{j != i} mass_j f(d_ij)`` with ``f(d) = d^-beta`` (``decay="power"``) or
    ``f(d) = exp(-beta d)`` (``decay="exponential"``, ``d`` in km). With
    ``self_potential=True`` the town's own mass is added at its internal distance,
    ``mass_i f(d_ii)``, ``d_ii = (2/3) sqrt(area_i / pi)`` (Keeble et al. 1982), which for
    ``beta = 1`` power decay is ``mass_i / d_ii``.

    Parameters
    ----------
    mass : Series
        Mass (population, employment, income) indexed by destination; must cover every column
        of ``distance`` and hold no missing values.
    distance : DataFrame
        Distances in km, rows = origins, columns = destinations (square from
        :func:`haversine_km`, or rectangular: new towns against reference towns). A column
        with the same label as the row is the town itself and is left out (``j != i``).
    beta : float
        Distance-decay parameter (> 0).
    area_km2 : Series, optional
        Area of each origin, needed for the self potential.

    Returns
    -------
    Series indexed by origin, named ``market_potential``.

    Raises
    ------
    ValueError
        Two different towns at distance 0 under power decay (the potential would be
        infinite: merge them or move one), missing masses, negative distances.
    """
    _check_decay(beta, decay)
    if not isinstance(distance, pd.DataFrame):
        raise TypeError("distance must be a DataFrame with rows = origins and columns = destinations")
    m = pd.Series(mass, dtype=float)
    absent = distance.columns.difference(m.index)
    if len(absent):
        raise ValueError(f"mass is missing for destination(s) {list(absent[:5])}")
    mv = m.reindex(distance.columns).to_numpy()
    if np.isnan(mv).any():
        raise ValueError(f"mass has missing values for {list(distance.columns[np.isnan(mv)][:5])}")
    D = distance.to_numpy(dtype=float)
    if (D < 0).any() or np.isnan(D).any():
        raise ValueError("distance must be non-negative with no missing values")
    same = distance.index.to_numpy()[:, None] == distance.columns.to_numpy()[None, :]
    _check_zero_distance(D, same, decay, distance.index, distance.columns)
    F = np.where(same, 0.0, distance_decay(np.where(same, 1.0, D), beta, decay))
    mp = F @ mv
    if self_potential:
        own = m.reindex(distance.index).to_numpy()
        if np.isnan(own).any():
            raise ValueError(f"self potential needs the mass of every origin; missing for {list(distance.index[np.isnan(own)][:5])}")
        mp = mp + own * distance_decay(internal_distance_km(area_km2, distance.index), beta, decay)
    return pd.Series(mp, index=distance.index, name="market_potential")


def _check_zero_distance(D, same, decay, rows, cols) -> None:
    if decay != "power":
        return
    zero = (D == 0) & ~same
    if zero.any():
        r, c = np.nonzero(zero)
        _raise_zero_distance(rows, cols, r, c)


def _raise_zero_distance(rows, cols, r: np.ndarray, c: np.ndarray) -> None:
    """The error for distinct towns at 0 km under power decay (first five pairs by position)."""
    pairs = ", ".join(f"({rows[i]!r}, {cols[j]!r})" for i, j in zip(r[:5], c[:5], strict=True))
    raise ValueError(
        f"distinct towns at distance 0 km: {pairs}; power decay would make their potential "
        "infinite. Give them distinct coordinates, merge them, or set min_distance_km"
    )


def _unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    p, lam = np.radians(lat_deg), np.radians(lon_deg)
    cp = np.cos(p)
    return np.stack([cp * np.cos(lam), cp * np.sin(lam), np.sin(p)], axis=1)


#: Below this quarter squared chord (c^2 / 4, about 20 km on the Earth) the chord is recomputed
#: from coordinate differences instead of ``1/2 - 1/2 cos``, which loses precision for close points.
_CLOSE_Q = 2.5e-6


def _block_decay(Vo: np.ndarray, Vd: np.ndarray, own: np.ndarray, beta: float, decay: str,
                 min_distance_km: float | None, labels=None) -> tuple[np.ndarray, float]:
    """Distance-decay weights of a block of origins against every destination.

    Returns ``(F, scale)`` with ``f(d_ij) = scale * F_ij`` and ``F_ij = 0`` for an origin's
    own column (``own[i]``, -1 if the origin is not a destination). The great-circle distance
    is the haversine one: with the chord ``c = |v_i - v_j|`` between unit vectors,
    ``sin^2(dphi/2) + cos phi_i cos phi_j sin^2(dlambda/2) = c^2 / 4 = q`` and
    ``d = 2 R asin(sqrt(q))``. One matrix product gives ``q = 1/2 - 1/2 v_i . v_j``; pairs
    closer than about 20 km are recomputed from coordinate differences, so the relative error
    stays below 1e-10 at every distance. The work is a handful of passes over the block.
    """
    Q = Vo @ (-0.5 * Vd.T)
    Q += 0.5
    rows = np.flatnonzero(own >= 0)
    Q[rows, own[rows]] = np.inf  # the town itself: not a close pair; its weight is zeroed at the end
    r, c = np.nonzero(Q < _CLOSE_Q)
    if len(r):
        diff = Vo[r] - Vd[c]
        Q[r, c] = 0.25 * np.einsum("ij,ij->i", diff, diff)
        if min_distance_km is None and decay == "power":
            zero = Q[r, c] == 0
            if zero.any():
                _raise_zero_distance(*labels, r[zero], c[zero])
    q_floor = 0.0
    if min_distance_km is not None:
        q_floor = np.sin(min(min_distance_km / (2.0 * EARTH_RADIUS_KM), np.pi / 2)) ** 2
    np.clip(Q, q_floor, 1.0, out=Q)
    np.sqrt(Q, out=Q)
    np.arcsin(Q, out=Q)  # d / (2 R)
    two_r = 2.0 * EARTH_RADIUS_KM
    if decay == "power":
        scale = two_r ** -beta
        if scale < 1e-150:  # large beta: q^-beta could overflow while (2R)^-beta underflows; work in km
            Q *= two_r
            scale = 1.0
        with np.errstate(divide="ignore"):
            if beta == 1.0:
                np.reciprocal(Q, out=Q)
            elif beta == 2.0:
                np.multiply(Q, Q, out=Q)
                np.reciprocal(Q, out=Q)
            else:
                np.power(Q, -beta, out=Q)
    else:
        Q *= -beta * two_r
        np.exp(Q, out=Q)
        scale = 1.0
    Q[rows, own[rows]] = 0.0
    return Q, scale


def market_potential_from_coords(mass, lat, lon, beta: float = 1.0, decay: str = "power",
                                 self_potential: bool = False, area_km2=None,
                                 origins=None, min_distance_km: float | None = None,
                                 block_cells: int = 4_000_000, n_jobs: int | None = None) -> pd.DataFrame:
    """Market potential computed in row blocks from coordinates, never holding the full matrix.

    Same definition as :func:`market_potential` with great-circle (haversine) distances.
    Memory is ``O(block_cells)`` whatever the number of towns: a block of origins against all
    destinations at a time (20,000 municipalities need 20,000 x 200 = 4 million distances
    per block, about 32 MB). Results do not depend on the block size beyond floating-point
    rounding of the matrix products (relative 1e-15).

    Parameters
    ----------
    mass : Series or DataFrame
        Indexed by destination town; a DataFrame gives one mass column per period (for
        example population by year) and the result has the same columns.
    lat, lon : Series
        Destination coordinates, same index as ``mass``.
    origins : DataFrame with ``lat``, ``lon`` (and ``area_km2``), optional
        Origins, default the destinations. An origin whose label is a destination leaves
        itself out.
    min_distance_km : float, optional
        Floor applied to distances between distinct towns (for municipalities sharing the
        same centroid); default none, and distinct towns at 0 km raise ``ValueError`` under
        power decay.
    n_jobs : int, optional
        Threads working on blocks (None or -1: every core). Each block is computed the same
        way whatever the thread, so the result does not depend on ``n_jobs``.

    Returns
    -------
    DataFrame
        Rows = origins, columns = those of ``mass`` (or ``["market_potential"]`` for a Series).
    """
    _check_decay(beta, decay)
    M = mass.to_frame("market_potential") if isinstance(mass, pd.Series) else mass
    M = M.astype(float)
    if M.isna().to_numpy().any():
        raise ValueError("mass has missing values; fill or drop them before computing potentials")
    la, lo, idx = _coords(lat, lon, "market potential destinations")
    if not idx.equals(M.index):
        M = M.reindex(idx)
        if M.isna().to_numpy().any():
            raise ValueError("mass must be given for every destination with coordinates")
    if origins is None:
        ola, olo, oidx = la, lo, idx
        oarea = area_km2
    else:
        ola, olo, oidx = _coords(origins["lat"], origins["lon"], "market potential origins")
        oarea = origins["area_km2"] if "area_km2" in origins else area_km2
    if min_distance_km is not None and not min_distance_km > 0:
        raise ValueError(f"min_distance_km must be positive, got {min_distance_km!r}")
    Mv = np.ascontiguousarray(M.to_numpy())
    Vd = _unit_vectors(la, lo)
    if origins is None:  # square: each pair of towns once
        out = _potential_square(Vd, Mv, idx, beta, decay, min_distance_km, block_cells, n_jobs)
        return _with_self_potential(out, M, idx, oarea, self_potential, beta, decay)
    Vo = _unit_vectors(ola, olo)
    out = np.empty((len(oidx), Mv.shape[1]))
    dest_pos = pd.Index(idx).get_indexer(oidx)  # position of each origin among destinations, -1 if new
    step = max(1, int(block_cells // max(1, len(idx))))

    def block(start: int) -> None:  # a block of origins against every destination
        stop = min(start + step, len(oidx))
        F, scale = _block_decay(Vo[start:stop], Vd, dest_pos[start:stop], beta, decay, min_distance_km,
                                labels=(oidx[start:stop], idx))
        res = F @ Mv
        if scale != 1.0:
            res *= scale
        out[start:stop] = res

    thread_map(block, range(0, len(oidx), step), n_jobs)
    return _with_self_potential(out, M, oidx, oarea, self_potential, beta, decay)


def _with_self_potential(out, M, oidx, oarea, self_potential, beta, decay) -> pd.DataFrame:
    if self_potential:
        own_mass = M.reindex(oidx).to_numpy()
        if np.isnan(own_mass).any():
            raise ValueError("self potential needs the mass of every origin")
        f_self = distance_decay(internal_distance_km(oarea, oidx), beta, decay)
        out = out + own_mass * f_self[:, None]
    return pd.DataFrame(out, index=oidx, columns=M.columns)


def _potential_square(V: np.ndarray, Mv: np.ndarray, idx, beta, decay, min_distance_km, block_cells,
                      n_jobs) -> np.ndarray:
    """Potentials of every town against every other, each pair of blocks computed once.

    ``f(d_ij) = f(d_ji)``: the block pair (I, J), I <= J, gives both ``F_IJ M_J`` (for the
    towns of I) and ``F_IJ^T M_I`` (for those of J). The partial sums are added in a fixed
    order afterwards, so the result does not depend on the threads.
    """
    n = len(V)
    bs = max(1, int(np.sqrt(block_cells)))
    starts = list(range(0, n, bs))
    pairs = [(a, b) for a in range(len(starts)) for b in range(a, len(starts))]
    parts: dict[tuple[int, int], np.ndarray] = {}

    def pair(ab) -> None:
        a, b = ab
        ia = slice(starts[a], min(starts[a] + bs, n))
        ib = slice(starts[b], min(starts[b] + bs, n))
        own = np.arange(ia.stop - ia.start) if a == b else np.full(ia.stop - ia.start, -1)
        F, scale = _block_decay(V[ia], V[ib], own, beta, decay, min_distance_km, labels=(idx[ia], idx[ib]))
        parts[(a, b)] = (F @ Mv[ib]) * scale  # contributions to the towns of block a
        if a != b:
            parts[(b, a)] = (F.T @ Mv[ia]) * scale  # and, by symmetry, to those of block b

    thread_map(pair, pairs, n_jobs)
    out = np.zeros((n, Mv.shape[1]))
    for a, s in enumerate(starts):  # fixed order of the partial sums
        acc = out[s:s + bs]
        for b in range(len(starts)):
            acc += parts.pop((a, b))
    return out


# ---------------------------------------------------------------------------------------
# ownership network
# ---------------------------------------------------------------------------------------

def _pagerank(W: sparse.csr_matrix, alpha: float = 0.85, tol: float = 1e-12, max_iter: int = 10_000) -> np.ndarray:
    """Weighted PageRank by power iteration, networkx 3 conventions (uniform teleport, dangling
    mass spread uniformly), stopped when the L1 change is below ``n * tol``."""
    n = W.shape[0]
    out_w = np.asarray(W.sum(axis=1)).ravel()
    dangling = out_w == 0
    inv = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out_w))
    PT = (sparse.diags(inv) @ W).T.tocsr()  # transposed row-stochastic matrix
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        x_new = alpha * (PT @ x + x[dangling].sum() / n) + (1.0 - alpha) / n
        if np.abs(x_new - x).sum() < n * tol:
            return x_new / x_new.sum()
        x = x_new
    raise RuntimeError("PageRank did not converge")


#: Networks up to this many active nodes are solved by a dense eigendecomposition.
_HITS_DENSE_MAX = 400


def _hits(W: sparse.csr_matrix, dense_max: int = _HITS_DENSE_MAX) -> tuple[np.ndarray, np.ndarray]:
    """HITS hub and authority scores (Kleinberg 1999), each summing to 1.

    The authority vector is the principal eigenvector of ``W^T W`` and the hub vector
    ``W a``. Where the principal eigenvalue is repeated (several equally strong components)
    the result is the limit of Kleinberg's power iteration from the uniform start: the
    projection of the all-ones vector on the principal eigenspace. Small networks use a dense
    eigendecomposition, larger ones Lanczos iterations (ARPACK) started from the all-ones
    vector, whose Krylov space holds exactly that projection. Only towns with incoming ties
    enter the eigenproblem (the others have zero authority).
    """
    n = W.shape[0]
    if W.nnz == 0:
        return np.full(n, 1.0 / n), np.full(n, 1.0 / n)
    cols = np.flatnonzero(np.diff(W.tocsc().indptr) > 0)  # towns with incoming ties
    B = W[:, cols].tocsr()
    m = len(cols)
    if m <= dense_max:
        Bd = B.toarray()
        vals, vecs = np.linalg.eigh(Bd.T @ Bd)
        top = vals >= vals[-1] * (1.0 - 1e-10)
        V = vecs[:, top]
        a_sub = V @ (V.T @ np.ones(m))
    else:
        from scipy.sparse.linalg import LinearOperator, eigsh

        BT = B.T.tocsr()
        op = LinearOperator((m, m), matvec=lambda v: BT @ (B @ v), dtype=float)
        _, vec = eigsh(op, k=1, which="LA", v0=np.ones(m), tol=1e-13, maxiter=100_000)
        a_sub = vec[:, 0]
    if a_sub.sum() < 0:
        a_sub = -a_sub
    a_sub = np.where(np.abs(a_sub) < 1e-15 * np.abs(a_sub).max(), 0.0, a_sub)
    a = np.zeros(n)
    a[cols] = a_sub
    h = W @ a
    return h / h.sum(), a / a.sum()


def _transit_sources(W: sparse.csr_matrix) -> np.ndarray:
    """Nodes that reach, by a path of one or more edges, a node with both incoming and
    outgoing edges. Only they can be the source of a shortest path with an inner node, so
    only their Brandes passes add to betweenness (the others add exactly 0)."""
    n = W.shape[0]
    has_out = np.diff(W.indptr) > 0
    has_in = np.zeros(n, bool)
    has_in[W.indices] = True
    reach = has_in & has_out  # transit nodes
    if not reach.any():
        return np.zeros(0, dtype=np.int64)
    B = (W > 0).astype(np.int8).tocsr()
    found = np.zeros(n, bool)
    frontier = reach.astype(np.int8)
    while True:  # reverse breadth-first search from the transit nodes
        pred = (B @ frontier) > 0
        new = pred & ~found
        if not new.any():
            break
        found |= new
        frontier = new.astype(np.int8)
    return np.flatnonzero(found)


def _betweenness(W: sparse.csr_matrix) -> np.ndarray:
    """Brandes (2001) for weighted directed graphs, distance = 1 / weight, normalised by
    ``(n - 1)(n - 2)`` as ``networkx.betweenness_centrality(normalized=True)``.

    Sources are only the nodes that can start a path through an inner node (see
    ``_transit_sources``); in an ownership network those are the headquarters that control
    a town which itself controls others, a small minority, so the exact algorithm stays
    cheap at the scale of all Russian municipalities. Inner work uses the CSR arrays.
    """
    n = W.shape[0]
    bc = np.zeros(n)
    indptr, indices = W.indptr, W.indices
    length = (1.0 / W.data).tolist()
    idx_list = indices.tolist()
    ptr = indptr.tolist()
    for s in _transit_sources(W).tolist():
        stack: list[int] = []
        pred: dict[int, list[int]] = {}
        sigma = {s: 1.0}
        dist: dict[int, float] = {}
        seen = {s: 0.0}
        heap = [(0.0, 0, s, s)]
        counter = 1
        while heap:
            d, _, p, v = heapq.heappop(heap)
            if v in dist:
                continue
            sigma[v] = sigma.get(v, 0.0) + (sigma[p] if p != v else 0.0)
            stack.append(v)
            dist[v] = d
            for k in range(ptr[v], ptr[v + 1]):
                w = idx_list[k]
                vw = d + length[k]
                if w not in dist and (w not in seen or vw < seen[w]):
                    seen[w] = vw
                    heapq.heappush(heap, (vw, counter, v, w))
                    counter += 1
                    sigma[w] = 0.0
                    pred[w] = [v]
                elif vw == seen.get(w):
                    sigma[w] = sigma.get(w, 0.0) + sigma[v]
                    pred.setdefault(w, []).append(v)
        delta = dict.fromkeys(stack, 0.0)
        while stack:
            w = stack.pop()
            coeff = (1.0 + delta[w]) / sigma[w]
            for v in pred.get(w, ()):
                delta[v] += sigma[v] * coeff
            if w != s:
                bc[w] += delta[w]
    if n > 2:
        bc = bc / ((n - 1) * (n - 2))
    return bc


def ownership_centrality(edges: pd.DataFrame, nodes=None) -> pd.DataFrame:
    """Centrality of towns in a directed, weighted network of control.

    Parameters
    ----------
    edges : DataFrame
        Columns ``source`` (headquarters town), ``target`` (controlled town), ``weight``
        (employees or number of firms, > 0). Rows with the same pair are summed; self-loops
        (control inside one town) are left out of the intermunicipal network.
    nodes : iterable, optional
        Towns to report; isolated towns are kept with zero degrees, the PageRank of an
        isolated node and zero HITS and betweenness scores. Default: the towns in ``edges``.

    Returns
    -------
    DataFrame
        One row per town (index ``town_id``): ``in_degree``, ``out_degree`` (distinct
        partners), ``in_strength``, ``out_strength`` (weight sums), ``pagerank`` (weighted,
        damping 0.85, dangling mass spread uniformly, sums to 1), ``hub`` and ``authority``
        (HITS on the weight matrix, power iteration from a uniform start, each summing to 1),
        ``betweenness`` (directed, distance = 1/weight, normalised by ``(n-1)(n-2)``).
        These follow networkx 3 (``pagerank``, ``hits``, ``betweenness_centrality`` with
        ``weight`` set to the distance).
    """
    need = {"source", "target", "weight"}
    if not need <= set(edges.columns):
        raise ValueError(f"edges must have columns {sorted(need)}; found {list(edges.columns)}")
    e = edges[["source", "target", "weight"]].copy()
    e["source"] = e["source"].astype(str)
    e["target"] = e["target"].astype(str)
    w = pd.to_numeric(e["weight"], errors="coerce")
    if w.isna().any() or (w <= 0).any():
        raise ValueError("edge weights must be positive numbers")
    e["weight"] = w.astype(float)
    e = e[e["source"] != e["target"]]
    e = e.groupby(["source", "target"], sort=True, as_index=False)["weight"].sum()
    names = pd.Index(sorted(set(e["source"]) | set(e["target"]) | {str(x) for x in (nodes if nodes is not None else [])}), name="town_id")
    n = len(names)
    cols = ["in_degree", "out_degree", "in_strength", "out_strength", "pagerank", "hub", "authority", "betweenness"]
    if n == 0:
        return pd.DataFrame(columns=cols, index=names, dtype=float)
    src = names.get_indexer(e["source"])
    dst = names.get_indexer(e["target"])
    W = sparse.csr_matrix((e["weight"].to_numpy(), (src, dst)), shape=(n, n))
    W.sort_indices()
    B = (W > 0).astype(float)
    hub, auth = _hits(W)
    out = pd.DataFrame(
        {
            "in_degree": np.asarray(B.sum(axis=0)).ravel(),
            "out_degree": np.asarray(B.sum(axis=1)).ravel(),
            "in_strength": np.asarray(W.sum(axis=0)).ravel(),
            "out_strength": np.asarray(W.sum(axis=1)).ravel(),
            "pagerank": _pagerank(W),
            "hub": hub,
            "authority": auth,
            "betweenness": _betweenness(W),
        },
        index=names,
    )
    if nodes is not None:
        out = out.reindex(pd.Index([str(x) for x in nodes], name="town_id"))
    return out
