"""Shared fixtures: the embedded synthetic dataset, generated once per test session."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def synthetic():
    """The static synthetic world (``world=1``: 300 towns, 15 years, seed 0) with its truth: the
    typology's and the models' reference values were computed on it. The embedded dataset of
    the demo is ``generate()``, world 2 (its tests are in tests/test_typology/test_synth.py)."""
    from typology.data.synth import generate

    return generate(world=1)


@pytest.fixture(scope="session")
def small_synthetic():
    """A small synthetic dataset (40 towns, 6 years, ``world=1``) for quick tests."""
    from typology.data.synth import generate

    return generate(n_towns=40, n_years=6, seed=3, world=1)


@pytest.fixture(scope="session")
def synthetic_features(synthetic):
    from features import build_features

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_features(synthetic.data)


@pytest.fixture(scope="session")
def shared_data():
    """Path of ../shared/data; tests that need it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The run folder of ``typology demo`` (what ``make demo`` writes), made once per session."""
    from typology.cli import main

    root = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(root / "runs" / "demo"), "--data", str(root / "data"), "--quiet"]) == 0
    return root / "runs" / "demo"


@pytest.fixture(scope="session")
def dask_cluster():
    """A dask.distributed LocalCluster of 2 single-threaded worker processes, shared by the tests of
    the distributed backend (starting one costs seconds); skipped when dask is not installed. A
    task that loses its worker fails at once (``allowed-failures`` 0), so that the test of a dying
    worker is quick."""
    distributed = pytest.importorskip("distributed", reason="the dask backend needs pip install nordtowns[dask]")
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield cluster
    cluster.close()
