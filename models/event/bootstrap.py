"""Inference shared by the event-study estimators: influence functions, multiplier bootstrap,
sup-t bands and the Wald pre-trend test.

Every estimator returns its estimates ``theta`` (k) with an influence matrix ``phi``
(clusters x k) summed within clusters and scaled so that ``Var(theta) = phi' phi``. Then

* standard errors ``sqrt(diag(phi' phi))``;
* the multiplier bootstrap (Kline and Santos 2012; Callaway and Sant'Anna 2021, sec. 4):
  draws ``theta*_b - theta = sum_c xi_bc phi_c`` with i.i.d. weights ``xi`` of mean 0 and
  variance 1 (Mammen's two-point weights, as R ``did``, or Rademacher), computed as the matrix
  product ``Xi phi`` in chunks of draws (memory bounded by ``chunk x clusters``);
* the uniform band ``theta_k +- c se_k`` with ``c`` the ``level`` quantile of
  ``max_k |theta*_bk - theta_k| / se_k`` (sup-t; Montiel Olea and Plagborg-Moller 2019);
* the Wald test ``W = theta' V^+ theta`` of ``theta = 0`` with ``df = rank(V)``.

All draws come from ``numpy.random.SeedSequence(random_state)``: chunk ``j`` (of ``CHUNK``
draws) draws from the child ``spawn_key=(j,)``, so the draws are identical whatever ``n_jobs``
and wherever the chunks run (:func:`models.compute.run_tasks`: local workers or a dask cluster).
"""

from __future__ import annotations

import numpy as np
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)

from ..compute import run_tasks

__all__ = ["bootstrap_draws", "sup_t_critical", "wald", "cluster_sum", "std_errors"]

CHUNK = 128
_SQ5 = np.sqrt(5.0)


def cluster_sum(inf: np.ndarray, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    """Rows of ``inf`` (units x k) summed within clusters (clusters x k)."""
    if n_clusters == len(cluster) and np.array_equal(cluster, np.arange(n_clusters)):
        return inf
    from scipy import sparse

    m = sparse.csr_matrix((np.ones(len(cluster)), (cluster, np.arange(len(cluster)))),
                          shape=(n_clusters, len(cluster)))
    return np.asarray(m @ inf)


def std_errors(phi: np.ndarray) -> np.ndarray:
    """``sqrt(diag(phi' phi))``; NaN where it is zero to rounding (nothing estimated)."""
    se = np.sqrt(np.einsum("ck,ck->k", phi, phi))
    scale = np.sqrt(np.einsum("ck,ck->k", np.abs(phi), np.abs(phi))) if phi.size else se
    se[~(se > 1e-12 * np.maximum(scale, 1e-300))] = np.nan
    return se


def _weights(rng: np.random.Generator, shape: tuple, kind: str) -> np.ndarray:
    if kind == "rademacher":
        return rng.integers(0, 2, size=shape).astype(float) * 2.0 - 1.0
    # Mammen (1993): (1 - sqrt5)/2 with probability (sqrt5 + 1)/(2 sqrt5), else (1 + sqrt5)/2
    low = rng.random(shape) < (_SQ5 + 1.0) / (2.0 * _SQ5)
    return np.where(low, (1.0 - _SQ5) / 2.0, (1.0 + _SQ5) / 2.0)


def _chunk(phi, seed, j, size, kind):
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(j,)))
    return _weights(rng, (size, phi.shape[0]), kind) @ phi


def bootstrap_draws(phi: np.ndarray, n_boot: int, random_state=None, weights: str = "mammen",
                    n_jobs: int | None = 1) -> np.ndarray:
    """Bootstrap deviations ``theta* - theta`` (n_boot x k) from the influence matrix ``phi``,
    in chunks of :data:`CHUNK` draws run as tasks of :func:`models.compute.run_tasks`
    (``n_jobs`` local workers, or the ambient dask cluster)."""
    if weights not in ("mammen", "rademacher"):
        raise ValueError(f"event_study: boot_weights must be 'mammen' or 'rademacher', got {weights!r}.")
    if isinstance(random_state, np.random.SeedSequence):
        seed = random_state.entropy
    elif random_state is None:
        seed = np.random.SeedSequence().entropy
    else:
        seed = int(random_state)
    sizes = [min(CHUNK, n_boot - s) for s in range(0, n_boot, CHUNK)]
    parts = run_tasks(_chunk, [(phi, seed, j, m, weights) for j, m in enumerate(sizes)], n_jobs)
    return np.vstack(parts) if parts else np.empty((0, phi.shape[1]))


def sup_t_critical(draws: np.ndarray, se: np.ndarray, level: float) -> float:
    """The ``level`` quantile of ``max_k |draw_k| / se_k`` over the estimates with a finite s.e."""
    ok = np.isfinite(se) & (se > 0)
    if not ok.any() or draws.shape[0] == 0:
        return np.nan
    t = np.max(np.abs(draws[:, ok]) / se[ok], axis=1)
    return float(np.quantile(t, level, method="inverted_cdf"))


def wald(theta: np.ndarray, cov: np.ndarray) -> tuple[float, int, float]:
    """``(W, df, p)``: ``W = theta' V^+ theta``, ``df = rank(V)``, ``p = P(chi2_df > W)``."""
    ok = np.isfinite(theta) & np.isfinite(np.diag(cov)) & (np.diag(cov) > 0)
    if not ok.any():
        return np.nan, 0, np.nan
    th, V = theta[ok], cov[np.ix_(ok, ok)]
    w, U = np.linalg.eigh(V)
    keep = w > 1e-10 * w.max()
    z = U[:, keep].T @ th
    stat = float(np.sum(z**2 / w[keep]))
    df = int(keep.sum())
    return stat, df, float(scipy.stats.chi2.sf(stat, df))
