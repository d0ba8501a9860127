"""Pure functions behind the choice of the number of types and the stability of types.

References
----------
Calinski, T. & Harabasz, J. (1974). A dendrite method for cluster analysis. Comm. Stat. 3, 1-27.
Davies, D. L. & Bouldin, D. W. (1979). A cluster separation measure. IEEE TPAMI 1, 224-227.
Rousseeuw, P. J. (1987). Silhouettes. J. Comput. Appl. Math. 20, 53-65.
Tibshirani, R., Walther, G. & Hastie, T. (2001). Estimating the number of clusters in a data set
    via the gap statistic. JRSS B 63, 411-423.
Tibshirani, R. & Walther, G. (2005). Cluster validation by prediction strength. JCGS 14, 511-528.
Hennig, C. (2007). Cluster-wise assessment of cluster stability. CSDA 52, 258-271.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from .clustering import within_ss

__all__ = ["best_match", "contingency", "gap_reference", "gap_statistic", "internal_indices", "jaccard_matrix",
           "silhouette_sample",
           "log_of_within", "log_within", "prediction_strength"]


def contingency(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> np.ndarray:
    """Counts ``N[i, j] = #{a == i and b == j}`` for labels ``0..ka-1`` and ``0..kb-1``."""
    return np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb)


def jaccard_matrix(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> np.ndarray:
    """Jaccard similarity ``|A_i & B_j| / |A_i | B_j|`` of every pair of types of two labelings.

    Types absent from both labelings get similarity 0 with everything.
    """
    n = contingency(a, b, ka, kb).astype(float)
    union = n.sum(axis=1)[:, None] + n.sum(axis=0)[None, :] - n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, n / union, 0.0)


def best_match(similarity: np.ndarray) -> np.ndarray:
    """For each column (type of the second labeling) the row it is matched to (Hungarian, max total).

    Columns left unmatched (more columns than rows) map to -1.
    """
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    out = np.full(similarity.shape[1], -1, dtype=np.int64)
    out[cols] = rows
    return out


#: the silhouette is exact up to this many towns; above, it is the mean of s(i) over this many
#: towns drawn without replacement, each s(i) computed against all towns
SILHOUETTE_EXACT_MAX = 2000


def silhouette_sample(Z: np.ndarray, labels: np.ndarray, rows: np.ndarray, block: int = 256) -> np.ndarray:
    """Silhouette widths ``s(i)`` of the towns ``rows``, each against ALL towns (Rousseeuw 1987).

    ``a(i)``: mean Euclidean distance to the other towns of its type; ``b(i)``: the smallest mean
    distance to the towns of another type; ``s(i) = (b - a) / max(a, b)``, 0 for a town alone in
    its type (scikit-learn's and R's ``cluster::silhouette`` convention). Cost ``O(m n p)`` for
    ``m = len(rows)``, in blocks of ``block`` rows.
    """
    k = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=k).astype(float)
    onehot = np.zeros((len(Z), k))
    onehot[np.arange(len(Z)), labels] = 1.0
    zz = (Z * Z).sum(axis=1)
    out = np.empty(len(rows))
    for s in range(0, len(rows), block):
        r = rows[s:s + block]
        d = zz[r][:, None] - 2.0 * Z[r] @ Z.T + zz[None, :]
        d[np.arange(len(r)), r] = 0.0
        sums = np.sqrt(np.maximum(d, 0.0)) @ onehot  # (block, k) distance sums per type
        own = labels[r]
        n_own = counts[own]
        a = sums[np.arange(len(r)), own] / np.maximum(n_own - 1.0, 1.0)
        other = sums / np.where(counts > 0, counts, np.inf)[None, :]
        other[np.arange(len(r)), own] = np.inf
        other[:, counts == 0] = np.inf
        b = other.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            width = (b - a) / np.maximum(a, b)
        out[s:s + block] = np.where((n_own > 1) & np.isfinite(width), width, 0.0)
    return out


