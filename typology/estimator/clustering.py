"""Partitions of towns in model space: k-means, Ward + k-means consolidation, Gaussian mixtures.

Every method returns a :class:`Partition` with the labels of the fitted rows, the centres, a
``predict`` that reproduces the labels exactly on the fitted rows, posterior probabilities and
the distance of a point to a type's centre (Euclidean for the k-means methods, Mahalanobis for
Gaussian mixtures), so that scoring new towns uses the same geometry as the fit.

* ``kmeans``: every restart runs Lloyd's algorithm (the same iterations as scikit-learn's
  ``KMeans`` with ``algorithm="lloyd"`` from the same start) and then Hartigan & Wong's (1979)
  single-town transfers until no transfer lowers the within-type sum of squares ``W_k`` (the
  criterion of R's default ``kmeans``; a partition stable under transfers is a fixed point of
  Lloyd's algorithm, not conversely). The k are fitted in increasing order and the restarts
  alternate two kinds of start: greedy k-means++ (Arthur & Vassilvitskii, 2007), and the best
  partition at ``k - 1`` grown by one centre drawn with probability proportional to the squared
  distance to its nearest centre (the incremental start of global k-means, Likas, Vlassis &
  Verbeek 2003, with k-means++ sampling; ``k = 2`` grows the overall mean). The restart with
  the smallest ``W_k`` is kept (ties: the earliest). With ``refine="best"`` (the resamples of
  :mod:`typology.estimator.selection`) only the best restart after Lloyd's algorithm is refined by the
  transfers. The restarts run together, vectorized, without scikit-learn's per-call overhead,
  which dominates at a few hundred towns. How many restarts find the best partition is
  measured in ``docs/typology.md`` ("Restarts"). With a ``pilot`` (the evidence for k on more
  than 2,000 rows) the restarts run on a subsample and the best is refined on all rows
  (:func:`_kmeans_pilot`; ``docs/typology.md``, "At scale").
* ``ward_kmeans``: Ward's hierarchical clustering cut at k, its type means as the start of one
  k-means run (the "consolidation" of Lebart, Morineau & Piron, 1995); deterministic up to
  :data:`WARD_EXACT_MAX` towns, above which Ward runs on weighted micro-clusters
  (:func:`_ward_cuts`).

Row weights (``weights``, the multiplicities of the unique rows of a bootstrap sample) give
the same Lloyd iterations, k-means++ draws and ``W_k`` as the rows repeated, at the cost of the
unique rows (about 0.632 n); every function works on blocks of at most :data:`BLOCK`
distances, so memory does not grow with the number of restarts.
* ``gmm``: Gaussian mixture fitted by EM (``covariance_type`` full by default), restart with
  the largest lower bound kept; scikit-learn's ``GaussianMixture`` with ``n_init=1`` per seed,
  all restarts of all k run together (:mod:`typology.estimator.mixture`).

Posteriors of the k-means methods follow the classification-likelihood reading of k-means
(Celeux & Govaert, 1992): a mixture of spherical Gaussians with equal proportions and the
pooled within-type variance ``sigma^2 = W / (n p)``, so ``argmax`` posterior = nearest centre.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.special import softmax
from sklearn.mixture import GaussianMixture

from .mixture import fit_mixtures

__all__ = ["METHODS", "Partition", "cluster", "cluster_all_k", "grow_starts", "hartigan", "kmeans_plus_plus",
           "lloyd", "within_ss"]

METHODS = ("kmeans", "ward_kmeans", "gmm")


def _sq_dist(Z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    d = (Z * Z).sum(axis=1)[:, None] - 2.0 * Z @ centers.T + (centers * centers).sum(axis=1)[None, :]
    return np.maximum(d, 0.0)


def within_ss(Z: np.ndarray, labels: np.ndarray, k: int, weights: np.ndarray | None = None) -> float:
    """Within-type sum of squared Euclidean distances to the type means, ``W_k`` (rows counted
    ``weights`` times)."""
    w = np.ones(len(Z)) if weights is None else np.asarray(weights, dtype=float)
    counts = np.bincount(labels, weights=w, minlength=k)
    sums = np.zeros((k, Z.shape[1]))
    np.add.at(sums, labels, Z * w[:, None])
    means = sums / np.where(counts > 0, counts, 1.0)[:, None]
    return float((((Z - means[labels]) ** 2).sum(axis=1) * w).sum())


@dataclass(frozen=True)
class Partition:
    """A fitted partition into ``k`` types (labels ``0..k-1``) in model space."""

    method: str
    k: int
    labels: np.ndarray
    centers: np.ndarray
    within: float
    sigma2: float
    mixture: GaussianMixture | None = None

    def predict(self, Z: np.ndarray) -> np.ndarray:
        if self.mixture is not None:
            return self.mixture.predict(Z)
        return _sq_dist(Z, self.centers).argmin(axis=1)

    def proba(self, Z: np.ndarray) -> np.ndarray:
        if self.mixture is not None:
            return self.mixture.predict_proba(Z)
        return softmax(-_sq_dist(Z, self.centers) / (2.0 * self.sigma2), axis=1)

    def distance(self, Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Distance of each row of ``Z`` to the centre of its type ``labels`` (see module doc)."""
        if self.mixture is None:
            return np.sqrt(((Z - self.centers[labels]) ** 2).sum(axis=1))
        out = np.empty(len(Z))
        prec = self.mixture.precisions_cholesky_
        ctype = self.mixture.covariance_type
        for j in range(self.k):  # loop over types (k <= a few dozen), vectorized over towns
            rows = labels == j
            if not rows.any():
                continue
            diff = Z[rows] - self.mixture.means_[j]
            if ctype == "full":
                y = diff @ prec[j]
            elif ctype == "tied":
                y = diff @ prec
            else:  # diag, spherical: per-component precisions broadcast over the features
                y = diff * prec[j]
            out[rows] = np.sqrt((y * y).sum(axis=1))
        return out

    def bic(self, Z: np.ndarray) -> float:
        return float(self.mixture.bic(Z)) if self.mixture is not None else float("nan")

    def degenerate(self, n: int) -> str:
        """Why a Gaussian mixture fitted on ``n`` rows is degenerate ("" when it is not, and for
        the k-means methods).

        A component is degenerate when its covariance without the ``reg_covar`` added to its
        diagonal has a direction of variance at most ``reg_covar`` (its likelihood there is set
        by the regularization, not by the data: a component collapsed onto a subspace), or when
        it holds fewer towns (posterior weights summed) than a nonsingular covariance needs
        (``p + 1`` for a full covariance, 2 otherwise). Such a mixture has a finite BIC only
        through ``reg_covar``; mclust returns NA for it (``mclustBIC``, singular covariance).
        """
        gm = self.mixture
        if gm is None:
            return ""
        p, reg = self.centers.shape[1], float(gm.reg_covar)
        cov = np.asarray(gm.covariances_, dtype=float)
        eye = np.eye(p)
        if gm.covariance_type == "full":
            full = cov
        elif gm.covariance_type == "tied":
            full = np.broadcast_to(cov, (self.k, p, p))
        elif gm.covariance_type == "diag":
            full = cov[:, :, None] * eye
        else:  # spherical
            full = cov[:, None, None] * eye
        smallest = np.linalg.eigvalsh(full - reg * eye).min(axis=1)
        size = gm.weights_ * n
        need = p + 1 if gm.covariance_type == "full" else 2
        bad = (smallest <= reg) | (size < need)
        if not bad.any():
            return ""
        j = int(np.flatnonzero(bad)[np.argmin(smallest[bad])])
        return (f"{int(bad.sum())} of {self.k} components singular (e.g. one of {size[j]:.1f} towns whose variance "
                f"without reg_covar is {max(smallest[j], 0.0):.2g} <= {reg:g} in some direction)")


