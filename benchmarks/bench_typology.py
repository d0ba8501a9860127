"""Benchmarks of the typology stage.

* ``select k + stability``: ``TownTypology(n_types="auto", k_range=(2, 10), n_boot=100)`` on
  2,500 synthetic towns (the DESIGN.md default features), with ``n_jobs=1`` and ``n_jobs=2`` in
  the same run; the second names the first as its baseline, so the table shows the speed-up.
  Peak memory is traced in the main process only (joblib workers are separate processes).
* the default embedded typology (300 towns, auto k, default bootstraps): target < 30 s.
* scoring a panel: ``assign`` on every town-year of the 2,500-town panel.
* the evidence for k at scale: ``TownTypology(n_types="auto")`` with its defaults (k = 2..10,
  100 bootstraps, 20 gap references, 10 halvings, ``n_init="auto"``, ``n_jobs=2``) on 1,000,
  5,000 and 20,000 towns (the last year of a 5-year synthetic panel, towns with a missing
  feature dropped), for ``method="kmeans"`` and ``"ward_kmeans"``. The 5,000-town cases name
  as baseline a plain scikit-learn loop on the same towns (``KMeans(n_clusters=k,
  random_state=0)`` + silhouette + Calinski-Harabasz + Davies-Bouldin for k = 2..10; target:
  within 3x); the 20,000-town cases name the 1,000-town case of the same method as baseline,
  so the growth exponent is ``log(t20000 / t1000) / log 20 = -log(ratio) / log 20`` (target
  <= 1.1, i.e. ratio >= 1/27). :data:`SCALE_METHODS` is the hook for more methods (Gaussian
  mixtures at 20,000 towns: target 6 minutes).

* Gaussian mixtures at scale: ``TownTypology(n_types="auto", method="gmm", k_range=(2, 10),
  n_boot=100, n_ref=20, n_ps=10, n_jobs=2)`` on 1,000 and 20,000 towns drawn from the mixture
  of :func:`_mixture_towns` (the generator is slow at 20,000 towns); the 20,000-town case names
  the 1,000-town one as its baseline: growth exponent = log(1 / ratio) / log 20. Target: 6 min.

Quick mode: 300 towns, 20 bootstraps, one run each; the scale cases at 1,000 towns only. The
5,000- and 20,000-town cases run once, without the memory runs (minutes each).
"""

from __future__ import annotations

import functools
import warnings

from benchmarks.harness import Case

FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]


