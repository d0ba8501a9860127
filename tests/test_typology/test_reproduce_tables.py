"""``reproduce`` compares the discrete-choice tables and treats equal infinite bounds as equal."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd

from models import fit_discrete_model
from typology.workflow.pipeline import discrete_tables
from typology.workflow.runs import _compare_frames, _discrete_differences


def _panel(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, t = 60, 4
    idx = pd.MultiIndex.from_product([[f"t{i:02d}" for i in range(n)], range(2020, 2020 + t)],
                                     names=["town_id", "year"])
    x = rng.normal(size=n * t)
    y = (rng.random(n * t) < 1 / (1 + np.exp(-(0.3 + 0.8 * x)))).astype(float)
    return pd.DataFrame({"y": y, "x": x}, index=idx)


def test_equal_infinite_bounds_are_no_difference():
    a = pd.DataFrame({"ci_lower": [-np.inf, 1.0], "ci_upper": [np.inf, 2.0]})
    assert _compare_frames("coefficients", a, a.copy()) == []
    b = a.copy()
    b.loc[0, "ci_upper"] = 5.0
    diffs = _compare_frames("coefficients", a, b)
    assert len(diffs) == 1 and "ci_upper" in diffs[0]


def test_discrete_tables_are_compared(tmp_path):
    fitted = {"stag": fit_discrete_model(_panel(0), "y ~ x", model="logit")}
    for stem, frame in discrete_tables(fitted).items():
        frame.to_csv(tmp_path / f"{stem}.csv", index=False)
    same = types.SimpleNamespace(discrete=fitted)
    assert _discrete_differences(tmp_path, same) == []
    other = types.SimpleNamespace(discrete={"stag": fit_discrete_model(_panel(1), "y ~ x", model="logit")})
    diffs = _discrete_differences(tmp_path, other)
    assert any(d.startswith("discrete_coefficients") for d in diffs)
    assert any(d.startswith("marginal_effects") for d in diffs)
    none = types.SimpleNamespace(discrete={})
    assert any("discrete_coefficients" in d for d in _discrete_differences(tmp_path, none))


def test_discrete_models_keep_their_names(tmp_path):
    from typology.workflow.config import embedded_config

    cfg = embedded_config("demo", tmp_path)
    discrete = [m for m in cfg.models if m.kind != "linear"]
    assert [m.name for m in discrete] == ["stagnation"]
