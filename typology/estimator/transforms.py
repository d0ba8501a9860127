"""Per-feature transforms for skewed inputs and the scaling fitted on the reference towns.

Clustering on raw indices lets one long-tailed feature (a distance in km, a count of groups)
decide the types. Each feature is first mapped by a monotone transform, then standardized with
the mean and standard deviation (or median and IQR) of the reference towns, so a new town is
scored on the reference's scale, never on its own.

Transforms (``x`` a feature value):

``identity``      ``x``
``log``           ``ln x`` (domain ``x > 0``)
``log1p``         ``ln(1 + x)`` (domain ``x >= 0``): distances, potentials and counts
``asinh``         ``asinh x``: signed, long-tailed values
``logit``         empirical logit ``ln((p + eps) / (1 - p + eps))`` (domain ``0 <= p <= 1``):
                  shares; ``eps`` (default 0.01) keeps shares of exactly 0 or 1 finite
                  (Cox's empirical logit with a fixed half-count)
``arcsine_sqrt``  ``arcsin(sqrt p)`` (domain ``0 <= p <= 1``): variance-stabilized shares

``feature_transform="auto"`` takes the transform of a canonical feature from :data:`AUTO_TRANSFORMS`
(shares -> logit; distances, potentials, counts, ratios >= 0 -> log1p; entropies, growth
rates, changes and shift-share components -> identity). A feature outside that table gets
``logit`` when its name contains "share" and all its values lie in [0, 1], ``log1p`` when it
is non-negative with skewness above 1, else ``identity``.

At fit time a value outside a transform's domain is an error. When scoring new towns such a
value is clipped to the domain for the transform and the town is flagged out of distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import skew

from features.dictionary import FEATURES

__all__ = ["AUTO_TRANSFORMS", "TRANSFORMS", "TransformPlan", "apply_transform", "fit_plan", "resolve_transforms"]

TRANSFORMS = ("identity", "log", "log1p", "asinh", "logit", "arcsine_sqrt")

#: Transform of each scale of the data dictionary (``features.dictionary.SCALES``): shares ->
#: empirical logit; ratios, counts, distances, potentials, amounts -> log1p; entropies,
#: dissimilarities, centralities, rates and changes -> identity; text labels -> none.
SCALE_TRANSFORMS: dict[str, str | None] = {
    "share": "logit", "ratio": "log1p", "count": "log1p", "distance": "log1p", "potential": "log1p",
    "amount": "log1p", "entropy": "identity", "dissimilarity": "identity", "centrality": "identity",
    "rate": "identity", "change": "identity", "category": None}

#: Transform chosen by ``transform="auto"`` for the canonical feature columns (from their scale).
AUTO_TRANSFORMS: dict[str, str] = {f.name: SCALE_TRANSFORMS[f.scale] for f in FEATURES
                                   if SCALE_TRANSFORMS[f.scale] is not None}

_DOMAIN = {"identity": (-np.inf, np.inf, False), "asinh": (-np.inf, np.inf, False), "log": (0.0, np.inf, True),
           "log1p": (0.0, np.inf, False), "logit": (0.0, 1.0, False), "arcsine_sqrt": (0.0, 1.0, False)}


def apply_transform(name: str, x: np.ndarray, eps: float = 0.01) -> np.ndarray:
    """Apply transform ``name`` to the array ``x`` (values assumed inside the domain)."""
    x = np.asarray(x, dtype=float)
    if name == "identity":
        return x.copy()
    if name == "log":
        return np.log(x)
    if name == "log1p":
        return np.log1p(x)
    if name == "asinh":
        return np.arcsinh(x)
    if name == "logit":
        return np.log((x + eps) / (1.0 - x + eps))
    if name == "arcsine_sqrt":
        return np.arcsin(np.sqrt(x))
    raise ValueError(f"unknown transform {name!r}; expected one of {', '.join(TRANSFORMS)}")


def outside_domain(name: str, x: np.ndarray) -> np.ndarray:
    """Boolean mask of values outside the domain of transform ``name``."""
    lo, hi, open_lo = _DOMAIN[name]
    x = np.asarray(x, dtype=float)
    below = x <= lo if open_lo else x < lo
    return below | (x > hi)


def clip_to_domain(name: str, x: np.ndarray) -> np.ndarray:
    lo, hi, open_lo = _DOMAIN[name]
    lo = np.nextafter(lo, np.inf) if open_lo else lo
    return np.clip(np.asarray(x, dtype=float), lo, hi)


def _auto_one(name: str, x: np.ndarray) -> str:
    if name in AUTO_TRANSFORMS:
        return AUTO_TRANSFORMS[name]
    if "share" in name and x.min() >= 0.0 and x.max() <= 1.0:
        return "logit"
    if x.min() >= 0.0 and len(x) > 2 and np.ptp(x) > 0 and skew(x) > 1.0:
        return "log1p"
    return "identity"


def resolve_transforms(spec, columns: list[str], values: np.ndarray) -> tuple[str, ...]:
    """The transform of each column from a ``feature_transform`` parameter (``"auto"``, dict or None).

    A dict maps column -> transform name; columns it does not list get the automatic choice.
    """
    if spec is None:
        return tuple("identity" for _ in columns)
    if isinstance(spec, str):
        if spec != "auto":
            raise ValueError(f"feature_transform must be 'auto', a dict {{column: transform}} or None; found {spec!r}")
        return tuple(_auto_one(c, values[:, j]) for j, c in enumerate(columns))
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(columns))
        if unknown:
            raise ValueError(f"feature_transform names columns that are not features of X: {unknown}; "
                             f"features are {columns}")
        bad = {c: t for c, t in spec.items() if t not in TRANSFORMS}
        if bad:
            raise ValueError(f"unknown transforms {bad}; expected one of {', '.join(TRANSFORMS)}")
        return tuple(spec.get(c) or _auto_one(c, values[:, j]) for j, c in enumerate(columns))
    raise TypeError(f"feature_transform must be 'auto', a dict or None; found {type(spec).__name__}")


@dataclass(frozen=True)
class TransformPlan:
    """Transforms and scaling learned on the reference towns; maps raw features to model space.

    ``center`` and ``scale`` are the mean and standard deviation (``scaling="standard"``) or
    the median and IQR / 1.349 (``"robust"``, the IQR of a normal distribution in sd units) of
    each transformed feature; a feature constant on the reference gets scale 1.
    """

    columns: tuple[str, ...]
    transforms: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    eps: float
    scaling: str | None

    def transform(self, values: np.ndarray, clip: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Model-space coordinates of raw ``values`` (n x p) and the mask of out-of-domain cells."""
        values = np.asarray(values, dtype=float)
        out = np.empty_like(values)
        bad = np.zeros(values.shape, dtype=bool)
        for j, name in enumerate(self.transforms):
            bad[:, j] = outside_domain(name, values[:, j])
            col = clip_to_domain(name, values[:, j]) if clip else values[:, j]
            out[:, j] = apply_transform(name, col, self.eps)
        return (out - self.center) / self.scale, bad

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"transform": list(self.transforms), "center": self.center, "scale": self.scale},
                            index=pd.Index(list(self.columns), name="feature"))


