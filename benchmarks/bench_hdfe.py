"""Benchmarks of absorbed (high-dimensional) fixed effects against pyfixest, in the same run.

``y ~ x1 + x2`` with town, year and region-by-year effects (``| town_id + year +
region^year``), errors clustered by town (CRV1), on a panel of 20,000 towns x 20 years =
400,000 rows and 200,000 x 20 = 4,000,000 rows (80 regions, 1,600 region-years; quick mode
2,000 x 10). Ours: ``fit_panel_model(data, PanelModelSpec(formula, cov_type="clustered",
cluster="town_id"))`` on the frame indexed by (town_id, year) (parsing, missing-value and
singleton checks, demeaning, CRV1, R-squared included). pyfixest 0.60.0 (the ``bench`` extra):
``pf.feols(formula, data=flat, vcov={"CRV1": "town_id"})`` with its defaults (Rust demeaner,
``fixef_tol=1e-6``; ours runs at ``fe_tol=1e-8``) on the same columns without the index. It
is warm: the ``setup`` calls it once on the data before the timed runs (its first call loads
and compiles what it needs). The ratio column reads ``pyfixest median / ours``: above 1 means
we are faster.

Peak memory is tracemalloc's (numpy and pandas buffers; pyfixest's Rust allocations are not
seen, so its column understates it) and the peak resident set size above the size before the
run (the RSS column: every allocator, pages touched only). The input arrays are the six columns the model reads
(y, x1, x2, town_id, year, region) as 8-byte numbers: 48 bytes a row, 18.3 MiB at 400,000
rows and 183 MiB at 4,000,000; the target is a peak at most twice that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.harness import Case

FORMULA = "y ~ x1 + x2 | town_id + year + region^year"


def _panel(n_towns: int, n_years: int, n_regions: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    town = np.repeat(np.arange(n_towns), n_years)
    t = np.tile(np.arange(n_years), n_towns)
    region = town % n_regions
    X = rng.normal(size=(len(town), 2))
    y = (np.repeat(rng.normal(size=n_towns), n_years) + rng.normal(size=(n_regions, n_years))[region, t]
         + X @ np.array([0.5, -0.2]) + rng.normal(size=len(town)))
    return pd.DataFrame({"town_id": town, "year": 2000 + t, "region": region, "y": y, "x1": X[:, 0], "x2": X[:, 1]})


def _cases(n_towns: int, n_years: int, repeat: int) -> list[Case]:
    size = f"{n_towns * n_years:,} rows"
    state = {}
    input_mib = n_towns * n_years * 6 * 8 / 2**20

    def setup():
        if "flat" not in state:
            state["flat"] = _panel(n_towns, n_years)
            state["indexed"] = state["flat"].set_index(["town_id", "year"])
        return state

    def pyfixest_setup():
        import pyfixest as pf

        s = setup()
        pf.feols(FORMULA, data=s["flat"], vcov={"CRV1": "town_id"})  # warm-up, not timed
        return s

    def pyfixest(s):
        import pyfixest as pf

        return pf.feols(FORMULA, data=s["flat"], vcov={"CRV1": "town_id"})

    def ours(s):
        from models import PanelModelSpec, fit_panel_model

        return fit_panel_model(s["indexed"], PanelModelSpec(FORMULA, cov_type="clustered", cluster="town_id"))

    base = f"pyfixest feols 3 effects, CRV1 ({size})"
    return [
        Case(base, pyfixest, pyfixest_setup, repeat=repeat, note="warm (one call before timing)"),
        Case(f"models within absorb 3 effects, CRV1 ({size})", ours, setup, repeat=repeat, baseline=base,
             note=f"target: ratio >= 1, peak <= {2 * input_mib:.0f} MiB (2x the input arrays)",
             target={"speedup": 1.0, "peak_mib": 2 * input_mib}),
    ]


def cases(quick: bool) -> list[Case]:
    if quick:
        return _cases(2_000, 10, 3)
    return _cases(20_000, 20, 5) + _cases(200_000, 20, 3)
