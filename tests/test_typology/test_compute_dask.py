"""The typology, its run folders and the experiments on a dask cluster give the local numbers exactly.

The cluster is the session's LocalCluster of 2 worker processes (``dask_cluster`` in
tests/conftest.py; skipped when dask is not installed), reached by its ``tcp://`` address as a
real cluster is. The ``[compute]`` section and ``--scheduler`` are checked without it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.base import clone

from features import build_features
from models.compute import ComputeBackend, compute_backend, task_log
from typology import TownTypology, TypologyWarning, town_rows, transitions
from typology.cli import main
from typology.data.io import write_dataset
from typology.workflow.config import ConfigError, parse_config
from typology.workflow.montecarlo import monte_carlo_design, run_monte_carlo
from typology.workflow.runs import load_manifest, reproduce_run

FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
OLD_MODEL = Path(__file__).with_name("data") / "typology_before_backend.nordtowns"
# the run folder's tables compared exactly between a local run and a run on the cluster
TABLES = ("types.csv", "selection.csv", "stability.csv", "coefficients.csv", "transitions_lower.csv",
          "transitions_upper.csv", "transitions_stay.csv", "profile_tests.csv", "surrogate_rules.csv")
CONFIG = """
[data]
path = "ds"

[typology]
features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
k_range = [2, 5]
n_boot = 12
n_ref = 4
n_ps = 3
random_state = 0

