"""Gaussian mixtures fitted by EM for many restarts and many k at once.

:func:`fit_mixtures` does what one scikit-learn ``GaussianMixture(n_components=k,
covariance_type=..., n_init=1, reg_covar=1e-4, random_state=seed).fit(X)`` per ``(k, seed)``
does, keeping the restart with the largest lower bound at every k, but runs all of them
together: the k-means starts of one k as one batch, and the EM iterations of every ``(k,
restart)`` as one set of array operations over all their components. scikit-learn spends most
of the time of a small fit in per-call overhead (validation, one Python loop per component, a
KMeans object per start); here a whole grid of fits costs a few dozen numpy calls per
iteration, and its arithmetic grows linearly in the number of towns.

Same algorithm, step for step (scikit-learn 1.9, ``sklearn/mixture/_gaussian_mixture.py``,
``sklearn/cluster/_kmeans.py``):

* start: the labels of ``KMeans(n_clusters=k, n_init=1, random_state=RandomState(seed))``:
  greedy k-means++ with ``2 + floor(ln k)`` candidates per centre drawn from the same
  ``RandomState`` stream, then Lloyd's algorithm on the column-centred data until the labels
  repeat or the squared centre shift is at most ``1e-4`` times the mean feature variance
  (max 300 iterations), an empty type taking the town farthest from its centre;
  responsibilities one-hot on those labels; first M-step with weights ``n_j / n``;
* EM: E-step ``log p(x) = logsumexp_j (log w_j + log N(x; mu_j, Sigma_j))``, lower bound
  ``mean_i log p(x_i)``; M-step ``n_j = sum_i r_ij + 10 eps``, ``mu_j = sum_i r_ij x_i / n_j``,
  ``Sigma_j = sum_i r_ij (x_i - mu_j)(x_i - mu_j)' / n_j + reg_covar I`` (tied, diag and
  spherical as scikit-learn), ``w_j = n_j / sum_j n_j``; a restart stops after the first
  iteration whose lower bound changes by less than ``tol = 1e-3`` (max 100 iterations) and
  keeps the parameters of that iteration's M-step;
* the restart with the largest lower bound is kept; lower bounds within ``1e-10`` of the largest
  are ties, won by the earliest restart (two restarts that reach the same optimum differ in the
  last bits, with their components in another order; scikit-learn's strict ``>`` lets rounding
  pick, so its winner may be the same mixture with permuted components).

A warm start (the mixture fitted on the full data, for a bootstrap sample or a half) enters
as one more restart: EM from its weights, means and precisions, as ``GaussianMixture``'s
``weights_init`` / ``means_init`` / ``precisions_init``. The result is a fitted
``sklearn.mixture.GaussianMixture`` (its parameters set, nothing refitted), so ``predict``,
``predict_proba``, ``bic`` and model files work as before. Agreement with scikit-learn from the
same seeds is tested in ``tests/test_typology/test_typology_mixture.py``.

References: Dempster, Laird & Rubin (1977), JRSS B 39, 1-38; McLachlan & Peel (2000), Finite
Mixture Models, ch. 2-3; Arthur & Vassilvitskii (2007), k-means++, SODA.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

__all__ = ["COVARIANCE_TYPES", "MAX_ITER", "REG_COVAR", "TOL", "fit_mixtures", "kmeans_labels"]

REG_COVAR, TOL, MAX_ITER = 1e-4, 1e-3, 100
#: lower bounds (mean log-likelihoods) closer than this are ties: the same optimum reached by two
#: restarts differs in the last bits, and the earliest restart is kept whatever the rounding
TIE = 1e-10
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
_EPS10 = 10.0 * np.finfo(float).eps
_LOG_2PI = np.log(2.0 * np.pi)
_SINGULAR = ("Fitting the mixture model failed because some components have ill-defined empirical covariance "
             "(for instance caused by singleton or collapsed samples). Try to decrease the number of components, "
             "increase reg_covar, or scale the input data.")


# ----------------------------------------------------------------------------- k-means start
def _kmeans_pp(X: np.ndarray, xx: np.ndarray, k: int, rss: Sequence[np.random.RandomState]) -> np.ndarray:
    """scikit-learn's greedy k-means++ (``_kmeans_plusplus``, unit weights) for every RandomState
    of ``rss`` at once: starts ``(R, k, p)``."""
    R, (n, p) = len(rss), X.shape
    trials = 2 + int(np.log(k))
    unit = np.ones(n) / n
    first = np.array([rs.choice(n, p=unit) for rs in rss])
    U = np.stack([rs.uniform(size=(max(k - 1, 1), trials)) for rs in rss])  # one stream, drawn in order
    rows = np.arange(R)
    C = np.empty((R, k, p))
    C[:, 0] = X[first]
    closest = np.maximum(-2.0 * (C[:, 0] @ X.T) + xx[first][:, None] + xx[None, :], 0.0)
    pot = closest.sum(axis=1)
    for j in range(1, k):
        cum = np.cumsum(closest, axis=1)
        targets = U[:, j - 1] * pot[:, None]
        cand = np.stack([np.searchsorted(cum[r], targets[r]) for r in range(R)])  # side="left", as sklearn
        np.minimum(cand, n - 1, out=cand)
        Xc = X[cand]  # (R, trials, p)
        d = -2.0 * np.matmul(Xc, X.T)
        d += xx[cand][:, :, None]
        d += xx[None, None, :]
        np.maximum(d, 0.0, out=d)
        np.minimum(closest[:, None, :], d, out=d)
        cpot = d.sum(axis=2)
        best = cpot.argmin(axis=1)
        pot = cpot[rows, best]
        closest = d[rows, best]
        C[:, j] = Xc[rows, best]
    return C


def _assign(X1: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Nearest centre (first of ties) of every town for ``R`` sets of centres: ``(R, n)``;
    ``X1`` is ``X`` with a column of ones (``|c|^2 - 2 x.c`` in one product)."""
    A = np.concatenate([-2.0 * C, (C * C).sum(axis=2)[:, :, None]], axis=2)
    return np.matmul(X1, A.transpose(0, 2, 1)).argmin(axis=2)


