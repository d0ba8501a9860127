"""Benchmark of Poisson pseudo-maximum likelihood with two absorbed effects against pyfixest, in
the same run.

``y ~ x1 + x2 + x3`` with town and year effects (``absorb=("town_id", "year")``), errors
clustered by town (CRV1), on a panel of 50,000 towns x 20 years = 1,000,000 rows (quick mode
2,000 x 10). The outcome is a Poisson count, ``y ~ Poisson(exp(a_town + g_year + x b))``
with town effects spread so that about a third of the counts are zero (and a few towns have
only zeros: both fits drop them). Ours: ``fit_panel_model(data, PanelModelSpec(formula,
estimator="ppml", absorb=("town_id", "year"), cov_type="clustered", cluster="town_id"))`` on
the frame indexed by (town_id, year) (parsing, missing-value, singleton and separation checks,
IRLS, CRV1 and fit statistics included). pyfixest 0.60.0 (the ``bench`` extra):
``pf.fepois("y ~ x1 + x2 + x3 | town_id + year", data=flat, vcov={"CRV1": "town_id"})`` with
its defaults (``fixef_tol=1e-6``, ``iwls_tol=1e-8``; ours ``fe_tol=1e-8``, deviance tolerance
1e-8) on the same columns without the index, warm (the ``setup`` calls it once before the timed
runs). The ratio column reads ``pyfixest median / ours``: above 1 means we are faster.

Peak memory as in :mod:`benchmarks.bench_hdfe` (tracemalloc, and the RSS column). The input
arrays are the six columns the model reads (y, x1, x2, x3, town_id, year) as 8-byte numbers:
48 bytes a row, 45.8 MiB at 1,000,000 rows; the target is a peak at most twice that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.harness import Case

FORMULA = "y ~ x1 + x2 + x3"
EFFECTS = ("town_id", "year")
PYFIXEST_FORMULA = f"{FORMULA} | {' + '.join(EFFECTS)}"
BETA = np.array([0.3, -0.2, 0.1])


def _counts(n_towns: int, n_years: int, seed: int = 0) -> pd.DataFrame:
    """A town-year panel of Poisson counts with town and year effects and three regressors."""
    rng = np.random.default_rng(seed)
    town = np.repeat(np.arange(n_towns), n_years)
    t = np.tile(np.arange(n_years), n_towns)
    X = rng.normal(size=(len(town), 3))
    eta = np.repeat(rng.normal(-0.5, 1.2, size=n_towns), n_years) + 0.05 * t + X @ BETA
    y = rng.poisson(np.exp(eta)).astype(np.float64)
    return pd.DataFrame({"town_id": town, "year": 2000 + t, "y": y, "x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2]})


def _cases(n_towns: int, n_years: int, repeat: int) -> list[Case]:
    size = f"{n_towns * n_years:,} rows"
    state = {}
    input_mib = n_towns * n_years * 6 * 8 / 2**20

    def setup():
        if "flat" not in state:
            state["flat"] = _counts(n_towns, n_years)
            state["indexed"] = state["flat"].set_index(["town_id", "year"])
        return state

    def pyfixest_setup():
        import pyfixest as pf

        s = setup()
        pf.fepois(PYFIXEST_FORMULA, data=s["flat"], vcov={"CRV1": "town_id"})  # warm-up, not timed
        return s

    def pyfixest(s):
        import pyfixest as pf

        return pf.fepois(PYFIXEST_FORMULA, data=s["flat"], vcov={"CRV1": "town_id"})

    def ours(s):
        from models import PanelModelSpec, fit_panel_model

        return fit_panel_model(s["indexed"], PanelModelSpec(FORMULA, estimator="ppml", absorb=EFFECTS,
                                                            cov_type="clustered", cluster="town_id"))

    base = f"pyfixest fepois 2 effects, CRV1 ({size})"
    return [
        Case(base, pyfixest, pyfixest_setup, repeat=repeat, note="warm (one call before timing)"),
        Case(f"models ppml absorb 2 effects, CRV1 ({size})", ours, setup, repeat=repeat, baseline=base,
             note=f"target: ratio >= 1, peak <= {2 * input_mib:.0f} MiB (2x the input arrays)",
             target={"speedup": 1.0, "peak_mib": 2 * input_mib}),
    ]


def cases(quick: bool) -> list[Case]:
    if quick:
        return _cases(2_000, 10, 3)
    return _cases(50_000, 20, 5)
