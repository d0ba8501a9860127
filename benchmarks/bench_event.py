"""Benchmarks of the event studies: our Callaway-Sant'Anna against the ``csdid`` package.

Both cases estimate ATT(g, t) on the same simulated staggered panel (20,000 towns x 20 years,
cohorts 2004-2016 and never-treated towns; quick mode 2,000 x 10), not-yet-treated comparison,
doubly robust without covariates, with 999 multiplier-bootstrap draws (Mammen weights) for the
ATT(g, t) cells, then the dynamic (event-time) aggregation with its own bootstrap. The baseline
is ``csdid.att_gt.ATTgt(...).fit(est_method="dr", bstrap=True)`` followed by
``aggte(typec="dynamic")`` (csdid 0.4.3, a port of R ``did``, a bench extra only: ``pip install
csdid``); ours is ``models.event_study(data, "y", "g", n_boot=999)`` (all four aggregations and
the uniform bands of each). The issue's target: under a minute on 2 cores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.harness import Case


def _panel(n_towns: int, n_years: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2000 + n_years)
    cohorts = np.concatenate([[0], years[4:-3]])
    g = rng.choice(cohorts, size=n_towns)
    e = years[None, :] - g[:, None]
    effect = np.where((g[:, None] > 0) & (e >= 0), 0.05 * (1 + e), 0.0)
    y = rng.normal(size=(n_towns, 1)) + 0.1 * np.arange(n_years)[None, :] + effect + rng.normal(size=(n_towns, n_years))
    return pd.DataFrame({"town_id": np.repeat(np.arange(n_towns), n_years), "year": np.tile(years, n_towns),
                         "y": y.ravel(), "g": np.repeat(g, n_years)})


def cases(quick: bool) -> list[Case]:
    n_towns, n_years = (2_000, 10) if quick else (20_000, 20)
    size = f"{n_towns}x{n_years}"
    state = {}

    def setup():
        if "data" not in state:
            state["data"] = _panel(n_towns, n_years)
        return state["data"]

    def ours(data):
        from models import event_study

        return event_study(data.set_index(["town_id", "year"]), "y", "g", n_boot=999, random_state=0)

    def csdid(data):
        import warnings

        from csdid.att_gt import ATTgt

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = ATTgt(yname="y", tname="year", idname="town_id", gname="g", data=data,
                      control_group="notyettreated", biters=999).fit(est_method="dr", bstrap=True)
            m.aggte(typec="dynamic", biters=999)
        return m

    repeat = 3
    base = f"csdid ATTgt + aggte dynamic, 999 boot ({size})"
    return [
        Case(base, csdid, setup, repeat=repeat),
        Case(f"models.event_study callaway_santanna, 999 boot ({size})", ours, setup, repeat=repeat,
             baseline=base, note="target: < 60 s on 2 cores", target={"median_s": 60}),
    ]
