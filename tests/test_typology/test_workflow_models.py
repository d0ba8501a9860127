"""``[[models]]`` of a run config with absorbed effects, instruments and PPML: fitted by
``typology fit``, written (coefficients, regression table, IV diagnostics), shown in the report,
and reproduced."""

from __future__ import annotations

import pandas as pd
import pytest

from typology.cli import main
from typology.data.io import write_dataset

CONFIG = """
[data]
path = "data"

[features]
groups = ["specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics"]

[typology]
features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
period = "last"
n_types = 4
random_state = 0

[[models]]
name = "wages_hdfe"
formula = "log(avg_wage) ~ corp_share + core_control_share"
absorb = ["town_id", "region^year"]
cluster = "town_id"

[[models]]
name = "wages_iv"
formula = "log(avg_wage) ~ core_control_share | town_id + year | corp_share ~ largest_employer_share + n_groups"
cluster = "town_id"

[[models]]
name = "population_ppml"
formula = "population ~ corp_share + core_control_share"
estimator = "ppml"
absorb = "town_id + year"
cluster = "town_id"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory, small_synthetic):
    root = tmp_path_factory.mktemp("models_run")
    write_dataset(small_synthetic.data, root / "data", truth=small_synthetic.truth)
    (root / "config.toml").write_text(CONFIG)
    assert main(["fit", str(root / "config.toml"), "--out", str(root / "run"), "--quiet"]) == 0
    return root / "run"


def test_new_models_are_fitted_written_and_reported(run):
    coef = pd.read_csv(run / "coefficients.csv")
    assert set(coef["model"]) == {"wages_hdfe", "wages_iv", "population_ppml"}
    table = (run / "regression_table.txt").read_text()
    for text in ("town_id + region^year", "within IV (2SLS)", "PPML", "First-stage F", "Pseudo R-squared"):
        assert text in table
    iv = pd.read_csv(run / "iv_tests.csv")
    assert set(iv["model"]) == {"wages_iv"} and "Hansen J" in set(iv["test"])
    report = (run / "report.md").read_text()
    assert "Instrumental variables (iv_tests.csv)" in report and "First-stage F" in report


def test_reproduce_is_identical(run, capsys):
    assert main(["reproduce", str(run)]) == 0
    assert "reproduced identically" in capsys.readouterr().out