def internal_indices(Z: np.ndarray, labels: np.ndarray,
                     rng: np.random.Generator | None = None) -> tuple[float, float, float, float]:
    """Silhouette (Rousseeuw 1987), Calinski-Harabasz, Davies-Bouldin of a partition, and the
    silhouette's standard error.

    Up to :data:`SILHOUETTE_EXACT_MAX` towns the silhouette is exact (scikit-learn's
    ``silhouette_score``) and its standard error 0. Above, it is the mean of ``s(i)`` over
    ``m = SILHOUETTE_EXACT_MAX`` towns drawn without replacement by ``rng`` (the same towns for
    every k: common random numbers), each ``s(i)`` against all ``n`` towns
    (:func:`silhouette_sample`): unbiased for the full silhouette, with standard error
    ``sd(s_i) / sqrt(m) * sqrt(1 - m / n)`` (simple random sampling without replacement,
    Cochran 1977, eq. 2.19). NaN (all four) when the partition has fewer than two non-empty
    types or as many types as rows.
    """
    m = len(np.unique(labels))
    n = len(Z)
    if m < 2 or m >= n:
        return float("nan"), float("nan"), float("nan"), float("nan")
    ch, db = float(calinski_harabasz_score(Z, labels)), float(davies_bouldin_score(Z, labels))
    if n <= SILHOUETTE_EXACT_MAX:
        return float(silhouette_score(Z, labels)), ch, db, 0.0
    rng = np.random.default_rng(0) if rng is None else rng
    size = SILHOUETTE_EXACT_MAX
    rows = np.sort(rng.choice(n, size, replace=False))
    s = silhouette_sample(Z, np.unique(labels, return_inverse=True)[1], rows)
    se = float(s.std(ddof=1) / np.sqrt(size) * np.sqrt(1.0 - size / n))
    return float(s.mean()), ch, db, se


def log_within(Z: np.ndarray, labels: np.ndarray, k: int) -> float:
    """``log W_k``, the within-type sum of squares of the gap statistic (Tibshirani et al. 2001, eq. 2).

    ``W_k = sum_r D_r / (2 n_r)`` with ``D_r`` the sum of pairwise squared Euclidean distances in
    type ``r``, which equals the sum of squared distances to the type means.
    """
    return log_of_within(within_ss(Z, labels, k))


def log_of_within(w: float) -> float:
    """``log W_k`` from a within-type sum of squares already computed (``Partition.within``)."""
    return float(np.log(max(w, np.finfo(float).tiny)))


def gap_reference(Z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A reference data set: uniform over the box aligned with the principal components of ``Z``.

    Tibshirani et al. (2001), section 3, method (b): centre ``Z``, rotate by ``V`` of its
    SVD, draw uniformly in the range of each rotated column, rotate back and re-centre.
    """
    mean = Z.mean(axis=0)
    X = Z - mean
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    R = X @ vt.T
    lo, hi = R.min(axis=0), R.max(axis=0)
    U = lo + (hi - lo) * rng.random(R.shape)
    return U @ vt + mean


def gap_statistic(log_w: np.ndarray, ref_log_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gap and its standard error ``s_k`` per ``k``.

    ``Gap(k) = mean_b log W*_kb - log W_k``, ``s_k = sd_b(log W*_kb) sqrt(1 + 1/B)`` with the
    standard deviation over the ``B`` reference sets taken with divisor ``B`` (eq. 3 and step 3
    of Tibshirani et al. 2001). ``ref_log_w`` is ``B x K``.
    """
    B = ref_log_w.shape[0]
    gap = ref_log_w.mean(axis=0) - log_w
    sd = ref_log_w.std(axis=0, ddof=0) * np.sqrt(1.0 + 1.0 / B)
    return gap, sd


def prediction_strength(test_labels: np.ndarray, predicted: np.ndarray, k: int) -> float:
    """Prediction strength of one split (Tibshirani & Walther 2005, eq. 2.1).

    ``test_labels``: the clustering of the test half; ``predicted``: the test towns labelled by
    the centres fitted on the training half. For each test type ``A_j`` with at least two towns,
    the share of its pairs that the training centres also put together; the strength is the
    minimum over those types (NaN when no type has two towns).
    """
    n = contingency(test_labels, predicted, k, k).astype(float)
    nj = n.sum(axis=1)
    ok = nj >= 2
    if not ok.any():
        return float("nan")
    same = (n * (n - 1.0)).sum(axis=1)[ok]
    return float((same / (nj[ok] * (nj[ok] - 1.0))).min())