[[models]]
name = "wages"
formula = "log(avg_wage) ~ corp_share + core_control_share"
estimator = "within"
effects = "twoway"
cov_type = "wild_bootstrap"
cluster = "entity"
bootstrap_reps = 99
"""


@pytest.fixture
def dask_address(dask_cluster):
    return dask_cluster.scheduler_address


@pytest.fixture(scope="module")
def features(small_synthetic):
    return build_features(small_synthetic.data)


@pytest.fixture(scope="module")
def X(features):
    return town_rows(features, "last")[FEATURES].dropna()


@pytest.fixture(scope="module")
def local_fit(X):
    with pytest.warns(TypologyWarning):  # weak structure of 40 towns
        return TownTypology(k_range=(2, 5), n_boot=12, n_ref=4, n_ps=3, random_state=0).fit(X)


def _same_typology(a: TownTypology, b: TownTypology) -> None:
    pd.testing.assert_series_equal(a.labels_, b.labels_)
    assert a.n_types_ == b.n_types_ and a.type_names_ == b.type_names_
    pd.testing.assert_frame_equal(a.selection_, b.selection_, check_exact=True)
    pd.testing.assert_frame_equal(a.stability_, b.stability_, check_exact=True)
    pd.testing.assert_series_equal(a.confidence_, b.confidence_, check_exact=True)
    assert a.selection_reason_ == b.selection_reason_


# --------------------------------------------------------------------------- [compute]
@pytest.mark.parametrize(("compute", "message"), [
    ({"backend": "spark"}, r'\[compute\] backend: expected one of "local", "dask"; found \'spark\''),
    ({"scheduler": "http://host:8786"}, r'\[compute\] scheduler: expected a dask scheduler address "tcp://host:port"'),
    ({"scheduler": "local:0"}, r"\[compute\] scheduler: expected .*found 'local:0'"),
    ({"n_workers": 0}, r"\[compute\] n_workers: expected an integer >= 1; found 0"),
    ({"backend": "local", "scheduler": "tcp://h:8786"}, r'\[compute\] scheduler: .* is for backend = "dask"'),
    ({"scheduler": "local:2", "n_workers": 3}, r"\[compute\] n_workers: is 3 but scheduler = 'local:2' starts 2"),
    ({"workers": 2}, r"unknown key\(s\) \['workers'\] in \[compute\]"),
])
def test_compute_section_is_checked_key_by_key(compute, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"data": {"path": "x"}, "compute": compute})


def test_compute_section_is_information_recorded_only_when_set():
    plain = parse_config({"data": {"path": "x"}})
    assert plain.to_dict()["compute"] == {"n_jobs": None} and plain.compute.backend_spec() is None
    cfg = parse_config({"data": {"path": "x"}, "compute": {"scheduler": "tcp://10.0.0.5:8786", "n_workers": 4}})
    assert cfg.to_dict()["compute"] == {"n_jobs": None, "backend": "dask", "scheduler": "tcp://10.0.0.5:8786",
                                        "n_workers": 4}
    assert cfg.compute.backend_spec() == ComputeBackend("dask", "tcp://10.0.0.5:8786", 4)
    assert parse_config(cfg.to_dict()) == cfg
    assert "backend" not in cfg.typology.to_dict() and cfg.typology.kwargs()["backend"] is None


# --------------------------------------------------------------------------- the estimator
def test_backend_is_a_parameter_set_in_init_only(X):
    t = TownTypology(backend="dask")
    assert t.get_params()["backend"] == "dask" and clone(t).backend == "dask"
    assert TownTypology().backend is None
    with pytest.raises(ValueError, match="compute backend must be one of local, dask; found 'spark'"):
        TownTypology(backend="spark", n_types=3, n_boot=0, n_ref=0, n_ps=0).fit(X)


@pytest.mark.parametrize("backend", ["local", ComputeBackend("local", n_workers=1)])
def test_backend_is_saved_with_the_typology(X, tmp_path, backend):
    t = TownTypology(n_types=3, n_boot=2, n_ref=0, n_ps=0, random_state=0, backend=backend).fit(X)
    t.save(tmp_path / "t.nordtowns")
    assert TownTypology.load(tmp_path / "t.nordtowns").get_params()["backend"] == backend


def test_typology_fitted_before_the_backend_existed_still_loads(X):
    """``data/typology_before_backend.nordtowns`` was saved by the code before ``backend``
    existed (commit 8ea2cd7) with::

        from typology import TownTypology, generate, town_rows
        from features import build_features
        s = generate(n_towns=40, n_years=6, seed=3, world=1)
        X = town_rows(build_features(s.data), 'last')[FEATURES].dropna()
        TownTypology(n_types=3, n_boot=5, n_ref=0, n_ps=0, random_state=0).fit(X).save(...)
    """
    old = TownTypology.load(OLD_MODEL)
    assert old.get_params()["backend"] is None and old.n_types_ == 3
    pd.testing.assert_series_equal(old.predict(X), old.labels_.reindex(X.index))
    again = TownTypology(n_types=3, n_boot=5, n_ref=0, n_ps=0, random_state=0).fit(X)
    pd.testing.assert_series_equal(again.labels_, old.labels_)


@pytest.mark.filterwarnings("ignore::typology.TypologyWarning")  # weak structure of 40 towns: the same on both
def test_typology_on_dask_equals_the_local_fit(X, local_fit, dask_address):
    with compute_backend("dask", scheduler=dask_address), task_log() as log:
        ambient = TownTypology(k_range=(2, 5), n_boot=12, n_ref=4, n_ps=3, random_state=0).fit(X)
    _same_typology(local_fit, ambient)
    assert {b.backend for b in log} == {"dask"} and sum(b.n_tasks for b in log) >= 12 + 4 + 3
    # a backend given to the estimator: connects for the fit; "local" inside a dask block stays local
    given = TownTypology(k_range=(2, 5), n_boot=12, n_ref=4, n_ps=3, random_state=0,
                         backend=ComputeBackend("dask", dask_address)).fit(X)
    _same_typology(local_fit, given)
    with compute_backend("dask", scheduler=dask_address), task_log() as log:
        local = TownTypology(k_range=(2, 5), n_boot=12, n_ref=4, n_ps=3, random_state=0, backend="local").fit(X)
    _same_typology(local_fit, local)
    assert {b.backend for b in log} == {"local"}


def test_transitions_bootstrap_on_dask_equals_local(X, local_fit, features, dask_address):
    panel = features.loc[features.index.get_level_values("town_id").isin(X.index), FEATURES]
    a = transitions(local_fit, panel, n_boot=300, random_state=4)
    with compute_backend("dask", scheduler=dask_address), task_log() as log:
        b = transitions(local_fit, panel, n_boot=300, random_state=4)
    for name in ("lower", "upper", "stay"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert [(x.name, x.n_tasks) for x in log] == [("_boot_chunk", 3)]  # 128 + 128 + 44 replicates


def test_monte_carlo_on_dask_equals_local(dask_address):
    design = monte_carlo_design(n_towns=40, n_years=6, data_seed=3, n_regions=6)
    a = run_monte_carlo(n_reps=3, seed=2, design=design, bootstrap_reps=99)
    with compute_backend("dask", scheduler=dask_address), task_log() as log:
        b = run_monte_carlo(n_reps=3, seed=2, design=design, bootstrap_reps=99)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert [(x.name, x.backend, x.n_tasks) for x in log] == [("_one_rep", "dask", 3)]


# --------------------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def run_config(tmp_path_factory, small_synthetic):
    d = tmp_path_factory.mktemp("compute")
    write_dataset(small_synthetic.data, d / "ds")
    (d / "config.toml").write_text(CONFIG, encoding="utf-8")
    return d / "config.toml"


def test_run_folder_with_scheduler_equals_the_local_one(run_config, dask_address, capsys, monkeypatch):
    d = run_config.parent
    assert main(["fit", str(run_config), "--out", str(d / "local"), "--quiet"]) == 0
    assert main(["fit", str(run_config), "--out", str(d / "dask"), "--scheduler", dask_address]) == 0
    err = capsys.readouterr().err
    assert f"dask scheduler {dask_address} with 2 workers" in err
    for table in TABLES:
        a, b = (d / "local" / table).read_bytes(), (d / "dask" / table).read_bytes()
        assert a == b, f"{table} differs between the local run and the run on the cluster"
    coef = pd.read_csv(d / "dask" / "coefficients.csv")
    assert coef["pvalue"].between(0, 1).all()  # the wild bootstrap's p-values, compared above
    m = load_manifest(d / "dask")
    assert m["config"]["compute"] == {"n_jobs": None, "backend": "dask", "scheduler": dask_address}
    assert load_manifest(d / "local")["config"]["compute"] == {"n_jobs": None}
    assert m["summary"] == load_manifest(d / "local")["summary"]

    def refuse(*args, **kwargs):
        raise AssertionError("reproduce must not connect to the scheduler the run used")

    monkeypatch.setattr("models.compute._dask_client", refuse)
    assert reproduce_run(d / "dask", quiet=True) == []


def test_unreachable_scheduler_exits_1_with_a_message(run_config, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("models.compute.CONNECT_TIMEOUT", 1.0)
    out = run_config.parent / "never"
    assert main(["fit", str(run_config), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("typology: cannot reach the dask scheduler tcp://127.0.0.1:9 within 1 s")
    assert "Traceback" not in err and not out.exists()


def test_scheduler_option_is_checked(run_config, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(run_config), "--out", "x", "--scheduler", "http://host:8786"])
    assert exc.value.code == 2
    assert "--scheduler: expected a dask scheduler address" in capsys.readouterr().err
    for command in (["demo"], ["experiment", "monte_carlo"]):
        with pytest.raises(SystemExit) as exc:
            main([*command, "--scheduler", "local:0"])
        assert exc.value.code == 2
