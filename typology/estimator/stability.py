"""Per-type bootstrap stability (Hennig 2007) and per-town confidence.

Hennig's reading of a type's mean bootstrap Jaccard similarity (``fpc::clusterboot``):
>= 0.85 highly stable; >= 0.75 valid, stable; 0.6-0.75 indicates a pattern, but which towns
belong to it is doubtful; < 0.6 not to be trusted. A type *dissolves* in a bootstrap sample when
its best Jaccard similarity there is <= 0.5, and is *recovered* when it is > 0.75.

Per-town confidence: in each bootstrap sample the re-clustered types are matched one-to-one
to the fitted types (Hungarian matching on Jaccard similarity over the sampled towns) and every
town, sampled or not, is assigned by the bootstrap partition; a town's confidence is the
share of bootstrap samples in which it lands in the bootstrap type matched to its own type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["confidence", "hennig_verdict", "type_stability"]

HIGHLY_STABLE, VALID, PATTERN, DISSOLVED, RECOVERED = 0.85, 0.75, 0.6, 0.5, 0.75


def hennig_verdict(jaccard: float) -> str:
    """Hennig's verbal reading of a mean bootstrap Jaccard similarity."""
    if not np.isfinite(jaccard):
        return "not assessed"
    if jaccard >= HIGHLY_STABLE:
        return "highly stable"
    if jaccard >= VALID:
        return "valid"
    if jaccard >= PATTERN:
        return "pattern, doubtful membership"
    return "not to be trusted"


def type_stability(boot_jaccard: np.ndarray, types: np.ndarray, sizes: np.ndarray) -> pd.DataFrame:
    """One row per type from the ``(n_boot, k)`` best bootstrap Jaccard similarities.

    Columns: ``size``, ``jaccard_mean``, ``jaccard_median``, ``jaccard_sd``, ``dissolved``
    (share of bootstrap samples with Jaccard <= 0.5), ``recovered`` (share > 0.75), ``verdict``.
    """
    J = np.asarray(boot_jaccard, dtype=float)
    none = np.full(len(types), np.nan)
    assessed = J.shape[0] > 0
    mean = J.mean(axis=0) if assessed else none
    out = pd.DataFrame({
        "size": np.asarray(sizes, dtype=np.int64),
        "jaccard_mean": mean,
        "jaccard_median": np.median(J, axis=0) if assessed else none,
        "jaccard_sd": J.std(axis=0, ddof=1) if J.shape[0] > 1 else none,
        "dissolved": (J <= DISSOLVED).mean(axis=0) if assessed else none,
        "recovered": (J > RECOVERED).mean(axis=0) if assessed else none,
        "verdict": [hennig_verdict(m) for m in mean],
    }, index=pd.Index(types, name="type"))
    return out


def confidence(boot_labels: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Share of bootstrap samples in which each town keeps its type (see module docstring).

    ``boot_labels`` is ``(n_boot, n)``: the fitted type matched to the bootstrap type of every
    town; ``labels`` the fitted types. NaN when there are no bootstrap samples.
    """
    if boot_labels.shape[0] == 0:
        return np.full(len(labels), np.nan)
    return (boot_labels == labels[None, :]).mean(axis=0)