def fit_plan(columns: list[str], values: np.ndarray, spec="auto", scaling: str | None = "standard",
             eps: float = 0.01) -> TransformPlan:
    """Choose transforms and fit the scaling on the reference ``values`` (n x p, finite).

    Raises ``ValueError`` naming the feature and the first offending values when a value lies
    outside the domain of the transform chosen for it.
    """
    if scaling not in ("standard", "robust", None):
        raise ValueError(f"scale must be 'standard', 'robust' or None; found {scaling!r}")
    if not (0.0 < eps < 0.5):
        raise ValueError(f"share_eps must lie in (0, 0.5), found {eps}")
    names = resolve_transforms(spec, list(columns), values)
    problems = []
    for j, (c, name) in enumerate(zip(columns, names, strict=True)):
        bad = outside_domain(name, values[:, j])
        if bad.any():
            lo, hi, open_lo = _DOMAIN[name]
            dom = f"{'(' if open_lo else '['}{lo:g}, {hi:g}]"
            problems.append(f"{c} (transform {name}, domain {dom}): {int(bad.sum())} values outside, "
                            f"e.g. {values[bad, j][:3].tolist()}")
    if problems:
        raise ValueError("features outside the domain of their transform; choose another transform "
                         "(feature_transform={column: name}) or fix the data:\n  " + "\n  ".join(problems))
    t = np.column_stack([apply_transform(n, values[:, j], eps) for j, n in enumerate(names)])
    if scaling == "standard":
        center, scale = t.mean(axis=0), t.std(axis=0, ddof=1) if len(t) > 1 else np.ones(t.shape[1])
    elif scaling == "robust":
        center = np.median(t, axis=0)
        q75, q25 = np.percentile(t, [75, 25], axis=0)
        scale = (q75 - q25) / 1.3489795003921634
    else:
        center, scale = np.zeros(t.shape[1]), np.ones(t.shape[1])
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    return TransformPlan(tuple(columns), names, center, scale, float(eps), scaling)
