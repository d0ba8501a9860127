"""Profiles of types: size, central values, z-scores, distinguishing features, typical towns.

Distinguishing features. For every type and feature the type's towns are compared with all
other towns by a two-sided Mann-Whitney U test (normal approximation with tie correction) and
two effect sizes: Cliff's delta ``d = 2 U / (n_1 n_2) - 1`` (the rank-biserial correlation,
invariant to the feature's transform; ``|d|`` >= 0.147 small, >= 0.33 medium, >= 0.474
large, Romano et al. 2006) and Hedges' g on the model-space (transformed, standardized)
values. The ``k x p`` p-values are adjusted together by Benjamini-Hochberg (false discovery
rate). A feature *distinguishes* a type when its adjusted p-value is below ``alpha`` (0.05) and
``|d|`` >= 0.33.

These p-values describe, they do not confirm: the types were built from the same features,
so tests of differences between them are anti-conservative (a selective-inference problem,
Gao, Bien & Witten 2024). Read them as a ranking of how strongly each feature separates a type.

Typical and atypical towns are the towns of a type nearest to and farthest from its centre in
model space (the distance used by the method: Euclidean for the k-means methods, Mahalanobis
for Gaussian mixtures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu
from statsmodels.stats.multitest import multipletests

__all__ = ["TypeProfiles", "profile_types"]

MEDIUM_DELTA = 0.33


@dataclass(frozen=True)
class TypeProfiles:
    """Read-only profiles of the types of a fitted typology.

    Attributes
    ----------
    summary : DataFrame
        Per type: ``size``, ``share`` of the towns.
    mean, median : DataFrame
        Types x features, in the features' own units; ``reference`` holds the same over all towns.
    reference : DataFrame
        Rows ``mean``, ``median``, ``sd`` over all reference towns, in the features' units.
    z : DataFrame
        Types x features: the type mean of the transformed feature in reference standard
        deviations (the coordinates the clustering sees); names are built from it.
    tests : DataFrame
        One row per (type, feature): ``mean_type``, ``mean_rest``, ``cliffs_delta``,
        ``hedges_g``, ``u``, ``p_value``, ``p_adjusted`` (Benjamini-Hochberg over all rows),
        ``direction`` ("higher"/"lower") and ``distinguishing``.
    distinguishing : DataFrame
        The distinguishing rows of ``tests``, by type and decreasing ``|cliffs_delta|``.
    typical, atypical : DataFrame
        One row per (type, rank): ``town_id`` and ``distance`` to the type centre.
    """

    summary: pd.DataFrame
    mean: pd.DataFrame
    median: pd.DataFrame
    reference: pd.DataFrame
    z: pd.DataFrame
    tests: pd.DataFrame
    distinguishing: pd.DataFrame
    typical: pd.DataFrame
    atypical: pd.DataFrame
    alpha: float

    def text(self, names: dict | None = None, max_features: int = 4) -> str:
        """A paragraph per type: size, name and its most distinguishing features."""
        lines = []
        for t, row in self.summary.iterrows():
            name = f" '{names[t]}'" if names and t in names else ""
            head = f"Type {t}{name}: {int(row['size'])} towns ({row['share']:.0%})."
            d = self.distinguishing[self.distinguishing.index.get_level_values("type") == t].head(max_features)
            parts = [f"{f} {r['direction']} ({r['mean_type']:.3g} vs {r['mean_rest']:.3g}, Cliff's delta "
                     f"{r['cliffs_delta']:+.2f})" for (_, f), r in d.iterrows()]
            typical = self.typical[self.typical.index.get_level_values("type") == t]["town_id"].tolist()
            lines.append(head + (" Distinguished by " + "; ".join(parts) + "." if parts else
                                 " No feature distinguishes it at the chosen level.")
                         + (f" Most typical: {', '.join(map(str, typical))}." if typical else ""))
        return "\n".join(lines)


def _examples(ids: np.ndarray, labels: np.ndarray, dist: np.ndarray, types, n: int, far: bool) -> pd.DataFrame:
    # order towns by type, then distance (nearest or farthest first), then town id
    key = -dist if far else dist
    order = np.lexsort((ids.astype(str), key, labels))
    lab = labels[order]
    rank = np.arange(len(order)) - np.searchsorted(lab, lab, side="left")
    sel = rank < n
    idx = pd.MultiIndex.from_arrays([lab[sel], rank[sel] + 1], names=["type", "rank"])
    return pd.DataFrame({"town_id": ids[order][sel], "distance": dist[order][sel]}, index=idx)


def profile_types(raw: pd.DataFrame, Z: np.ndarray, labels: np.ndarray, types: np.ndarray, distance: np.ndarray,
                  alpha: float = 0.05, n_examples: int = 5) -> TypeProfiles:
    """Profiles of a partition (see the module docstring).

    ``raw``: the reference towns' features (index town_id); ``Z``: their model-space
    coordinates; ``labels``: their types; ``distance``: their distance to their type's centre.
    """
    cols = list(raw.columns)
    X = raw.to_numpy(dtype=float)
    n = len(X)
    sizes = np.array([(labels == t).sum() for t in types])
    summary = pd.DataFrame({"size": sizes, "share": sizes / n}, index=pd.Index(types, name="type"))
    lab = pd.Series(labels, index=raw.index)
    grouped = raw.groupby(lab.to_numpy())
    mean = grouped.mean().reindex(types)
    median = grouped.median().reindex(types)
    for df in (mean, median):
        df.index.name = "type"
    reference = pd.DataFrame([X.mean(axis=0), np.median(X, axis=0), X.std(axis=0, ddof=1)],
                             index=["mean", "median", "sd"], columns=cols)
    z = pd.DataFrame([Z[labels == t].mean(axis=0) for t in types], index=pd.Index(types, name="type"), columns=cols)

    rows = []
    for t in types:  # loop over types; every test and effect size is vectorized over features
        inside = labels == t
        x, y = X[inside], X[~inside]
        n1, n2 = len(x), len(y)
        if n1 == 0 or n2 == 0:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            res = mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", axis=0)
            u = np.asarray(res.statistic, dtype=float)
            p = np.asarray(res.pvalue, dtype=float)
            delta = 2.0 * u / (n1 * n2) - 1.0
            zx, zy = Z[inside], Z[~inside]
            sp = np.sqrt(((n1 - 1) * zx.var(axis=0, ddof=1 if n1 > 1 else 0)
                          + (n2 - 1) * zy.var(axis=0, ddof=1 if n2 > 1 else 0)) / max(n1 + n2 - 2, 1))
            g = (zx.mean(axis=0) - zy.mean(axis=0)) / sp * (1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0))
        rows.append(pd.DataFrame({"type": t, "feature": cols, "mean_type": x.mean(axis=0), "mean_rest": y.mean(axis=0),
                                  "cliffs_delta": delta, "hedges_g": g, "u": u, "p_value": p}))
    tests = pd.concat(rows, ignore_index=True)
    p = tests["p_value"].to_numpy()
    ok = np.isfinite(p)
    adj = np.full(len(p), np.nan)
    if ok.any():
        adj[ok] = multipletests(p[ok], method="fdr_bh")[1]
    tests["p_adjusted"] = adj
    tests["direction"] = np.where(tests["cliffs_delta"] >= 0, "higher", "lower")
    tests["distinguishing"] = (tests["p_adjusted"] < alpha) & (tests["cliffs_delta"].abs() >= MEDIUM_DELTA)
    tests = tests.set_index(["type", "feature"])
    d = tests[tests["distinguishing"]].copy()
    d["_abs"] = d["cliffs_delta"].abs()
    d = d.reset_index().sort_values(["type", "_abs", "feature"], ascending=[True, False, True], kind="stable")
    distinguishing = d.drop(columns="_abs").set_index(["type", "feature"])
    ids = raw.index.to_numpy()
    typical = _examples(ids, labels, distance, types, n_examples, far=False)
    atypical = _examples(ids, labels, distance, types, n_examples, far=True)
    return TypeProfiles(summary, mean, median, reference, z, tests, distinguishing, typical, atypical, alpha)
