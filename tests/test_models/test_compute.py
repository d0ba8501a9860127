"""The compute backends of models.compute: local joblib and dask.distributed give the same numbers.

The dask tests share the session's LocalCluster of 2 worker processes (``dask_cluster`` in
tests/conftest.py; skipped when dask is not installed) and reach it by its ``tcp://`` address,
as a real cluster is reached. Every comparison is exact: the tasks, their seeds and their
one-thread arithmetic are the same wherever they run.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import models
from models import PanelModelSpec, fit_panel_model, wild_cluster_bootstrap
from models.compute import (
    ComputeBackend,
    ComputeBackendError,
    compute_backend,
    current_backend,
    run_tasks,
    scheduler_problem,
    task_log,
)
from models.event.bootstrap import bootstrap_draws
from models.exceptions import BootstrapWarning

HERE = Path(__file__).parent


def _sum_plus(a, i):
    return float(a.sum()) + i


def _fails_on_two(i):
    if i == 2:
        raise ValueError(f"task {i} refuses")
    return i


def _dies(i):
    os._exit(3)  # the worker process ends without a word, as one killed for its memory does


@pytest.fixture
def dask_address(dask_cluster):
    return dask_cluster.scheduler_address


# --------------------------------------------------------------------------- the spec
@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tls://scheduler.example.org:8786", "tcp://node17",
                                     "tcp://[::1]:8786", "local:1", "local:16"])
def test_scheduler_addresses_accepted(address):
    assert scheduler_problem(address) is None
    assert ComputeBackend("dask", address).scheduler == address


@pytest.mark.parametrize("address", ["http://host:8786", "local:0", "local", "tcp://", "host:8786", "tcp://a b:1", 8786])
def test_scheduler_addresses_refused(address):
    assert "tcp://host:port" in scheduler_problem(address)
    with pytest.raises(ValueError, match="scheduler"):
        ComputeBackend("dask", address)


def test_backend_spec_is_checked():
    with pytest.raises(ValueError, match="must be one of local, dask; found 'spark'"):
        ComputeBackend("spark")
    with pytest.raises(ValueError, match="needs the dask backend"):
        ComputeBackend("local", "tcp://h:1")
    with pytest.raises(ValueError, match="n_workers must be an integer >= 1"):
        ComputeBackend("dask", n_workers=0)
    with pytest.raises(ValueError, match="starts 2 workers but n_workers is 3"):
        ComputeBackend("dask", "local:2", 3)
    assert ComputeBackend.of(None) is None and ComputeBackend.of("dask") == ComputeBackend("dask")
    assert models.compute_backend is compute_backend and models.ComputeBackend is ComputeBackend
    with pytest.raises(ValueError, match="backend must be None, 'local', 'dask' or a ComputeBackend"):
        ComputeBackend.of(2)


# --------------------------------------------------------------------------- local
def test_local_runs_in_order_and_reports_progress():
    a = np.arange(10.0)
    tasks = [(a, i) for i in range(5)]
    seen = []
    one = run_tasks(_sum_plus, tasks, progress=lambda i, n: seen.append((i, n)))
    assert one == [45.0 + i for i in range(5)]  # n_jobs > 1: tests/test_typology/test_montecarlo.py
    assert seen == [(i, 5) for i in range(1, 6)]
    assert current_backend().kind == "local"
    with compute_backend("local", n_workers=2) as b, task_log() as log:
        assert b.describe() == "local (2 workers)" and run_tasks(_sum_plus, tasks) == one
    assert [(x.backend, x.n_tasks, len(x.task_seconds)) for x in log] == [("local", 5, 5)]
    assert current_backend().kind == "local"


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ComputeBackendError, match=r"pip install 'nordtowns\[dask\]'"):
        with compute_backend("dask", scheduler="local:1"):
            pass


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("models.compute.CONNECT_TIMEOUT", 1.0)
    with pytest.raises(ComputeBackendError, match=r"cannot reach the dask scheduler tcp://127\.0\.0\.1:9 within 1 s"):
        with compute_backend(scheduler="tcp://127.0.0.1:9"):
            pass
    assert current_backend().kind == "local"


# --------------------------------------------------------------------------- dask
def test_dask_gives_the_local_results_in_order_and_broadcasts_shared_arrays(dask_address):
    a = np.arange(100_000.0)  # 800 kB, shared by every task: sent to each worker once
    tasks = [(a, i) for i in range(6)]
    local = run_tasks(_sum_plus, tasks)
    seen = []
    with compute_backend(scheduler=dask_address) as b, task_log() as log:
        assert b.describe() == f"dask scheduler {dask_address} with 2 workers"
        assert run_tasks(_sum_plus, tasks, progress=lambda i, n: seen.append(i)) == local
        assert run_tasks(_sum_plus, []) == []
    assert sorted(seen) == [1, 2, 3, 4, 5, 6]
    assert (log[0].backend, log[0].n_tasks, log[0].n_broadcast, log[0].broadcast_bytes) == ("dask", 6, 1, a.nbytes)
    assert len(log[0].task_seconds) == 6 and log[0].work > 0


def test_a_failing_task_raises_its_own_error_on_dask(dask_address):
    with compute_backend(scheduler=dask_address), pytest.raises(ValueError, match="task 2 refuses"):
        run_tasks(_fails_on_two, [(i,) for i in range(4)])


def test_event_study_bootstrap_is_identical_on_dask(dask_address):
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(2000, 8)) / 2000  # 128 kB: broadcast to the workers
    local = bootstrap_draws(phi, 300, random_state=11)
    with compute_backend(scheduler=dask_address), task_log() as log:
        dist = bootstrap_draws(phi, 300, random_state=11)
    np.testing.assert_array_equal(dist, local)
    assert (log[0].n_tasks, log[0].n_broadcast) == (3, 1)  # chunks of 128, 128 and 44 draws

    panel = pd.read_csv(HERE / "data" / "event_panel.csv", dtype={"town_id": str}).set_index(["town_id", "year"])
    a = models.event_study(panel, "y", "g", n_boot=199, random_state=5)
    with compute_backend(scheduler=dask_address):
        b = models.event_study(panel, "y", "g", n_boot=199, random_state=5)
    pd.testing.assert_frame_equal(a.dynamic, b.dynamic, check_exact=True)
    assert a.crit_value == b.crit_value


def test_wild_bootstrap_is_identical_on_dask(dask_address, grunfeld):
    """Webb weights on 10 firms: 6^10 vectors, so 399 are drawn (not enumerated); one task per term."""
    spec = PanelModelSpec("inv ~ value + capital", cov_type="wild_bootstrap", cluster="entity",
                          bootstrap_weights="webb", bootstrap_reps=399, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BootstrapWarning)
        local = fit_panel_model(grunfeld, spec)
        tab = wild_cluster_bootstrap(local, reps=299, weights="webb", random_state=1, level=0.9)
        with compute_backend(scheduler=dask_address), task_log() as log:
            dist = fit_panel_model(grunfeld, spec)
            tab_d = wild_cluster_bootstrap(dist, reps=299, weights="webb", random_state=1, level=0.9)
    assert not local.bootstrap.attrs["enumerated"]
    pd.testing.assert_frame_equal(local.bootstrap, dist.bootstrap, check_exact=True)
    pd.testing.assert_series_equal(local.pvalues, dist.pvalues, check_exact=True)
    pd.testing.assert_frame_equal(tab, tab_d, check_exact=True)
    assert [(x.name, x.backend, x.n_tasks) for x in log] == [("_term_task", "dask", 2)] * 2


def test_a_dead_worker_is_a_clear_error(dask_cluster, dask_address):
    """Last of the module: a worker process dies (its nanny starts another)."""
    with compute_backend(scheduler=dask_address) as b:
        with pytest.raises(ComputeBackendError, match=r"failed while running 1 _dies tasks .*a worker died"):
            run_tasks(_dies, [(0,)])
        b.client.wait_for_workers(2, timeout=120)