def _relocate(X: np.ndarray, C_old: np.ndarray, sums: np.ndarray, counts: np.ndarray, labels: np.ndarray) -> None:
    """scikit-learn's ``_relocate_empty_clusters_dense`` for one restart (in place): each empty
    type takes one of the towns farthest from their centres."""
    empty = np.flatnonzero(counts == 0)
    dist = ((X - C_old[labels]) ** 2).sum(axis=1)
    if dist.max() == 0:
        return
    far = np.argpartition(dist, -len(empty))[:-len(empty) - 1:-1]
    for e, f in zip(empty, far, strict=True):
        old = labels[f]
        sums[old] -= X[f]
        sums[e] = X[f]
        counts[e] = 1.0
        counts[old] -= 1.0


def _lloyd(X: np.ndarray, C: np.ndarray, tol: float, max_iter: int = 300) -> np.ndarray:
    """scikit-learn's ``_kmeans_single_lloyd`` for ``R`` restarts at once; returns the labels ``(R, n)``."""
    C = C.copy()
    R, k, p = C.shape
    n = len(X)
    labels = np.full((R, n), -1)
    old = labels.copy()
    active = np.arange(R)
    strict = np.zeros(R, dtype=bool)
    X1 = np.concatenate([X, np.ones((n, 1))], axis=1)
    Xt = np.tile(X.T, (1, R))  # feature d of the towns, once per restart
    for _ in range(max_iter):
        if not active.size:
            break
        a = len(active)
        lab = _assign(X1, C[active])
        flat = (lab + (np.arange(a) * k)[:, None]).ravel()
        counts = np.bincount(flat, minlength=a * k).reshape(a, k).astype(float)
        sums = np.empty((a * k, p))
        for d in range(p):  # loop over features, vectorized over towns and restarts
            sums[:, d] = np.bincount(flat, weights=Xt[d, : a * n], minlength=a * k)
        sums = sums.reshape(a, k, p)
        for i in np.flatnonzero((counts == 0).any(axis=1)):  # rare: an empty type
            _relocate(X, C[active[i]], sums[i], counts[i], lab[i])
        new = sums * (1.0 / np.where(counts > 0, counts, 1.0))[:, :, None]
        big = counts.argmax(axis=1)
        new = np.where(counts[:, :, None] > 0, new, new[np.arange(a), big][:, None, :])
        shift = ((new - C[active]) ** 2).sum(axis=(1, 2))
        C[active] = new
        labels[active] = lab
        same = (lab == old[active]).all(axis=1)
        strict[active[same]] = True
        old[active] = lab
        active = active[~same & (shift > tol)]
    loose = np.flatnonzero(~strict)
    if loose.size:  # final E-step so that the labels match the centres
        labels[loose] = _assign(X1, C[loose])
    return labels


