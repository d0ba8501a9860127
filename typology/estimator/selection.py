"""Evidence for the number of types and the decision rule that picks it.

For every candidate ``k`` the town table is partitioned and judged by

* three internal indices on the full data: silhouette (higher is better), Calinski-Harabasz
  (higher) and Davies-Bouldin (lower);
* the gap statistic against ``n_ref`` uniform reference sets (Tibshirani et al. 2001), with
  ``k = 1`` included so that "no clustering structure" can be detected;
* BIC of the Gaussian mixture (``method="gmm"`` only; lower is better);
* bootstrap stability of every type: ``n_boot`` bootstrap samples of towns are re-clustered
  with the same method, and each type's Jaccard similarity with its most similar
  bootstrap type is averaged (Hennig 2007, ``fpc::clusterboot``); ``jaccard_min`` is the
  weakest type's mean and ``n_dissolved`` counts types with mean Jaccard <= 0.5;
* prediction strength (Tibshirani & Walther 2005): ``n_ps`` random halvings of the towns,
  each half clustered and predicted by the other, averaged.

Restarts (k-means, ``n_init="auto"``, :data:`AUTO_RESTARTS`): the full-data fit, whose
``W_k`` enters the gap statistic and whose partition becomes the typology, gets ``20 k``
restarts, every one refined by Hartigan's transfers; each reference set of the gap statistic
gets 20 and each bootstrap sample and half 10, the best after Lloyd's algorithm refined
(:mod:`typology.estimator.clustering`). On synthetic typology inputs the full-data rule reaches R's best
``W_k`` (``kmeans``, 4,000 Hartigan-Wong starts) in at least 99 % of seeds at every k <= 10;
the numbers are in ``docs/typology.md`` ("Restarts").

At scale (``docs/typology.md``, "At scale"): bootstrap samples are clustered as their unique
rows with multiplicities (k-means and Ward + k-means: the same partitions as the repeated
rows); above :data:`PILOT_ROWS` rows the restarts of k-means run on a pilot subsample and the
best is refined on all rows; the silhouette above 2,000 towns is the mean over 2,000 sampled
towns, each against all towns, with its standard error in ``silhouette_se``
(:func:`typology.estimator.indices.internal_indices`); Ward's tree above 2,500 towns is built on
200 weighted micro-clusters. Every draw is addressed in the seed tree.

Decision rule (``decide``). One index alone is not trusted: silhouette maxima are known to pick
too few types on typology data and Calinski-Harabasz to keep growing with k.

1. Admissible k: every type is a valid cluster in Hennig's sense (mean bootstrap Jaccard
   >= ``min_jaccard``, 0.75). An unstable type is not a type, whatever the indices say.
   A Gaussian mixture with a singular covariance (a component collapsed onto a subspace or
   with fewer towns than a covariance needs; ``Partition.degenerate``) is not admissible
   either: its likelihood, hence its BIC, is finite only through ``reg_covar`` (mclust returns
   NA for such a model). ``selection_["degenerate"]`` marks it and its ``bic`` is NaN.
2. Each index votes for one admissible k: silhouette max, Calinski-Harabasz max,
   Davies-Bouldin min, the gap statistic's 1-standard-error rule (smallest k with
   ``Gap(k) >= Gap(k+1) - s_{k+1}``; no vote when that is k = 1), the largest k whose prediction
   strength reaches ``min_prediction_strength`` (0.8, Tibshirani & Walther's threshold; no vote
   when none does) and, for Gaussian mixtures, BIC min.
3. The k with most votes wins (majority rule, as in NbClust: Charrad et al. 2014); ties go to
   the more stable k (larger ``jaccard_min``), then to the smaller k.
4. When no k is admissible, the k whose weakest type is the most stable is chosen (votes,
   then the smaller k, break ties), and a warning says that no number of types in the range
   yields only stable types: the data show no typology that survives resampling.
5. Stability is necessary, not sufficient: a uniform square is cut into stable halves. When
   the gap statistic's rule picks k = 1, the choice stands but a warning says that the types
   segment a continuum rather than separate natural groups.

``selection_reason_`` states the outcome in words: the admissible set, the votes, the runner-up
and why larger k were rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .clustering import Partition, cluster_all_k
from .indices import (
    best_match,
    gap_reference,
    gap_statistic,
    internal_indices,
    jaccard_matrix,
    log_of_within,
    log_within,
    prediction_strength,
)
from .parallel import int_seed, rng_for, run_tasks
from .stability import DISSOLVED  # Hennig (2007): best bootstrap Jaccard <= 0.5: dissolved

__all__ = ["AUTO_RESTARTS", "Evidence", "decide", "evaluate", "restarts"]

# seed addresses: (purpose, k, replicate, restart)
P_FIT, P_BOOT, P_BOOT_FIT, P_GAP, P_GAP_FIT, P_PS, P_PS_FIT, P_SIL, P_PILOT = range(9)

#: k-means with ``n_init="auto"`` on more rows than this (unique rows of a bootstrap sample): the
#: restarts of :data:`AUTO_RESTARTS` run on a pilot of this many rows drawn without replacement
#: (probability proportional to the multiplicity), and the best pilot partition at each k is
#: refined on all rows by Lloyd's algorithm and the transfers (``docs/typology.md``, "At scale")
PILOT_ROWS = 2000


#: restarts of ``n_init="auto"`` per purpose, as ``(a, b)``: ``a k + b`` restarts at k. k-means:
#: ``20 k`` for the full-data fit, 20 for each reference set of the gap statistic, 10 for each
#: bootstrap sample and half (measured on synthetic typology inputs: docs/typology.md, "Restarts")
AUTO_RESTARTS = {"kmeans": {"fit": (20, 0), "gap": (0, 20), "resample": (0, 10)},
                 "gmm": {"fit": (0, 3), "gap": (0, 3), "resample": (0, 3)},
                 "ward_kmeans": {"fit": (0, 1), "gap": (0, 1), "resample": (0, 1)}}


def restarts(method: str, n_init) -> dict[str, tuple[int, int]]:
    """Restarts per purpose (``fit``, ``gap``, ``resample``) as ``(a, b)``, ``a k + b`` at k:
    :data:`AUTO_RESTARTS` for ``"auto"``, else ``n_init`` (an int) for every k and purpose."""
    if isinstance(n_init, str):
        return dict(AUTO_RESTARTS[method])
    return dict.fromkeys(("fit", "gap", "resample"), (0, int(n_init)))


def _seeds(entropy: int, purpose: int, k: int, rep: int, n_init) -> list[int]:
    """Seeds of the restarts at k; ``n_init`` an int or a rule ``(a, b)`` of :func:`restarts`."""
    n = int(n_init) if isinstance(n_init, int | np.integer) else n_init[0] * k + n_init[1]
    return [int_seed(entropy, purpose, k, rep, r) for r in range(n)]


def _pilot(method: str, n_init, entropy: int, purpose: int, rep: int, weights) -> dict:
    """``pilot=`` rows for k-means with ``n_init="auto"`` on more than :data:`PILOT_ROWS` rows
    (``weights``: the rows' multiplicities, or their number); the draw is addressed by
    ``(P_PILOT, purpose, rep)``."""
    w = np.ones(weights) if np.isscalar(weights) else np.asarray(weights, dtype=float)
    if method != "kmeans" or not isinstance(n_init, tuple) or len(w) <= PILOT_ROWS:
        return {}
    rows = rng_for(entropy, P_PILOT, purpose, rep).choice(len(w), PILOT_ROWS, replace=False, p=w / w.sum())
    return {"pilot": np.sort(rows)}


def _fit_task(Z, ks, method, cov, n_init, entropy) -> dict[int, Partition]:
    return cluster_all_k(Z, ks, method, lambda kk: _seeds(entropy, P_FIT, kk, 0, n_init), cov,
                         **_pilot(method, n_init, entropy, P_FIT, 0, len(Z)))


def _ward_task(Z, ks, n_init, entropy) -> dict[int, Partition]:
    return cluster_all_k(Z, ks, "ward_kmeans", lambda k: _seeds(entropy, P_FIT, k, 0, n_init), "full")


def _index_task(Z, part: Partition, entropy) -> tuple:
    sil, ch, db, sil_se = internal_indices(Z, part.labels, rng=rng_for(entropy, P_SIL))
    why = part.degenerate(len(Z))
    bic = float("nan") if why else part.bic(Z)  # finite only through reg_covar: none, as in mclust
    return sil, ch, db, log_of_within(part.within), bic, why, sil_se  # part.within: W_k of these labels on Z


def _resample(Z, ks, method, cov, n_init, seeds, warm, weights=None, pilot=None):
    """Partitions of a resample: k-means and Ward + k-means on the unique rows with their
    multiplicities (``weights``; the same Lloyd iterations, transfers and W_k as the repeated
    rows), k-means on a pilot above :data:`PILOT_ROWS` rows (``pilot``: ``(entropy, purpose,
    rep)`` of its draw); Gaussian mixtures on the rows as given, with ``warm``.

    k-means gets no warm start from the full-data centres: measured on 1,000 synthetic towns,
    it raised the weakest type's mean bootstrap Jaccard at k = 9, 10 from 0.62, 0.71 to 0.77,
    0.78 and their prediction strength by 0.06 (k = 9, 10 became admissible): a start at the
    full-data partition pulls the resample towards it, and the verdicts must not depend on it.
    """
    if method == "gmm":
        return cluster_all_k(Z, ks, method, seeds, cov, "best", warm=warm, weights=None)
    return cluster_all_k(Z, ks, method, seeds, cov, "best", warm=None, weights=weights,
                         **(_pilot(method, n_init, *pilot, len(Z) if weights is None else weights)
                            if pilot else {}))


def _boot_task(Z, ks, method, cov, n_init, entropy, b, originals):
    n = len(Z)
    idx = rng_for(entropy, P_BOOT, b).integers(0, n, n)
    seeds = lambda k: _seeds(entropy, P_BOOT_FIT, k, b, n_init)  # noqa: E731
    uniq, first, counts = np.unique(idx, return_index=True, return_counts=True)
    if method == "gmm":  # the rows repeated, in the order drawn
        parts = _resample(Z[idx], ks, method, cov, n_init, seeds, originals)  # (GMM: no pilot)
        labels = {k: parts[k].labels[first] for k in ks}
    else:  # the unique rows with their multiplicities
        parts = _resample(Z[uniq], ks, method, cov, n_init, seeds, originals, counts, (entropy, P_BOOT, b))
        labels = {k: parts[k].labels for k in ks}
    out = {}
    for k in ks:
        p = parts[k]
        J = jaccard_matrix(originals[k].labels[uniq], labels[k], k, k)
        match = best_match(J)
        mapped = match[p.predict(Z)]
        out[k] = (J.max(axis=1), mapped.astype(np.int16))
    return out


def _gap_task(Z, ks, method, cov, n_init, entropy, b):
    ref = gap_reference(Z, rng_for(entropy, P_GAP, b))
    parts = cluster_all_k(ref, ks, method, lambda k: _seeds(entropy, P_GAP_FIT, k, b, n_init), cov, "best",
                          **_pilot(method, n_init, entropy, P_GAP, b, len(ref)))
    one = log_within(ref, np.zeros(len(ref), dtype=np.int64), 1)
    return np.array([one] + [log_of_within(parts[k].within) for k in ks])


def _ps_task(Z, ks, method, cov, n_init, entropy, m, originals):
    n = len(Z)
    perm = rng_for(entropy, P_PS, m).permutation(n)
    halves = (np.sort(perm[: n // 2]), np.sort(perm[n // 2:]))
    fits = [_resample(Z[h], ks, method, cov, n_init, lambda k, s=s: _seeds(entropy, P_PS_FIT, k, 2 * m + s, n_init),
                      originals, None, (entropy, P_PS, 2 * m + s))
            for s, h in enumerate(halves)]
    out = np.empty((len(ks), 2))
    for i, k in enumerate(ks):
        for s in (0, 1):  # test half s, training half 1 - s
            test, train = fits[s][k], fits[1 - s][k]
            out[i, s] = prediction_strength(test.labels, train.predict(Z[halves[s]]), k)
    return out


@dataclass(frozen=True)
class Evidence:
    """Everything computed for each candidate k (internal; the estimator keeps what it needs)."""

    ks: tuple[int, ...]
    partitions: dict
    table: pd.DataFrame
    boot_jaccard: dict  # k -> (n_boot, k) best Jaccard of each raw type per bootstrap
    boot_mapped: dict   # k -> (n_boot, n) bootstrap type of every town, mapped to raw types


def evaluate(Z: np.ndarray, ks, method: str, covariance_type: str, n_init, n_boot: int, n_ref: int,
             n_ps: int, entropy: int, n_jobs=None) -> Evidence:
    """Fit every k, then bootstrap, gap references and prediction strength (all through joblib).

    ``n_init``: restarts of every partition (int) or ``"auto"`` (:data:`AUTO_RESTARTS`; see
    :func:`restarts`).
    """
    ks = tuple(int(k) for k in ks)
    n = restarts(method, n_init)
    if not isinstance(n_init, str):  # an int: exactly that many restarts (plus the warm start of resamples)
        n = dict.fromkeys(n, int(n_init))
    if method == "ward_kmeans":
        partitions = run_tasks(_ward_task, [(Z, ks, n["fit"], entropy)], n_jobs)[0]
    elif method == "kmeans":  # the k are fitted in increasing order, each growing the previous best
        partitions = run_tasks(_fit_task, [(Z, ks, method, covariance_type, n["fit"], entropy)], n_jobs)[0]
    else:
        fits = run_tasks(_fit_task, [(Z, (k,), method, covariance_type, n["fit"], entropy) for k in ks], n_jobs)
        partitions = {k: f[k] for k, f in zip(ks, fits, strict=True)}
    stats = run_tasks(_index_task, [(Z, partitions[k], entropy) for k in ks], n_jobs)
    originals = partitions
    reps = run_tasks(_boot_task, [(Z, ks, method, covariance_type, n["resample"], entropy, b, originals)
                                  for b in range(n_boot)], n_jobs)
    gaps = run_tasks(_gap_task, [(Z, ks, method, covariance_type, n["gap"], entropy, b) for b in range(n_ref)],
                     n_jobs) if n_ref > 0 else []
    ps = run_tasks(_ps_task, [(Z, ks, method, covariance_type, n["resample"], entropy, m, originals)
                              for m in range(n_ps)],
                   n_jobs) if n_ps > 0 else []

    boot_jaccard = {k: np.array([r[k][0] for r in reps]).reshape(n_boot, k) for k in ks}
    boot_mapped = {k: np.array([r[k][1] for r in reps]).reshape(n_boot, len(Z)) for k in ks}
    log_w = np.array([log_within(Z, np.zeros(len(Z), dtype=np.int64), 1)] + [s[3] for s in stats])
    if gaps:
        gap, gap_se = gap_statistic(log_w, np.vstack(gaps))
    else:
        gap = gap_se = np.full(len(ks) + 1, np.nan)
    if ps:
        ps_all = np.stack(ps)  # n_ps x K x 2
        ps_mean = ps_all.mean(axis=(0, 2))
        ps_se = ps_all.mean(axis=2).std(axis=0, ddof=1) / np.sqrt(len(ps)) \
            if len(ps) > 1 else np.full(len(ks), np.nan)
    else:
        ps_mean = ps_se = np.full(len(ks), np.nan)
    jac = {k: boot_jaccard[k].mean(axis=0) if n_boot else np.full(k, np.nan) for k in ks}
    table = pd.DataFrame({
        "silhouette": [s[0] for s in stats],
        "silhouette_se": [s[6] for s in stats],
        "calinski_harabasz": [s[1] for s in stats],
        "davies_bouldin": [s[2] for s in stats],
        "gap": gap[1:], "gap_se": gap_se[1:],
        "bic": [s[4] for s in stats],
        "jaccard_min": [float(jac[k].min()) for k in ks],
        "jaccard_mean": [float(jac[k].mean()) for k in ks],
        "n_dissolved": [int((jac[k] <= DISSOLVED).sum()) for k in ks],
        "prediction_strength": ps_mean, "prediction_strength_se": ps_se,
        "within_ss": [partitions[k].within for k in ks],
        "degenerate": [bool(s[5]) for s in stats],
    }, index=pd.Index(ks, name="k"))
    table.attrs["gap_k1"] = (float(gap[0]), float(gap_se[0]))
    table.attrs["degenerate"] = {k: s[5] for k, s in zip(ks, stats, strict=True) if s[5]}
    return Evidence(ks, partitions, table, boot_jaccard, boot_mapped)


_INDEX_WORDS = {"silhouette": "silhouette (max)", "calinski_harabasz": "Calinski-Harabasz (max)",
                "davies_bouldin": "Davies-Bouldin (min)", "gap": "gap statistic (1-SE rule)",
                "prediction_strength": "prediction strength (largest k >= {ps})", "bic": "BIC (min)"}


def _votes(table: pd.DataFrame, candidates: list[int], min_ps: float, use_bic: bool) -> tuple[dict, list[str], bool]:
    """Which candidate k each index votes for (None = abstains), notes, and whether gap says k = 1."""
    t = table.loc[candidates]
    votes, notes, no_structure = {}, [], False
    for col, best in (("silhouette", "max"), ("calinski_harabasz", "max"), ("davies_bouldin", "min")):
        s = t[col].dropna()
        votes[col] = None if s.empty else int(s.idxmax() if best == "max" else s.idxmin())
    # gap: Tibshirani's 1-SE rule over consecutive k, k = 1 included
    gk1, sk1 = table.attrs.get("gap_k1", (np.nan, np.nan))
    ks = [1] + list(table.index)
    gap = np.r_[gk1, table["gap"].to_numpy()]
    se = np.r_[sk1, table["gap_se"].to_numpy()]
    votes["gap"] = None
    if np.isfinite(gap).all():
        ok = [ks[i] for i in range(len(ks) - 1) if gap[i] >= gap[i + 1] - se[i + 1]]
        if ok and ok[0] == 1:
            no_structure = True
            notes.append("the gap statistic's 1-SE rule finds no clustering structure (k = 1): the types cut "
                         "a continuum into segments rather than separate natural groups")
        else:
            chosen = [k for k in ok if k in candidates]
            votes["gap"] = chosen[0] if chosen else None
            if not chosen:
                notes.append("the gap statistic's 1-SE rule is met by no candidate k")
    ps = t["prediction_strength"].dropna()
    above = ps[ps >= min_ps]
    votes["prediction_strength"] = int(above.index.max()) if len(above) else None
    if len(ps) and not len(above):
        notes.append(f"no candidate k reaches prediction strength {min_ps:g}")
    if use_bic:
        b = t["bic"].dropna()
        votes["bic"] = None if b.empty else int(b.idxmin())
    return votes, notes, no_structure


def decide(table: pd.DataFrame, min_jaccard: float = 0.75, min_prediction_strength: float = 0.8,
           use_bic: bool = False) -> tuple[int, str, pd.DataFrame, dict]:
    """Apply the decision rule of the module docstring.

    Returns
    -------
    k : int
    reason : str
        The decision in words.
    table : DataFrame
        ``table`` with the columns ``admissible``, ``votes``, ``voted_by`` and ``chosen`` added.
    flags : dict
        ``weak``: no k was admissible; ``no_structure``: the gap statistic's rule picks k = 1;
        ``degenerate``: every k gives a degenerate Gaussian mixture (the caller warns on each).
    """
    table = table.copy()
    ks = list(table.index)
    assessed = table["jaccard_min"].notna()
    stable = ~assessed | (table["jaccard_min"] >= min_jaccard)  # n_boot = 0: stability not assessed
    degenerate = table["degenerate"].astype(bool) if "degenerate" in table else pd.Series(False, index=table.index)
    admissible = stable & ~degenerate
    candidates = [k for k in ks if admissible[k]]
    weak = not candidates
    pool = candidates or [k for k in ks if not degenerate[k]] or ks
    votes, notes, no_structure = _votes(table, pool, min_prediction_strength, use_bic)
    count = {k: 0 for k in ks}
    by = {k: [] for k in ks}
    for idx, k in votes.items():
        if k is not None:
            count[k] += 1
            by[k].append(idx)
    jac = table["jaccard_min"].fillna(-1.0)  # stability not assessed: no order by it
    if weak:
        order = sorted(pool, key=lambda k: (-jac[k], -count[k], k))
    else:
        order = sorted(pool, key=lambda k: (-count[k], -jac[k], k))
    k = order[0]
    table["admissible"] = admissible
    table["votes"] = pd.Series(count)
    table["voted_by"] = pd.Series({kk: ", ".join(by[kk]) for kk in ks})
    table["chosen"] = table.index == k

    n_idx = len(votes)
    words = [_INDEX_WORDS[i].format(ps=f"{min_prediction_strength:g}") for i in by[k]]
    parts = []
    all_degenerate = bool(degenerate.all())
    if all_degenerate:
        parts.append(f"Every k in {ks[0]}..{ks[-1]} gives a degenerate Gaussian mixture (a component with a "
                     "singular covariance); no number of types is supported with this covariance_type. "
                     f"k = {k} is shown; a constrained covariance_type (tied, diag, spherical), k-means or "
                     "other features avoid the singularity.")
    elif weak:
        parts.append(f"No k in {ks[0]}..{ks[-1]} gives only stable types (every k has a type with mean "
                     f"bootstrap Jaccard below {min_jaccard:g}); the evidence for any typology is weak. "
                     f"k = {k} is the least unstable (weakest type's Jaccard "
                     f"{table.at[k, 'jaccard_min']:.2f}).")
    elif not assessed.any():
        parts.append("Stability not assessed (no bootstrap samples): every k"
                     + (" with a nonsingular mixture" if degenerate.any() else "") + " is admissible.")
    else:
        parts.append(f"Admissible k (every type with mean bootstrap Jaccard >= {min_jaccard:g}, Hennig 2007"
                     + (", nonsingular mixture" if degenerate.any() else "") + f"): {', '.join(map(str, candidates))}.")
    if degenerate.any():
        why = table.attrs.get("degenerate", {})
        bad = [k for k in ks if degenerate[k]]
        parts.append(f"Not admissible, the Gaussian mixture being degenerate (a singular covariance: its BIC is "
                     f"finite only through reg_covar, mclust gives none): k = {', '.join(map(str, bad))}"
                     + (f" (k = {bad[0]}: {why[bad[0]]})" if bad[0] in why else "") + ".")
    parts.append(f"k = {k} gets {count[k]} of {n_idx} votes" + (f": {', '.join(words)}." if words else "."))
    runner = [kk for kk in order[1:] if count[kk] > 0]
    if runner and not weak:
        r = runner[0]
        parts.append(f"Runner-up k = {r} with {count[r]} vote{'s' if count[r] != 1 else ''} "
                     f"({', '.join(by[r])}).")
        if count[r] == count[k]:
            parts.append(f"The tie goes to k = {k}, the more stable "
                         f"(weakest type's Jaccard {table.at[k, 'jaccard_min']:.2f} vs "
                         f"{table.at[r, 'jaccard_min']:.2f})" + (", then the smaller k." if
                                                                np.isclose(table.at[k, 'jaccard_min'],
                                                                           table.at[r, 'jaccard_min']) else "."))
    row = table.loc[k]
    facts = [f"weakest type's mean Jaccard {row['jaccard_min']:.2f}" if assessed[k] else None,
             f"prediction strength {row['prediction_strength']:.2f}" if np.isfinite(row["prediction_strength"])
             else None, f"silhouette {row['silhouette']:.2f}"]
    parts.append(f"At k = {k}: " + ", ".join(f for f in facts if f) + ".")
    rejected = [kk for kk in ks if kk > k and not stable[kk]]
    if rejected and not weak:
        listed = "; ".join(f"k = {kk} (weakest type's Jaccard {table.at[kk, 'jaccard_min']:.2f})"
                           for kk in rejected[:3])
        more = f"; and {len(rejected) - 3} more" if len(rejected) > 3 else ""
        parts.append(f"Larger k rejected as unstable: {listed}{more}.")
    parts.extend(n[0].upper() + n[1:] + "." for n in notes)
    return int(k), " ".join(parts), table, {"weak": weak, "no_structure": no_structure, "degenerate": all_degenerate}