@functools.lru_cache(maxsize=4)
def _data(n_towns: int, n_years: int):
    from features import build_features
    from typology import generate, town_rows

    synth = generate(n_towns=n_towns, n_years=n_years, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = build_features(synth.data)
    kinds = synth.truth["town_types"]
    typed = [t for t, v in kinds.items() if v not in ("core", "rural")]
    X = town_rows(panel, "last", sample=typed)[FEATURES]
    rows = panel.loc[panel.index.get_level_values("town_id").isin(typed), FEATURES].dropna()
    return X, rows


def _fit(X, n_jobs, n_boot):
    from typology import TownTypology

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TownTypology(n_types="auto", k_range=(2, 10), n_boot=n_boot, random_state=0, n_jobs=n_jobs).fit(X)


#: methods of the scale cases and their 20,000-town target (seconds)
SCALE_METHODS = {"kmeans": 120, "ward_kmeans": 120}


@functools.lru_cache(maxsize=4)
def _towns(n_towns: int):
    """``n_towns`` towns of a 5-year synthetic panel (4 % more generated, those with a missing feature dropped)."""
    from features import build_features
    from typology import generate, town_rows

    synth = generate(n_towns=int(n_towns * 1.04) + 10, n_years=5, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = build_features(synth.data)
    kinds = synth.truth["town_types"]
    typed = [t for t, v in kinds.items() if v not in ("core", "rural")]
    return town_rows(panel, "last", sample=typed)[FEATURES].dropna().iloc[:n_towns]


def _evidence(X, method: str):
    from typology import TownTypology

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TownTypology(n_types="auto", method=method, random_state=0, n_jobs=2).fit(X)


def _sklearn_loop(X):
    """The plain loop of the issue: k-means and three indices for k = 2..10, nothing else."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
    from sklearn.preprocessing import StandardScaler

    Z = StandardScaler().fit_transform(X.to_numpy(float))
    for k in range(2, 11):
        lab = KMeans(n_clusters=k, random_state=0).fit_predict(Z)
        silhouette_score(Z, lab), calinski_harabasz_score(Z, lab), davies_bouldin_score(Z, lab)


def _scale_cases(quick: bool) -> list[Case]:
    sizes = (1000,) if quick else (1000, 5000, 20000)
    out = []
    if 5000 in sizes:
        out.append(Case("sklearn loop k=2..10 + 3 indices, 5000 towns", setup=lambda: _towns(5000),
                        run=_sklearn_loop, repeat=1, measure_memory=False))
    for method, target in SCALE_METHODS.items():
        for n in sizes:
            name = f"evidence {method}, {n} towns, n_jobs=2"
            base, note, tgt = None, "", {}
            if n == 5000:
                base, note = "sklearn loop k=2..10 + 3 indices, 5000 towns", "target: ratio >= 1/3"
            if n == 20000:
                base = f"evidence {method}, 1000 towns, n_jobs=2"
                note, tgt = "growth exponent = -log(ratio)/log(20), target <= 1.1", {"median_s": target}
            out.append(Case(name, setup=lambda n=n: _towns(n), run=lambda X, m=method: _evidence(X, m),
                            repeat=3 if n == 1000 and not quick else 1, baseline=base, note=note, target=tgt,
                            measure_memory=n == 1000))
    return out


def cases(quick: bool) -> list[Case]:
    n, years, boot, rep = (300, 10, 20, 1) if quick else (2500, 10, 100, 3)
    big = f"select k + stability, {n} towns"
    out = [
        Case(f"{big}, n_jobs=1", setup=lambda: _data(n, years)[0], run=lambda X: _fit(X, 1, boot), repeat=rep),
        Case(f"{big}, n_jobs=2", setup=lambda: _data(n, years)[0], run=lambda X: _fit(X, 2, boot), repeat=rep,
             baseline=f"{big}, n_jobs=1", note="memory of the main process only"),
    ]
    if not quick:
        out.append(Case("default synthetic typology, 300 towns", setup=lambda: _data(300, 15)[0],
                        run=lambda X: _fit(X, None, 100), repeat=3, target={"median_s": 30}))
    out.append(Case(f"assign every town-year ({n} towns x {years} years)",
                    setup=lambda: (_fit(_data(n, years)[0], 1, 5), _data(n, years)[1]),
                    run=lambda s: s[0].assign(s[1]), repeat=5))
    return out + _scale_cases(quick) + _gmm_cases(quick)


def _mixture_towns(n_towns: int, seed: int = 0):
    """``n_towns`` towns with 5 features drawn from a Gaussian mixture of 6 types: weights
    ``(.3, .2, .15, .15, .1, .1)``, means ``3 e_j`` for types 1..5 (``e_j`` the j-th unit
    vector) and the origin for type 6, diagonal covariances with standard deviations drawn
    uniformly in [0.5, 1.2] (``numpy.random.default_rng(seed)``); index ``town_id`` t000000...."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    means = np.vstack([3.0 * np.eye(5), np.zeros((1, 5))])
    sds = rng.uniform(0.5, 1.2, (6, 5))
    kind = rng.choice(6, size=n_towns, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.1])
    X = means[kind] + sds[kind] * rng.standard_normal((n_towns, 5))
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(1, 6)],
                        index=pd.Index([f"t{i:06d}" for i in range(n_towns)], name="town_id"))


def _fit_gmm(X, n_boot=100, n_ref=20, n_ps=10, n_jobs=2):
    from typology import TownTypology

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TownTypology(n_types="auto", method="gmm", k_range=(2, 10), n_boot=n_boot, n_ref=n_ref, n_ps=n_ps,
                            feature_transform=None, random_state=0, n_jobs=n_jobs).fit(X)


def _gmm_cases(quick: bool) -> list[Case]:
    if quick:
        return [Case("gmm evidence, 300 towns", setup=lambda: _mixture_towns(300),
                     run=lambda X: _fit_gmm(X, n_boot=20, n_ref=5, n_ps=2), repeat=1)]
    small, big = "gmm evidence (k = 2..10, 100 boot, 20 ref, 10 ps), 1,000 towns", "gmm evidence, 20,000 towns"
    return [Case(small, setup=lambda: _mixture_towns(1_000), run=_fit_gmm, repeat=3),
            Case(big, setup=lambda: _mixture_towns(20_000), run=_fit_gmm, repeat=1, baseline=small,
                 measure_memory=False, target={"median_s": 360},
                 note="growth exponent = log(1 / ratio) / log 20")]
