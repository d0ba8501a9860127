"""The Monte Carlo experiment runs, is reproducible whatever n_jobs, and its summary is coherent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from typology.workflow.montecarlo import TERMS, monte_carlo_design, run_monte_carlo


@pytest.fixture(scope="module")
def design():
    return monte_carlo_design(n_towns=40, n_years=6, data_seed=3, n_regions=6)


def test_tiny_run(design):
    out = run_monte_carlo(n_reps=4, seed=1, design=design, bootstrap_reps=99)
    assert len(out) == 12
    assert set(out.index.get_level_values("term")) == set(TERMS)
    assert set(out.index.get_level_values("method")) == {"CRV1 by town", "CRV1 by region", "WCR bootstrap by region"}
    assert (out["n_reps"] == 4).all()
    assert out["coverage"].between(0, 1).all()
    # rmse^2 = bias^2 + (n-1)/n sd^2 exactly
    n = 4
    np.testing.assert_allclose(out["rmse"] ** 2, out["bias"] ** 2 + (n - 1) / n * out["sd_estimate"] ** 2, rtol=1e-10)
    assert out.attrs["n_regions"] == 6 and design.groupby("region").size().is_monotonic_decreasing


def test_same_result_whatever_n_jobs(design):
    a = run_monte_carlo(n_reps=3, seed=5, design=design, bootstrap_reps=99, n_jobs=1)
    b = run_monte_carlo(n_reps=3, seed=5, design=design, bootstrap_reps=99, n_jobs=2)
    pd.testing.assert_frame_equal(a, b)


def test_rejects_bad_reps(design):
    with pytest.raises(ValueError, match="n_reps"):
        run_monte_carlo(n_reps=0, design=design)
