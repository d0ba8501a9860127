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
  measured in ``docs/typology.md`` ("Restarts").
* ``ward_kmeans``: Ward's hierarchical clustering cut at k, its type means as the start of one
  k-means run (the "consolidation" of Lebart, Morineau & Piron, 1995); deterministic.
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


def within_ss(Z: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Within-type sum of squared Euclidean distances to the type means, ``W_k``."""
    counts = np.bincount(labels, minlength=k).astype(float)
    sums = np.zeros((k, Z.shape[1]))
    np.add.at(sums, labels, Z)
    means = sums / np.maximum(counts, 1.0)[:, None]
    return float(((Z - means[labels]) ** 2).sum())


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


def _finish(method: str, Z: np.ndarray, k: int, centers: np.ndarray, mixture=None) -> Partition:
    p = Partition(method, k, np.zeros(len(Z), dtype=np.int64), centers, 0.0, 1.0, mixture)
    labels = p.predict(Z).astype(np.int64)
    w = within_ss(Z, labels, k)
    sigma2 = max(w / (len(Z) * Z.shape[1]), 1e-12)
    return Partition(method, k, labels, centers, w, sigma2, mixture)


def kmeans_plus_plus(Z: np.ndarray, k: int, rngs: Sequence[np.random.Generator]) -> np.ndarray:
    """Greedy k-means++ starts for ``len(rngs)`` restarts at once, ``(R, k, p)``.

    Arthur & Vassilvitskii (2007) seeding with ``2 + floor(ln k)`` candidate centres per step,
    the one that most reduces the potential kept (the variant scikit-learn uses).
    """
    R, (n, p) = len(rngs), Z.shape
    trials = 2 + int(np.log(k))
    u0 = np.array([g.random() for g in rngs])
    U = np.stack([g.random((max(k - 1, 1), trials)) for g in rngs])
    zz = (Z * Z).sum(axis=1)
    rows = np.arange(R)
    C = np.empty((R, k, p))
    C[:, 0] = Z[np.minimum((u0 * n).astype(np.int64), n - 1)]
    closest = np.maximum(zz[None, :] - 2.0 * C[:, 0] @ Z.T + (C[:, 0] ** 2).sum(axis=1)[:, None], 0.0)
    for j in range(1, k):
        cum = np.cumsum(closest, axis=1)
        targets = U[:, j - 1, :] * cum[:, -1:]
        cand = np.minimum((cum[:, None, :] <= targets[:, :, None]).sum(axis=2), n - 1)
        Zc = Z[cand]
        d = np.maximum(zz[None, None, :] - 2.0 * np.matmul(Zc, Z.T) + (Zc * Zc).sum(axis=2)[:, :, None], 0.0)
        reduced = np.minimum(closest[:, None, :], d)
        best = reduced.sum(axis=2).argmin(axis=1)
        C[:, j] = Zc[rows, best]
        closest = reduced[rows, best]
    return C


def lloyd(Z: np.ndarray, C: np.ndarray, max_iter: int = 300, tol: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd iterations for ``R`` restarts at once from centres ``C`` ``(R, k, p)``.

    A restart stops when its centres move by at most ``tol`` times the mean feature variance
    (squared shift, scikit-learn's convention); a type that loses all its towns keeps its
    centre. Returns the centres and each restart's within-type sum of squares.
    """
    C = np.array(C, dtype=float, copy=True)
    R, k, p = C.shape
    threshold = tol * Z.var(axis=0).mean()
    Zt = np.ascontiguousarray(Z.T)
    active = np.arange(R)
    for _ in range(max_iter):
        if not active.size:
            break
        a = len(active)
        Ca = C[active]
        G = np.matmul(Z, Ca.transpose(0, 2, 1))  # argmin_j |z - c_j|^2 = argmin_j |c_j|^2 - 2 z.c_j
        G *= -2.0
        G += (Ca * Ca).sum(axis=2)[:, None, :]
        flat = (G.argmin(axis=2) + (np.arange(a) * k)[:, None]).ravel()
        counts = np.bincount(flat, minlength=a * k).reshape(a, k)
        sums = np.empty((a * k, p))
        for d in range(p):  # loop over features, vectorized over towns and restarts
            sums[:, d] = np.bincount(flat, weights=np.tile(Zt[d], a), minlength=a * k)
        new = np.where(counts[:, :, None] > 0, sums.reshape(a, k, p) / np.maximum(counts, 1)[:, :, None], Ca)
        shift = ((new - Ca) ** 2).sum(axis=(1, 2))
        C[active] = new
        active = active[shift > threshold]
    within = np.stack([_sq_dist(Z, C[r]).min(axis=1).sum() for r in range(R)])
    return C, within


def _sq_dists(Z: np.ndarray, zz: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Squared distances of every row of ``Z`` to the centres ``C`` ``(R, k, p)``: ``(R, n, k)``."""
    D = np.matmul(Z, C.transpose(0, 2, 1))
    D *= -2.0
    D += zz[None, :, None]
    D += (C * C).sum(axis=2)[:, None, :]
    return np.maximum(D, 0.0, out=D)


def _type_means(Z: np.ndarray, labels: np.ndarray, k: int, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts ``(R, k)`` and means ``(R, k, p)`` of the types of ``R`` labelings (an empty type keeps ``C``)."""
    R, p = len(labels), Z.shape[1]
    flat = (labels + (np.arange(R) * k)[:, None]).ravel()
    counts = np.bincount(flat, minlength=R * k).reshape(R, k).astype(float)
    sums = np.empty((R * k, p))
    for d in range(p):  # loop over features, vectorized over towns and restarts
        sums[:, d] = np.bincount(flat, weights=np.tile(Z[:, d], R), minlength=R * k)
    means = np.where(counts[:, :, None] > 0, sums.reshape(R, k, p) / np.maximum(counts, 1.0)[:, :, None], C)
    return counts, means


def hartigan(Z: np.ndarray, C: np.ndarray, max_moves: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Single-town transfers (Hartigan & Wong 1979) for ``R`` partitions at once, from centres ``C``.

    The towns are labelled by their nearest centre; then, for every restart, the transfer of a
    town from its type ``a`` to a type ``b`` that lowers ``W_k`` the most is made, as long as
    one lowers it by more than ``1e-12 W_k``. The change of ``W_k`` is exact:
    ``n_b / (n_b + 1) |x - c_b|^2 - n_a / (n_a - 1) |x - c_a|^2`` (a type keeps at least one
    town). Returns the type means of the final partitions and their ``W_k``.
    """
    C = np.array(C, dtype=float, copy=True)
    R, k, _ = C.shape
    n = len(Z)
    zz = (Z * Z).sum(axis=1)
    lab = _sq_dists(Z, zz, C).argmin(axis=2)
    cnt, C = _type_means(Z, lab, k, C)
    D = _sq_dists(Z, zz, C)
    W = np.take_along_axis(D, lab[:, :, None], axis=2)[:, :, 0].sum(axis=1)
    active = np.arange(R)
    towns = np.arange(n)
    for _ in range(50 * n if max_moves is None else max_moves):  # one transfer per restart per pass
        if not active.size:
            break
        Da, la, na = D[active], lab[active], cnt[active]
        own_n = np.take_along_axis(na, la, axis=1)
        own_d = np.take_along_axis(Da, la[:, :, None], axis=2)[:, :, 0]
        remove = np.where(own_n > 1, own_d * own_n / np.maximum(own_n - 1.0, 1.0), -np.inf)
        delta = Da * (na / (na + 1.0))[:, None, :]
        delta -= remove[:, :, None]
        np.put_along_axis(delta, la[:, :, None], np.inf, axis=2)
        delta = delta.reshape(len(active), n * k)
        j = delta.argmin(axis=1)
        gain = delta[np.arange(len(active)), j]
        move = gain < -1e-12 * W[active]
        active, j, gain = active[move], j[move], gain[move]
        if not active.size:
            break
        i, b = np.divmod(j, k)
        a = lab[active, i]
        x = Z[i]
        n_a, n_b = cnt[active, a][:, None], cnt[active, b][:, None]
        C[active, a] = (C[active, a] * n_a - x) / (n_a - 1.0)
        C[active, b] = (C[active, b] * n_b + x) / (n_b + 1.0)
        cnt[active, a] -= 1.0
        cnt[active, b] += 1.0
        lab[active, i] = b
        W[active] += gain
        ab = np.stack([a, b], axis=1)
        D[active[:, None, None], towns[None, :, None], ab[:, None, :]] = _sq_dists(Z, zz, C[active[:, None], ab])
    _, C = _type_means(Z, lab, k, C)  # exact means and W_k of the final labels
    within = np.take_along_axis(_sq_dists(Z, zz, C), lab[:, :, None], axis=2)[:, :, 0].sum(axis=1)
    return C, within


def grow_starts(Z: np.ndarray, base: np.ndarray, rngs: Sequence[np.random.Generator]) -> np.ndarray:
    """Starts ``(R, m + 1, p)``: the centres ``base`` ``(m, p)`` plus one town drawn with probability
    proportional to its squared distance to the nearest centre of ``base`` (one draw per generator)."""
    d = _sq_dists(Z, (Z * Z).sum(axis=1), base[None])[0].min(axis=1)
    cum = np.cumsum(d)
    u = np.array([g.random() for g in rngs]) * cum[-1]
    pick = np.minimum(np.searchsorted(cum, u, side="right"), len(Z) - 1)
    return np.concatenate([np.broadcast_to(base, (len(rngs),) + base.shape), Z[pick][:, None, :]], axis=1)


def _kmeans_all(Z: np.ndarray, ks: Sequence[int], seeds: Callable[[int], Sequence[int]],
                refine: str = "all") -> dict[int, Partition]:
    """k-means for every k up to ``max(ks)`` in increasing order (see the module docstring);
    ``refine="best"`` applies the transfers to the restart with the smallest ``W_k`` after Lloyd's
    algorithm only (ties: the earliest)."""
    best = Z.mean(axis=0)[None]
    out = {}
    for k in range(2, max(ks) + 1):
        rngs = [np.random.default_rng(int(s)) for s in seeds(k)]
        fresh, grown = rngs[0::2], rngs[1::2]  # restarts 0, 2, 4, ...: k-means++; 1, 3, 5, ...: grown
        starts = [kmeans_plus_plus(Z, k, fresh)]
        if grown:
            starts.append(grow_starts(Z, best, grown))
        C, within = lloyd(Z, np.concatenate(starts))
        if refine == "best":
            C = C[[int(np.argmin(within))]]
        C, within = hartigan(Z, C)
        best = C[int(np.argmin(within))]
        if k in ks:
            out[k] = _finish("kmeans", Z, k, best)
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


def _ward_cuts(Z: np.ndarray, ks: Sequence[int]) -> dict[int, Partition]:
    tree = linkage(Z, method="ward")
    out = {}
    for k in ks:
        cut = fcluster(tree, t=k, criterion="maxclust") - 1
        m = int(cut.max()) + 1
        sums = np.zeros((m, Z.shape[1]))
        np.add.at(sums, cut, Z)
        start = sums / np.bincount(cut, minlength=m)[:, None]
        if m < k:  # ties in the tree: fewer than k groups; split the widest by its farthest points
            far = np.argsort(-((Z - start[cut]) ** 2).sum(axis=1), kind="stable")[: k - m]
            start = np.vstack([start, Z[far]])
        C, _ = lloyd(Z, start[None])
        out[k] = _finish("ward_kmeans", Z, k, C[0])
    return out


def cluster_all_k(Z: np.ndarray, ks: Sequence[int], method: str, seeds: Callable[[int], Sequence[int]],
                  covariance_type: str = "full", refine: str = "all", warm: dict | None = None) -> dict[int, Partition]:
    """Partitions of ``Z`` for every ``k`` in ``ks``; ``seeds(k)`` gives the restarts' seeds.

    ``refine`` (k-means): Hartigan's transfers refine ``"all"`` restarts or the ``"best"`` one
    after Lloyd's algorithm. ``warm`` (gmm): ``k -> Partition`` fitted on the full data, whose
    mixture starts one more restart at k.
    """
    if method == "ward_kmeans":
        return _ward_cuts(Z, ks)
    if method == "kmeans":
        return _kmeans_all(Z, ks, seeds, refine)
    if method == "gmm":
        return _gmm_all(Z, ks, seeds, covariance_type, warm)
    raise ValueError(f"method must be one of {', '.join(METHODS)}; found {method!r}")


def cluster(Z: np.ndarray, k: int, method: str, seeds: Sequence[int], covariance_type: str = "full") -> Partition:
    """One partition of ``Z`` into ``k`` types (see :func:`cluster_all_k`)."""
    return cluster_all_k(Z, [k], method, lambda _k: seeds, covariance_type)[k]