def _finish(method: str, Z: np.ndarray, k: int, centers: np.ndarray, mixture=None,
            weights: np.ndarray | None = None) -> Partition:
    p = Partition(method, k, np.zeros(len(Z), dtype=np.int64), centers, 0.0, 1.0, mixture)
    labels = p.predict(Z).astype(np.int64)
    w = within_ss(Z, labels, k, weights)
    n = len(Z) if weights is None else float(np.sum(weights))
    sigma2 = max(w / (n * Z.shape[1]), 1e-12)
    return Partition(method, k, labels, centers, w, sigma2, mixture)


#: elements of one block of squared distances ``(restarts, k, towns)`` (32 MiB of doubles): larger
#: batches of restarts are processed block by block, so memory stays bounded at any number of towns
BLOCK = 1 << 22


def _unit_weights(Z: np.ndarray, weights) -> np.ndarray:
    """Row multiplicities as floats (ones when ``weights`` is None)."""
    if weights is None:
        return np.ones(len(Z))
    w = np.asarray(weights, dtype=float)
    if w.shape != (len(Z),) or not (w > 0).all():
        raise ValueError(f"weights must be {len(Z)} positive row multiplicities, found shape {w.shape}")
    return w


def _blocks(R: int, k: int, n: int):
    """Slices of the ``R`` restarts such that a block's ``(a, k, n)`` array holds at most :data:`BLOCK` elements."""
    step = max(1, BLOCK // max(k * n, 1))
    return [slice(s, min(R, s + step)) for s in range(0, R, step)]


def _nearest(Zt: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre of every town for ``a`` sets of centres ``C`` ``(a, k, p)``: labels ``(a, n)`` and
    ``|c|^2 - 2 z.c`` of the nearest centre (add ``|z|^2`` for the squared distance).

    The argmin over the k centres is a loop over k on contiguous ``(a, n)`` slices (the first of
    equal values wins, as ``argmin``), faster than ``argmin`` along a short last axis.
    """
    G = np.matmul(-2.0 * C, Zt)  # (a, k, n); the factor -2 is exact in floating point
    G += (C * C).sum(axis=2)[:, :, None]
    return _argmin_k(G)


def _sums(lab: np.ndarray, k: int, Zw: np.ndarray) -> np.ndarray:
    """``S[a, j] = sum_{i: lab[a, i] = j} Zw[i]`` ``(a, k, q)`` (one ``bincount`` per column of ``Zw``)."""
    a, q = len(lab), Zw.shape[1]
    flat = (lab + (np.arange(a) * k)[:, None]).ravel()
    S = np.empty((a * k, q))
    for d in range(q):  # loop over features, vectorized over towns and restarts
        S[:, d] = np.bincount(flat, weights=np.tile(Zw[:, d], a), minlength=a * k)
    return S.reshape(a, k, q)


def lloyd(Z: np.ndarray, C: np.ndarray, max_iter: int = 300, tol: float = 1e-4,
          weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd iterations for ``R`` restarts at once from centres ``C`` ``(R, k, p)``.

    A restart stops when its centres move by at most ``tol`` times the mean feature variance
    (squared shift, scikit-learn's convention); a type that loses all its towns keeps its
    centre. ``weights``: row multiplicities (e.g. of the unique rows of a bootstrap sample);
    every iteration, the variance of the threshold and ``W_k`` equal those of the data with
    each row repeated ``weights`` times (exactly in exact arithmetic; tested). Returns the
    centres and each restart's within-type sum of squares. Restarts run in blocks of
    :data:`BLOCK` distances.
    """
    C = np.array(C, dtype=float, copy=True)
    R, k, p = C.shape
    w = _unit_weights(Z, weights)
    mean = (w @ Z) / w.sum()
    threshold = tol * ((w @ (Z - mean) ** 2) / w.sum()).mean()
    Zt = np.ascontiguousarray(Z.T)
    Zw = np.column_stack([Z * w[:, None], w])
    zz = (Z * Z).sum(axis=1)
    within = np.empty(R)
    for blk in _blocks(R, k, len(Z)):
        active = np.arange(blk.start, blk.stop)
        for _ in range(max_iter):
            if not active.size:
                break
            Ca = C[active]
            lab, _ = _nearest(Zt, Ca)
            S = _sums(lab, k, Zw)
            counts = S[:, :, p:]
            new = np.where(counts > 0, S[:, :, :p] / np.where(counts > 0, counts, 1.0), Ca)
            shift = ((new - Ca) ** 2).sum(axis=(1, 2))
            C[active] = new
            active = active[shift > threshold]
        _, best = _nearest(Zt, C[blk])
        within[blk] = (np.maximum(best + zz, 0.0) * w).sum(axis=1)
    return C, within


def _argmin_k(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and value of the minimum over axis 1 of ``G`` ``(a, k, n)`` (the first of equal values,
    as ``argmin``): the minimum, then a loop over the k types from the last (k <= a few dozen)."""
    best = G.min(axis=1)
    lab = np.full(best.shape, G.shape[1] - 1, dtype=np.int64)
    for j in range(G.shape[1] - 2, -1, -1):
        np.copyto(lab, j, where=G[:, j] == best)
    return lab, best


def _partition_state(Z, Zt, zz, w, Zw, lab, k, C):
    """Weighted counts ``(a, k)``, type means ``(a, k, p)`` (an empty type keeps ``C``), squared
    distances ``(a, k, n)`` and ``W_k`` ``(a,)`` of the labelings ``lab`` ``(a, n)``."""
    p = Z.shape[1]
    S = _sums(lab, k, Zw)
    cnt = S[:, :, p]
    means = np.where(cnt[:, :, None] > 0, S[:, :, :p] / np.where(cnt > 0, cnt, 1.0)[:, :, None], C)
    D = np.matmul(-2.0 * means, Zt)
    D += zz[None, None, :]
    D += (means * means).sum(axis=2)[:, :, None]
    np.maximum(D, 0.0, out=D)
    W = (np.take_along_axis(D, lab[:, None, :], axis=1)[:, 0, :] * w).sum(axis=1)
    return cnt, means, D, W


def hartigan(Z: np.ndarray, C: np.ndarray, max_moves: int | None = None,
             weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Transfers of towns between types (Hartigan & Wong 1979) for ``R`` partitions at once, from centres ``C``.

    The towns are labelled by their nearest centre. Then, in every pass and for every restart,
    the change of ``W_k`` of moving town ``i`` (weight ``w_i``, its multiplicity) from its type
    ``a`` to type ``b`` is exact:
    ``w_i N_b / (N_b + w_i) |x - c_b|^2 - w_i N_a / (N_a - w_i) |x - c_a|^2`` (``N``: the
    weighted sizes; a type keeps some town). Every town whose best transfer lowers ``W_k`` by more
    than ``1e-12 W_k`` moves to its best type at once when that lowers ``W_k`` (recomputed
    exactly from the new labels, no type emptied); otherwise the single best transfer is made.
    This repeats until no transfer lowers ``W_k``: the result is stable under single-town
    transfers (Hartigan's criterion, the fixed points of R's ``kmeans``), and a partition of
    unique rows stable under the moves of whole rows is also stable under the moves of single
    copies (the change of moving ``m`` of ``w_i`` copies is concave in ``m``). ``max_moves``
    bounds the passes (default ``50 n``). Returns the type means of the final partitions and
    their ``W_k``.
    """
    C = np.array(C, dtype=float, copy=True)
    R, k, _ = C.shape
    n = len(Z)
    w = _unit_weights(Z, weights)
    zz = (Z * Z).sum(axis=1)
    Zt = np.ascontiguousarray(Z.T)
    Zw = np.column_stack([Z * w[:, None], w])
    within = np.empty(R)
    for blk in _blocks(R, k, n):
        lab, _ = _nearest(Zt, C[blk])
        cnt, means, D, W = _partition_state(Z, Zt, zz, w, Zw, lab, k, C[blk])
        active = np.arange(len(lab))
        for _ in range(50 * n if max_moves is None else max_moves):
            if not active.size:
                break
            Da, la, na = D[active], lab[active], cnt[active]
            own_n = np.take_along_axis(na, la, axis=1)
            own_d = np.take_along_axis(Da, la[:, None, :], axis=1)[:, 0, :]
            remove = np.where(own_n > w, own_d * w * own_n / np.where(own_n > w, own_n - w, 1.0), -np.inf)
            delta = Da * (w[None, None, :] * (na[:, :, None] / (na[:, :, None] + w[None, None, :])))
            delta -= remove[:, None, :]
            np.put_along_axis(delta, la[:, None, :], np.inf, axis=1)
            target, gain = _argmin_k(delta)
            movers = gain < -1e-12 * W[active][:, None]
            go = movers.any(axis=1)
            active, target, gain, movers = active[go], target[go], gain[go], movers[go]
            if not active.size:
                break
            batch = np.where(movers, target, lab[active])
            c2, m2, D2, W2 = _partition_state(Z, Zt, zz, w, Zw, batch, k, means[active])
            ok = (W2 < W[active]) & (c2 > 0).all(axis=1)
            single = lab[active].copy()
            i = gain.argmin(axis=1)
            rows = np.arange(len(active))
            single[rows, i] = target[rows, i]
            single = np.where(ok[:, None], batch, single)
            if not ok.all():
                redo = ~ok
                c2[redo], m2[redo], D2[redo], W2[redo] = _partition_state(Z, Zt, zz, w, Zw, single[redo], k,
                                                                         means[active[redo]])
            lab[active], cnt[active], means[active], D[active], W[active] = single, c2, m2, D2, W2
        C[blk], within[blk] = means, W
    return C, within


def kmeans_plus_plus(Z: np.ndarray, k: int, rngs: Sequence[np.random.Generator],
                     weights: np.ndarray | None = None) -> np.ndarray:
    """Greedy k-means++ starts for ``len(rngs)`` restarts at once, ``(R, k, p)``.

    Arthur & Vassilvitskii (2007) seeding with ``2 + floor(ln k)`` candidate centres per step,
    the one that most reduces the potential kept (the variant scikit-learn uses). With
    ``weights`` (row multiplicities), a row is drawn with probability proportional to its weight
    times its squared distance, and the first centre is the row of copy ``floor(u N)`` of the
    ``N = sum(weights)`` copies: the same draws as on the rows repeated ``weights`` times in
    order (exactly in exact arithmetic).
    """
    R, (n, p) = len(rngs), Z.shape
    trials = 2 + int(np.log(k))
    u0 = np.array([g.random() for g in rngs])
    U = np.stack([g.random((max(k - 1, 1), trials)) for g in rngs])
    w = _unit_weights(Z, weights)
    cumw = np.cumsum(w)
    first = np.minimum(np.searchsorted(cumw, np.floor(u0 * cumw[-1]), side="right"), n - 1)
    zz = (Z * Z).sum(axis=1)
    Zt = np.ascontiguousarray(Z.T)
    C = np.empty((R, k, p))
    C[:, 0] = Z[first]
    closest = np.maximum(zz[None, :] - 2.0 * C[:, 0] @ Zt + (C[:, 0] ** 2).sum(axis=1)[:, None], 0.0)
    step = max(1, BLOCK // (trials * n))
    for j in range(1, k):
        cum = np.cumsum(closest * w, axis=1)
        targets = U[:, j - 1, :] * cum[:, -1:]
        cand = np.minimum(np.stack([np.searchsorted(cum[r], targets[r], side="right") for r in range(R)]), n - 1)
        for s in range(0, R, step):  # blocks of restarts: (block, trials, n) distances
            rows = np.arange(s, min(R, s + step))
            Zc = Z[cand[rows]]
            d = np.matmul(Zc, Zt)
            d *= -2.0
            d += zz[None, None, :]
            d += (Zc * Zc).sum(axis=2)[:, :, None]
            np.maximum(d, 0.0, out=d)
            reduced = np.minimum(closest[rows][:, None, :], d)
            best = (reduced @ w).argmin(axis=1)
            at = np.arange(len(rows))
            C[rows, j] = Zc[at, best]
            closest[rows] = reduced[at, best]
    return C


def grow_starts(Z: np.ndarray, base: np.ndarray, rngs: Sequence[np.random.Generator],
                weights: np.ndarray | None = None) -> np.ndarray:
    """Starts ``(R, m + 1, p)``: the centres ``base`` ``(m, p)`` plus one town drawn with probability
    proportional to its weight times its squared distance to the nearest centre of ``base`` (one
    draw per generator)."""
    _, best = _nearest(np.ascontiguousarray(Z.T), base[None])
    d = np.maximum(best[0] + (Z * Z).sum(axis=1), 0.0) * _unit_weights(Z, weights)
    cum = np.cumsum(d)
    u = np.array([g.random() for g in rngs]) * cum[-1]
    pick = np.minimum(np.searchsorted(cum, u, side="right"), len(Z) - 1)
    return np.concatenate([np.broadcast_to(base, (len(rngs),) + base.shape), Z[pick][:, None, :]], axis=1)


#: grown starts on all rows besides the pilot's best partition (:func:`_kmeans_pilot`)
PILOT_GROWN = 4


def _kmeans_pilot(Z: np.ndarray, ks: Sequence[int], seeds: Callable[[int], Sequence[int]], refine: str,
                  weights: np.ndarray | None, pilot: np.ndarray) -> dict[int, Partition]:
    """k-means whose restarts run on the rows ``pilot`` (Bradley & Fayyad 1998, refinement of
    starting points on a subsample), then on all rows from ``1 + PILOT_GROWN`` starts at each k: the
    best pilot partition and :data:`PILOT_GROWN` grown starts (the best partition of all rows at
    k - 1 plus one town, drawn with the seeds of the grown restarts ``1, 3, 5, 7``); Lloyd's
    algorithm, then the transfers (``refine`` as in :func:`_kmeans_all`; on the pilot the best
    restart after Lloyd's algorithm is refined)."""
    small = _kmeans_all(Z[pilot], range(2, max(ks) + 1), seeds, "best")
    w = _unit_weights(Z, weights)
    best = ((w @ Z) / w.sum())[None]
    out = {}
    for k in range(2, max(ks) + 1):
        rngs = [np.random.default_rng(int(s)) for s in list(seeds(k))[1:2 * PILOT_GROWN:2]]
        starts = [small[k].centers[None]] + ([grow_starts(Z, best, rngs, weights)] if rngs else [])
        best = _polish(Z, starts, refine, weights)
        if k in ks:
            out[k] = _finish("kmeans", Z, k, best, weights=weights)
    return out


def _polish(Z: np.ndarray, starts: list, refine: str, weights: np.ndarray | None) -> np.ndarray:
    """Lloyd's algorithm from every start, then the transfers (on the restart with the smallest
    ``W_k`` only when ``refine == "best"``); the centres of the best partition."""
    C, within = lloyd(Z, np.concatenate(starts), weights=weights)
    if refine == "best":
        C = C[[int(np.argmin(within))]]
    C, within = hartigan(Z, C, weights=weights)
    return C[int(np.argmin(within))]


def _kmeans_all(Z: np.ndarray, ks: Sequence[int], seeds: Callable[[int], Sequence[int]],
                refine: str = "all", warm: dict | None = None, weights: np.ndarray | None = None,
                pilot: np.ndarray | None = None) -> dict[int, Partition]:
    """k-means for every k up to ``max(ks)`` in increasing order (see the module docstring).

    ``refine="best"`` applies the transfers to the restart with the smallest ``W_k`` after Lloyd's
    algorithm only (ties: the earliest). ``warm`` (k -> Partition): its centres are one more
    restart at k, the first. ``weights``: row multiplicities. ``pilot`` (row indices): the
    restarts run on the rows ``pilot`` only (unweighted), and the best pilot partition at each k
    is the start of Lloyd's algorithm and the transfers on all rows (the refinement of starting
    points on a subsample, Bradley & Fayyad 1998; see ``docs/typology.md``, "At scale").
    """
    if pilot is not None:
        return _kmeans_pilot(Z, ks, seeds, refine, weights, pilot)
    w = _unit_weights(Z, weights)
    best = ((w @ Z) / w.sum())[None]
    out = {}
    for k in range(2, max(ks) + 1):
        rngs = [np.random.default_rng(int(s)) for s in seeds(k)]
        fresh, grown = rngs[0::2], rngs[1::2]  # restarts 0, 2, 4, ...: k-means++; 1, 3, 5, ...: grown
        starts = []
        if warm and k in warm:
            starts.append(np.asarray(warm[k].centers, dtype=float)[None])
        if fresh:
            starts.append(kmeans_plus_plus(Z, k, fresh, weights))
        if grown:
            starts.append(grow_starts(Z, best, grown, weights))
        best = _polish(Z, starts, refine, weights)
        if k in ks:
            out[k] = _finish("kmeans", Z, k, best, weights=weights)
    return out


def _gmm(Z: np.ndarray, k: int, seeds: Sequence[int], covariance_type: str, warm: Partition | None = None) -> Partition:
    """Gaussian mixture at ``k``: one EM restart per seed (``GaussianMixture(random_state=seed)``'s
    k-means start) and, given ``warm`` (a partition at ``k`` with its mixture), one more from its
    parameters; the largest lower bound is kept (ties: the earliest)."""
    return _gmm_all(Z, [k], lambda _k: seeds, covariance_type, None if warm is None else {k: warm})[k]


def _gmm_all(Z: np.ndarray, ks: Sequence[int], seeds: Callable[[int], Sequence[int]], covariance_type: str,
             warm: dict | None = None) -> dict[int, Partition]:
    """:func:`_gmm` at every k of ``ks``, all restarts of all k fitted together (:mod:`.mixture`)."""
    starts = {k: p.mixture for k, p in (warm or {}).items() if k in ks and p.mixture is not None}
    fits = fit_mixtures(Z, ks, seeds, covariance_type, starts)
    return {k: _finish("gmm", Z, k, fits[k].means_, fits[k]) for k in ks}


#: Ward's tree is exact (scipy's ``linkage``, O(n^2) time and memory) up to this many towns
#: (the sum of the row weights); above it, Ward runs on :data:`WARD_MICRO` micro-clusters
WARD_EXACT_MAX = 2500
#: micro-clusters of the Ward hybrid above :data:`WARD_EXACT_MAX` towns
WARD_MICRO = 200


def _ward_weighted(C: np.ndarray, w: np.ndarray, ks: Sequence[int]) -> dict[int, np.ndarray]:
    """Ward's agglomeration of weighted points (centres ``C`` with weights ``w``), cut at every k.

    The cost of merging groups ``i`` and ``j`` is the exact increase of the within-type sum of
    squares, ``w_i w_j / (w_i + w_j) |c_i - c_j|^2`` (Ward 1963); the cheapest merge is made
    first (ties: the first pair in row order). Returns k -> the group (``0..k-1``) of every point.
    """
    m = len(C)
    C, w = np.array(C, dtype=float), np.array(w, dtype=float)
    sq = ((C[:, None, :] - C[None]) ** 2).sum(axis=2)
    cost = w[:, None] * w[None, :] / (w[:, None] + w[None, :]) * sq
    np.fill_diagonal(cost, np.inf)
    group = np.arange(m)
    merged = np.zeros(m, dtype=bool)
    out = {}
    for alive in range(m, min(ks) - 1, -1):
        if alive in ks:
            out[alive] = np.unique(group, return_inverse=True)[1]
        if alive == min(ks):
            break
        i, j = divmod(int(cost.argmin()), m)
        i, j = min(i, j), max(i, j)
        C[i] = (w[i] * C[i] + w[j] * C[j]) / (w[i] + w[j])
        w[i] += w[j]
        group[group == j] = i
        merged[j] = True
        cost[j, :] = cost[:, j] = np.inf
        row = w[i] * w / (w[i] + w) * ((C - C[i]) ** 2).sum(axis=1)
        row[merged] = np.inf
        row[i] = np.inf
        cost[i, :] = cost[:, i] = row
    return out


def _ward_exact(Z: np.ndarray, ks: Sequence[int], w: np.ndarray) -> dict[int, np.ndarray]:
    """Cuts of scipy's Ward tree of the rows repeated ``w`` times (integer multiplicities), as labels of the rows."""
    rep = np.repeat(np.arange(len(Z)), w.astype(np.int64))
    tree = linkage(Z[rep], method="ward")
    first = np.searchsorted(rep, np.arange(len(Z)))
    return {k: fcluster(tree, t=k, criterion="maxclust")[first] - 1 for k in ks}


def _ward_cuts(Z: np.ndarray, ks: Sequence[int], seeds: Callable[[int], Sequence[int]] | None = None,
               weights: np.ndarray | None = None) -> dict[int, Partition]:
    """Ward's tree cut at every k, its type means the start of one k-means run (Lloyd).

    Up to :data:`WARD_EXACT_MAX` towns the tree is exact (scipy); above, it is the Ward tree of
    :data:`WARD_MICRO` weighted micro-clusters: the towns' k-means partition into that many
    micro-clusters (centres drawn by weighted sampling without replacement from the first seed
    of ``seeds(max(ks))``, then at most 10 Lloyd iterations), agglomerated with Ward's exact merge
    cost between weighted centres (the "consolidation" practice of Lebart, Morineau & Piron
    1995; the pre-clustering step of SPSS TwoStep, Chiu et al. 2001). Its measured agreement
    with exact Ward is in ``docs/typology.md`` ("Ward at scale").
    """
    w = _unit_weights(Z, weights)
    if w.sum() <= WARD_EXACT_MAX or len(Z) <= WARD_MICRO:
        cuts = _ward_exact(Z, ks, w)
    else:
        s = list(seeds(max(ks))) if seeds is not None else []
        rng = np.random.default_rng(int(s[0]) if s else 0)
        start = Z[rng.choice(len(Z), WARD_MICRO, replace=False, p=w / w.sum())]
        micro, _ = lloyd(Z, start[None], max_iter=10, weights=w)
        lab, _ = _nearest(np.ascontiguousarray(Z.T), micro)
        lab = lab[0]
        size = np.bincount(lab, weights=w, minlength=WARD_MICRO)
        used = np.flatnonzero(size > 0)
        sums = np.stack([np.bincount(lab, weights=w * Z[:, d], minlength=WARD_MICRO) for d in range(Z.shape[1])], 1)
        groups = _ward_weighted(sums[used] / size[used, None], size[used], ks)
        where = np.full(WARD_MICRO, -1)
        where[used] = np.arange(len(used))
        cuts = {k: g[where[lab]] for k, g in groups.items()}
    out = {}
    for k in ks:
        cut = cuts[k]
        m = int(cut.max()) + 1
        cnt = np.bincount(cut, weights=w, minlength=m)
        start = np.stack([np.bincount(cut, weights=w * Z[:, d], minlength=m) for d in range(Z.shape[1])], 1)
        start = start / cnt[:, None]
        if m < k:  # ties in the tree: fewer than k groups; split the widest by its farthest points
            far = np.argsort(-((Z - start[cut]) ** 2).sum(axis=1), kind="stable")[: k - m]
            start = np.vstack([start, Z[far]])
        C, _ = lloyd(Z, start[None], weights=weights)
        out[k] = _finish("ward_kmeans", Z, k, C[0], weights=weights)
    return out


def cluster_all_k(Z: np.ndarray, ks: Sequence[int], method: str, seeds: Callable[[int], Sequence[int]],
                  covariance_type: str = "full", refine: str = "all", warm: dict | None = None,
                  weights: np.ndarray | None = None, pilot: np.ndarray | None = None) -> dict[int, Partition]:
    """Partitions of ``Z`` for every ``k`` in ``ks``; ``seeds(k)`` gives the restarts' seeds.

    ``refine`` (k-means): Hartigan's transfers refine ``"all"`` restarts or the ``"best"`` one
    after Lloyd's algorithm. ``warm`` (k -> Partition of the full data): one more restart at k
    from its centres (k-means) or its mixture (gmm); the best ``W_k`` or lower bound of all
    restarts is kept; Ward's tree needs no start (the evidence for k does not use warm starts:
    ``docs/typology.md``, "At scale"). ``weights``: row multiplicities (k-means and Ward +
    k-means; the same partitions and ``W_k`` as the rows repeated). ``pilot``: rows on which the
    restarts of k-means run before the best is refined on all rows (:func:`_kmeans_all`).
    """
    if method == "ward_kmeans":
        return _ward_cuts(Z, ks, seeds, weights)
    if method == "kmeans":
        return _kmeans_all(Z, ks, seeds, refine, warm, weights, pilot)
    if method == "gmm":
        if weights is not None:
            raise ValueError("method='gmm' takes no row weights: pass the rows repeated")
        return _gmm_all(Z, ks, seeds, covariance_type, warm)
    raise ValueError(f"method must be one of {', '.join(METHODS)}; found {method!r}")


def cluster(Z: np.ndarray, k: int, method: str, seeds: Sequence[int], covariance_type: str = "full") -> Partition:
    """One partition of ``Z`` into ``k`` types (see :func:`cluster_all_k`)."""
    return cluster_all_k(Z, [k], method, lambda _k: seeds, covariance_type)[k]