def kmeans_labels(X: np.ndarray, k: int, seeds: Sequence[int]) -> np.ndarray:
    """Labels ``(len(seeds), n)`` of ``KMeans(n_clusters=k, n_init=1, random_state=RandomState(seed))``
    for every seed, computed together: the start of scikit-learn's ``GaussianMixture``."""
    tol = float(np.var(X, axis=0).mean()) * 1e-4
    Xc = X - X.mean(axis=0)
    xx = np.einsum("ij,ij->i", Xc, Xc)
    rss = [np.random.RandomState(int(s)) for s in seeds]
    return _lloyd(Xc, _kmeans_pp(Xc, xx, k, rss), tol)


# ----------------------------------------------------------------------------- EM over many models
class _Grid:
    """Components of ``M`` mixtures side by side: model ``m`` owns components ``start[m]:start[m+1]``."""

    def __init__(self, sizes: Sequence[int]):
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.start = np.r_[0, np.cumsum(self.sizes)]
        self.owner = np.repeat(np.arange(len(self.sizes)), self.sizes)

    def components(self, models: np.ndarray) -> np.ndarray:
        return np.concatenate([np.arange(self.start[m], self.start[m + 1]) for m in models])


def _pairs(X: np.ndarray) -> np.ndarray:
    """Products ``x_a x_b`` for ``a <= b`` of every row: ``(n, p (p + 1) / 2)``."""
    a, b = np.triu_indices(X.shape[1])
    return X[:, a] * X[:, b]


def _unpack(S: np.ndarray, p: int) -> np.ndarray:
    """Symmetric matrices ``(C, p, p)`` from their upper triangles ``(C, p (p + 1) / 2)``."""
    a, b = np.triu_indices(p)
    out = np.empty((len(S), p, p))
    out[:, a, b] = S
    out[:, b, a] = S
    return out


def _covariances(X, Q, resp, nk, means, starts, ctype: str, XtX):
    """M-step covariances of the components in ``resp``'s columns (``starts``: the models' first
    columns; ``Q``: the products ``x_a x_b``, ``a <= b``, of :func:`_pairs`)."""
    p = X.shape[1]
    if ctype == "full":  # sum_i r_ij (x_i - mu_j)(x_i - mu_j)' = S_j - (n_j + 10 eps) mu_j mu_j', S_j = sum_i r_ij x_i x_i'
        S = _unpack(resp.T @ Q, p)
        cov = S / nk[:, None, None]
        cov -= ((1.0 + _EPS10 / nk)[:, None, None] * means[:, :, None]) * means[:, None, :]
        # where the difference lost more than ~1e-13 of the smallest variance to cancellation
        # (a component collapsing onto a subspace), the centred sum as scikit-learn computes it
        second = np.trace(S, axis1=1, axis2=2) / nk
        smallest = np.diagonal(cov, axis1=1, axis2=2).min(axis=1)
        for j in np.flatnonzero(second * 1e3 * np.finfo(float).eps > np.maximum(smallest, 0.0)):  # rare
            diff = X - means[j]
            cov[j] = ((resp[:, j] * diff.T) @ diff) / nk[j]
        cov[:, np.arange(p), np.arange(p)] += REG_COVAR
        return cov
    if ctype == "tied":
        mm = nk[:, None, None] * means[:, :, None] * means[:, None, :]
        cov = XtX[None] - np.add.reduceat(mm, starts, axis=0)
        cov /= np.add.reduceat(nk, starts)[:, None, None]
        cov[:, np.arange(p), np.arange(p)] += REG_COVAR
        return cov
    diag = (resp.T @ (X * X)) / nk[:, None] - means ** 2 + REG_COVAR
    return diag if ctype == "diag" else diag.mean(axis=1)


