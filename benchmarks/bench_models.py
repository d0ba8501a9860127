"""Benchmarks of the panel models: our within fit with clustered errors against linearmodels.

Both cases fit ``y ~ x1 + x2 + x3`` with town effects and errors clustered by town on the
same DataFrame (20,000 towns x 20 years = 400,000 town-years; quick mode 2,000 x 10), in the
same run. The linearmodels baseline is the direct call
``PanelOLS(y, X, entity_effects=True).fit(cov_type="clustered", cluster_entity=True)``;
ours is ``fit_panel_model(data, PanelModelSpec(formula))`` (formula parsing, dropped-row
and singleton checks, CRV1, R-squared within / between / overall included). The ratio
column reads ``baseline median / ours``: above 1 means we are faster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.harness import Case


def _panel(n_towns: int, n_years: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([[f"{i:08d}" for i in range(n_towns)], np.arange(2000, 2000 + n_years)],
                                     names=["town_id", "year"])
    n = len(idx)
    X = rng.normal(size=(n, 3))
    alpha = np.repeat(rng.normal(size=n_towns), n_years)
    y = alpha + X @ np.array([0.5, -0.2, 0.1]) + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2]}, index=idx)


def cases(quick: bool) -> list[Case]:
    n_towns, n_years = (2_000, 10) if quick else (20_000, 20)
    size = f"{n_towns}x{n_years}"
    state = {}

    def setup():
        if "data" not in state:
            state["data"] = _panel(n_towns, n_years)
        return state["data"]

    def ours(data):
        from models import PanelModelSpec, fit_panel_model

        return fit_panel_model(data, PanelModelSpec("y ~ x1 + x2 + x3", estimator="within", effects="entity",
                                                    cov_type="clustered", cluster="entity"))

    def linearmodels(data):
        from linearmodels import PanelOLS

        return PanelOLS(data["y"], data[["x1", "x2", "x3"]], entity_effects=True).fit(
            cov_type="clustered", cluster_entity=True)

    repeat = 3 if quick else 5
    return [
        Case(f"linearmodels PanelOLS within, clustered ({size})", linearmodels, setup, repeat=repeat),
        Case(f"models.fit_panel_model within, clustered ({size})", ours, setup, repeat=repeat,
             baseline=f"linearmodels PanelOLS within, clustered ({size})",
             note="target: overhead <= 10% (ratio >= 0.91)", target={"speedup": 0.91}),
    ]
