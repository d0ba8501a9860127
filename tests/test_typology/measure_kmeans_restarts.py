"""How many k-means restarts find the best partition: the measurement behind ``n_init="auto"``.

Run from the repository root (about 10 minutes on one core)::

    PYTHONPATH=$PWD python tests/test_typology/measure_kmeans_restarts.py [out_dir]

It writes the model-space matrix ``Z`` of four synthetic typology inputs to ``out_dir`` (default
a temporary folder), runs R's ``kmeans`` on each when ``Rscript`` is on the path (the best
``tot.withinss`` of ``kmeans(Z, k, nstart = 200, iter.max = 100)`` over ``set.seed(1..20)``,
i.e. 4,000 Hartigan-Wong starts), and prints, per data set and k,

* ``R``: R's best ``W_k``; ``best``: the best ``W_k`` of 300 of our restarts;
* ``old10``: share of 200 seeds in which the former rule (10 k-means++ starts, Lloyd only)
  reaches R's best ``W_k`` to 1e-6 (relative);
* ``n=10, 20, 50, 100``: the same share for the full-data fit with ``n`` restarts (half
  k-means++, half grown from the best partition at k - 1, every restart refined by Hartigan's
  transfers: ``typology.estimator.clustering``); ``20k``: the default rule, ``20 k`` restarts at k;
* the mean ``log W_k`` excess over the best known of the gap statistic's reference sets with
  the former rule and with the current one (20 restarts, the best refined).

The numbers are copied into ``docs/typology.md`` ("Restarts"); the R values of the first data
set are stored in ``data/r/references.json`` (``make_r_references.py``) and pinned in
``test_typology_restarts.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

R_SCRIPT = """
Z <- as.matrix(read.csv("{csv}", header = FALSE))
for (k in 2:10) {{
  best <- min(sapply(1:20, function(s) {{ set.seed(s); kmeans(Z, k, nstart = 200, iter.max = 100)$tot.withinss }}))
  cat(k, sprintf("%.10f", best), "\\n")
}}
"""
COLS = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
KS = tuple(range(2, 11))


def typology_input(seed: int, typed_only: bool) -> np.ndarray:
    """``Z`` of the README's typology input: last year, the five default features, transformed
    and scaled as ``TownTypology.fit`` does (rows in town_id order)."""
    import features
    import typology
    from typology.estimator.transforms import fit_plan

    synth = typology.generate(seed=seed, world=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = features.build_features(synth.data)
    kinds = synth.truth["town_types"]
    sample = [t for t, k in kinds.items() if k not in ("core", "rural")] if typed_only else None
    X = typology.town_rows(panel, "last", sample=sample)[COLS]
    X = X.iloc[np.argsort(np.asarray(X.index.astype(str)), kind="stable")]
    plan = fit_plan(COLS, X.to_numpy(float), "auto", "standard", 0.01)
    return plan.transform(X.to_numpy(float), clip=False)[0]


def r_best(csv: Path) -> dict[int, float] | None:
    if shutil.which("Rscript") is None:
        return None
    out = subprocess.run(["Rscript", "-e", R_SCRIPT.format(csv=csv)], capture_output=True, text=True, check=True)
    return {int(a): float(b) for a, b in (line.split() for line in out.stdout.strip().splitlines())}


def old_rule(Z: np.ndarray, k: int, seed: int) -> float:
    from typology.estimator.clustering import kmeans_plus_plus, lloyd

    rngs = [np.random.default_rng([seed, k, r]) for r in range(10)]
    return float(lloyd(Z, kmeans_plus_plus(Z, k, rngs))[1].min())


def current(Z: np.ndarray, n, seed: int, refine: str = "all") -> dict[int, float]:
    from typology.estimator.clustering import cluster_all_k
    from typology.estimator.selection import _seeds

    parts = cluster_all_k(Z, KS, "kmeans", lambda k: _seeds(seed, 0, k, 0, n), refine=refine)
    return {k: parts[k].within for k in KS}


def main(out_dir: Path) -> None:
    from typology.estimator.indices import gap_reference
    from typology.estimator.selection import AUTO_RESTARTS

    sets = {"300 typed towns, seed 0 (the issue's input)": (0, True), "300 typed towns, seed 1": (1, True),
            "300 typed towns, seed 2": (2, True), "all 457 towns, seed 0 (README example)": (0, False)}
    seeds = range(200)
    for label, (seed, typed) in sets.items():
        Z = typology_input(seed, typed)
        csv = out_dir / f"Z_seed{seed}_{'typed' if typed else 'all'}.csv"
        np.savetxt(csv, Z, delimiter=",", fmt="%.17g")
        best = current(Z, 300, 10**6)
        ref = r_best(csv) or best
        hit = {}
        hit["old10"] = {k: np.mean([old_rule(Z, k, s) <= ref[k] * (1 + 1e-6) for s in seeds]) for k in KS}
        for n in (10, 20, 50, 100, AUTO_RESTARTS["kmeans"]["fit"]):
            runs = [current(Z, n, s) for s in seeds]
            name = f"n={n}" if isinstance(n, int) else f"{n[0]}k"
            hit[name] = {k: np.mean([r[k] <= ref[k] * (1 + 1e-6) for r in runs]) for k in KS}
        print(f"\n{label}: {Z.shape[0]} towns")
        print("k   R best W_k       ours (300)       " + "  ".join(f"{c:>6}" for c in hit))
        for k in KS:
            print(f"{k:<3} {ref[k]:<16.10f} {best[k]:<16.10f} " + "  ".join(f"{hit[c][k]:6.3f}" for c in hit))
        if seed == 0 and typed:  # the gap statistic's reference sets
            excess_old, excess_new = [], []
            for b in range(10):
                R = gap_reference(Z, np.random.default_rng([7, b]))
                top = current(R, 300, 10**6 + b)
                excess_old.append([np.log(old_rule(R, k, 100 + b) / top[k]) for k in KS])
                now = current(R, 20, 200 + b, refine="best")
                excess_new.append([np.log(now[k] / top[k]) for k in KS])
            print("gap reference sets, mean log W_k excess over the best of 300 restarts (k = 2..10):")
            print("  former rule (10 k-means++ starts, Lloyd):", np.round(np.mean(excess_old, axis=0), 4))
            print("  current rule (20 restarts, best refined):", np.round(np.mean(excess_new, axis=0), 4))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    target.mkdir(parents=True, exist_ok=True)
    main(target)