def _precision_cholesky(cov: np.ndarray, ctype: str) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky factors of the precisions (scikit-learn's upper-triangular convention) and a mask
    of the matrices that are not positive definite (their factor is left as NaN)."""
    if ctype in ("full", "tied"):
        p = cov.shape[-1]
        bad = np.zeros(len(cov), dtype=bool)
        try:
            L = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            L = np.full_like(cov, np.nan)
            for i in range(len(cov)):  # rare: find which matrices fail
                try:
                    L[i] = np.linalg.cholesky(cov[i])
                except np.linalg.LinAlgError:
                    bad[i] = True
            L[bad] = np.eye(p)
        pc = np.linalg.solve(L, np.broadcast_to(np.eye(p), L.shape)).transpose(0, 2, 1)
        pc[bad] = np.nan
        return pc, bad
    bad = (cov <= 0.0) if ctype == "spherical" else (cov <= 0.0).any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 / np.sqrt(cov), bad


def _weighted_log_gauss(X, xx, QX1, means, pc, log_w, ctype: str) -> np.ndarray:
    """``log w_j + log N(x_i; mu_j, Sigma_j)`` ``(n, C)`` as scikit-learn's
    ``_estimate_weighted_log_prob``; full and tied factors are given per component, and
    ``QX1`` holds the products ``x_a x_b`` (``a <= b``), ``x`` and a column of ones."""
    n, p = X.shape
    C = len(means)
    if ctype in ("full", "tied"):  # |P'(x - mu)|^2 = x' L x - 2 x' L mu + mu' L mu with L = P P', one product
        L = np.matmul(pc, pc.transpose(0, 2, 1))
        a, b = np.triu_indices(p)
        lm = np.matmul(L, means[:, :, None])[:, :, 0]
        log_det = np.log(pc.reshape(C, -1)[:, :: p + 1]).sum(axis=1)
        const = -0.5 * (p * _LOG_2PI + (means * lm).sum(axis=1)) + log_det + log_w
        B = np.concatenate([-0.5 * np.where(a == b, 1.0, 2.0)[None, :] * L[:, a, b], lm, const[:, None]], axis=1)
        return QX1 @ B.T
    prec = pc ** 2
    if ctype == "diag":
        sq = (means ** 2 * prec).sum(axis=1) - 2.0 * (X @ (means * prec).T) + (X ** 2) @ prec.T
        log_det = np.log(pc).sum(axis=1)
    else:
        sq = (means ** 2).sum(axis=1) * prec - 2.0 * (X @ means.T * prec) + np.outer(xx, prec)
        log_det = p * np.log(pc)
    lp = -0.5 * (p * _LOG_2PI + sq) + log_det
    lp += log_w[None, :]
    return lp


def _em(X, grid: _Grid, weights, means, pc, ctype: str, models: np.ndarray):
    """EM from the given parameters for the models ``models`` (in place on the component arrays).

    Returns per model: lower bound, iterations, converged, lower-bound history, failed (a
    covariance not positive definite: scikit-learn raises for such a fit).
    """
    M = len(grid.sizes)
    p = X.shape[1]
    xx = np.einsum("ij,ij->i", X, X)
    Q = _pairs(X)
    QX1 = np.concatenate([Q, X, np.ones((len(X), 1))], axis=1) if ctype in ("full", "tied") else None
    XtX = X.T @ X if ctype == "tied" else None
    cov = np.zeros((len(weights), p, p)) if ctype in ("full", "tied") else np.zeros_like(pc)
    lower = np.full(M, -np.inf)
    n_iter = np.zeros(M, dtype=np.int64)
    converged = np.zeros(M, dtype=bool)
    failed = np.zeros(M, dtype=bool)
    history = np.full((MAX_ITER, M), np.nan)
    active = np.asarray(models)
    for it in range(1, MAX_ITER + 1):
        if not active.size:
            break
        comp = grid.components(active)
        sizes = grid.sizes[active]
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        own = np.repeat(np.arange(len(active)), sizes)
        # E-step
        lp = _weighted_log_gauss(X, xx, QX1, means[comp], pc[comp], np.log(weights[comp]), ctype)
        top = np.maximum.reduceat(lp, starts, axis=1)
        top[~np.isfinite(top)] = 0.0
        lp -= top[:, own]
        np.exp(lp, out=lp)
        total = np.add.reduceat(lp, starts, axis=1)
        lp /= total[:, own]  # responsibilities
        bound = (np.log(total) + top).mean(axis=0)
        # M-step
        nk = lp.sum(axis=0) + _EPS10
        mu = (lp.T @ X) / nk[:, None]
        c = _covariances(X, Q, lp, nk, mu, starts, ctype, XtX)
        w = nk / np.add.reduceat(nk, starts)[own]
        means[comp], weights[comp] = mu, w
        if ctype == "tied":
            f, bad = _precision_cholesky(c, ctype)
            cov[comp], pc[comp] = c[own], f[own]
        else:
            f, bad = _precision_cholesky(c, ctype)
            cov[comp], pc[comp] = c, f
            bad = np.logical_or.reduceat(bad, starts) if bad.any() else np.zeros(len(active), dtype=bool)
        change = bound - lower[active]
        lower[active] = bound
        n_iter[active] = it
        history[it - 1, active] = bound
        done = np.abs(change) < TOL
        converged[active[done]] = True
        failed[active[bad]] = True
        active = active[~done & ~bad]
    return lower, n_iter, converged, history, failed, cov


def _initial(X, grid: _Grid, labels: list[np.ndarray], ctype: str):
    """First M-step from one-hot responsibilities on the k-means labels (``_initialize``)."""
    n, p = X.shape
    C = int(grid.sizes.sum())
    resp = np.zeros((n, C))
    for m, lab in enumerate(labels):
        resp[np.arange(n), grid.start[m] + lab] = 1.0
    starts = grid.start[:-1]
    nk = resp.sum(axis=0) + _EPS10
    means = (resp.T @ X) / nk[:, None]
    XtX = X.T @ X if ctype == "tied" else None
    cov = _covariances(X, _pairs(X), resp, nk, means, starts, ctype, XtX)
    if ctype == "tied":
        cov = cov[grid.owner]
    pc, bad = _precision_cholesky(cov, ctype)
    return nk / n, means, pc, np.logical_or.reduceat(np.atleast_1d(bad), starts) if bad.size else bad


def _mixture(k, ctype, seed, weights, means, cov, pc, lower, n_iter, converged, history, p) -> GaussianMixture:
    """A fitted ``GaussianMixture`` holding the given parameters."""
    gm = GaussianMixture(n_components=k, covariance_type=ctype, n_init=1, reg_covar=REG_COVAR,
                         random_state=None if seed is None else int(seed))
    if ctype == "tied":
        cov, pc = cov[0], pc[0]
    elif ctype == "spherical":
        cov, pc = cov.copy(), pc.copy()
    gm._set_parameters((weights.copy(), means.copy(), cov.copy(), pc.copy()))
    gm.converged_ = bool(converged)
    gm.n_iter_ = int(n_iter)
    gm.lower_bound_ = float(lower)
    gm.lower_bounds_ = [float(v) for v in history[:n_iter]]
    gm.n_features_in_ = p
    return gm


def fit_mixtures(X: np.ndarray, ks: Sequence[int], seeds, covariance_type: str = "full",
                 warm: dict | None = None) -> dict[int, GaussianMixture]:
    """The best of the restarts of a Gaussian mixture at every k of ``ks`` (see the module docstring).

    Parameters
    ----------
    X : array (n, p)
    ks : the numbers of components
    seeds : callable ``k -> list of int``, one fresh restart per seed (a ``RandomState`` seed, as
        ``GaussianMixture(random_state=seed)``)
    covariance_type : {"full", "tied", "diag", "spherical"}
    warm : dict ``k -> GaussianMixture``, optional
        A fitted mixture at k whose parameters start one more restart (after the fresh ones).

    Returns
    -------
    dict ``k -> GaussianMixture``: the restart with the largest lower bound (ties, within
    :data:`TIE`: the earliest).
    """
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(f"covariance_type must be one of {', '.join(COVARIANCE_TYPES)}; found {covariance_type!r}")
    X = np.ascontiguousarray(X, dtype=float)
    n, p = X.shape
    ks = [int(k) for k in ks]
    if n < max(ks):
        raise ValueError(f"Expected n_samples >= n_components but got n_components = {max(ks)}, n_samples = {n}")
    warm = warm or {}
    owners, labels, sizes = [], [], []  # per model: (k, seed or None)
    for k in ks:
        sk = [int(s) for s in seeds(k)]
        if sk:
            labels.extend(kmeans_labels(X, k, sk))
        owners.extend((k, s) for s in sk)
        sizes.extend([k] * len(sk))
    fresh = len(owners)
    for k in ks:
        if k in warm:
            owners.append((k, None))
            sizes.append(k)
    # full: EM on centred columns (its products x_a x_b lose less to cancellation); the other
    # types use scikit-learn's own formulas on the data as given
    shift = X.mean(axis=0) if covariance_type == "full" else np.zeros(p)
    X = X - shift
    grid = _Grid(sizes)
    C = int(grid.sizes.sum())
    weights, means = np.empty(C), np.empty((C, p))
    pc = np.empty((C, p, p)) if covariance_type in ("full", "tied") else np.empty((C, p) if covariance_type == "diag"
                                                                                  else C)
    start_bad = np.zeros(len(owners), dtype=bool)
    if fresh:
        sub = _Grid(sizes[:fresh])
        w0, m0, p0, b0 = _initial(X, sub, labels, covariance_type)
        c = int(sub.sizes.sum())
        weights[:c], means[:c], pc[:c] = w0, m0, p0
        start_bad[:fresh] = b0
    for m in range(fresh, len(owners)):
        gm = warm[owners[m][0]]
        sl = slice(grid.start[m], grid.start[m + 1])
        weights[sl], means[sl] = gm.weights_, gm.means_ - shift
        pc[sl] = gm.precisions_cholesky_ if covariance_type != "tied" else gm.precisions_cholesky_[None]
    lower, n_iter, converged, history, failed, cov = _em(X, grid, weights, means, pc, covariance_type,
                                                          np.flatnonzero(~start_bad))
    failed |= start_bad
    out = {}
    for k in ks:
        mine = [m for m, (kk, _) in enumerate(owners) if kk == k and not failed[m]]
        if not mine:
            raise ValueError(_SINGULAR)
        bounds = lower[mine]
        best = mine[int(np.flatnonzero(bounds >= bounds.max() - TIE)[0])]  # the earliest of ties
        if not converged[best]:
            warnings.warn("Best performing initialization did not converge. Try different init parameters, or "
                          "increase max_iter, tol, or check for degenerate data.", ConvergenceWarning, stacklevel=2)
        sl = slice(grid.start[best], grid.start[best + 1])
        out[k] = _mixture(k, covariance_type, owners[best][1], weights[sl], means[sl] + shift, cov[sl], pc[sl], lower[best],
                          n_iter[best], converged[best], history[:, best], p)
    return out
