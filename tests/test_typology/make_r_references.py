"""Write the inputs of the R reference values and compute them: ``data/r/references.json``.

Run from the repository root (about two minutes, most of it R's 36,000 k-means starts)::

    PYTHONPATH=$PWD python tests/test_typology/make_r_references.py

It writes three input matrices to ``tests/test_typology/data/r/`` (CSV, no header, ``%.17g``:
every double exactly, so R reads the very numbers the tests use):

* ``typology_input_z.csv``: the model-space matrix ``Z`` of the issue's typology input (the
  embedded synthetic dataset, seed 0, last year, typed towns, the five default features,
  ``TownTypology``'s automatic transforms and standard scaling, rows in town_id order);
* ``line_and_blobs.csv``: three Gaussian blobs in 3-D and twelve towns on a line;
* ``gap_input.csv``: three Gaussian blobs in 2-D (30 towns),

then runs ``Rscript tests/test_typology/data/r/references.R tests/test_typology/data/r``, which
writes ``references.json`` (values, calls, R and package versions) and
``gap_reference_sets.csv``. The tests compare their inputs with these files before using the
reference values.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent / "data" / "r"
FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]


def typology_input() -> np.ndarray:
    """``Z`` of the issue's typology input, as ``TownTypology.fit`` builds it."""
    import features
    import typology
    from typology.estimator.transforms import fit_plan

    synth = typology.generate(seed=0, world=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = features.build_features(synth.data)
    kinds = synth.truth["town_types"]
    X = typology.town_rows(panel, "last", sample=[t for t, k in kinds.items() if k not in ("core", "rural")])
    X = X[FEATURES]
    X = X.iloc[np.argsort(np.asarray(X.index.astype(str)), kind="stable")]
    plan = fit_plan(FEATURES, X.to_numpy(float), "auto", "standard", 0.01)
    return plan.transform(X.to_numpy(float), clip=False)[0]


def line_and_blobs() -> np.ndarray:
    """Three Gaussian blobs in 3-D and twelve towns on a line (two coordinates constant)."""
    rng = np.random.default_rng(0)
    blobs = [rng.normal(c, 1.0, (60, 3)) for c in ([0, 0, 0], [8, 0, 0], [0, 8, 0])]
    line = np.column_stack([rng.normal(0, 1.0, 12), np.full(12, 0.0), np.full(12, 8.0)])
    return np.vstack(blobs + [line])


def gap_input() -> np.ndarray:
    """Three Gaussian blobs in 2-D, ten towns each."""
    rng = np.random.default_rng(2001)
    return np.vstack([rng.normal(c, 1.0, (10, 2)) for c in ([0, 0], [6, 0], [0, 6])])


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for name, Z in {"typology_input_z": typology_input(), "line_and_blobs": line_and_blobs(),
                    "gap_input": gap_input()}.items():
        np.savetxt(HERE / f"{name}.csv", Z, delimiter=",", fmt="%.17g")
    if shutil.which("Rscript") is None:
        sys.exit("Rscript is not on the path: the inputs are written, the reference values are not")
    subprocess.run(["Rscript", str(HERE / "references.R"), str(HERE)], check=True)


if __name__ == "__main__":
    main()
