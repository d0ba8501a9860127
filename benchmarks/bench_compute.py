"""Benchmarks of the compute backends: the typology's evidence for k, local against a dask cluster.

``TownTypology(n_types="auto", k_range=(2, 10), n_boot=100, n_ref=20, n_ps=10)`` on the
synthetic towns of ``benchmarks.bench_typology`` (2,500 towns, the typed ones), in the same run:

* local backend, ``n_jobs=1`` (the baseline);
* local backend, ``n_jobs=2`` (joblib's worker processes);
* dask backend on a ``LocalCluster(n_workers=2, threads_per_worker=1)`` started (and warmed up:
  the workers have imported the packages) before the timed runs.

Every run records its tasks (:func:`models.compute.task_log`): the work (sum of the task times
inside the workers: ``W_seq`` in the sequential run, ``W_dask`` on the cluster), the wall time of
the batches and the serial rest ``S`` (the fit outside the batches). The dask case's note gives
the distribution overhead at 2 workers, ``wall of the batches - W_dask / 2`` (scheduling,
serialization, the broadcast of the model-space matrix, a worker idle at the end of a batch),
and projects the fit on ``p`` workers with a core each as ``S + W_seq / p + overhead`` (the
overhead measured at 2 workers taken as fixed), bounded below by ``S`` plus the longest task of
each batch: the speed-up each added worker buys. ``W_dask / W_seq`` shows how much slower the
tasks ran in workers competing for the cores (on a shared machine, more than 1).

Quick mode: 300 towns, 20 bootstraps, one run each.
"""

from __future__ import annotations

import warnings
import weakref

from benchmarks.bench_typology import _data
from benchmarks.harness import Case


def _fit(X, n_jobs, n_boot, n_ref, n_ps):
    from typology import TownTypology

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TownTypology(n_types="auto", k_range=(2, 10), n_boot=n_boot, n_ref=n_ref, n_ps=n_ps, random_state=0,
                            n_jobs=n_jobs).fit(X)


class _Cluster:
    """A LocalCluster of 2 workers, closed when the benchmark lets go of it."""

    def __init__(self, X):
        from distributed import LocalCluster

        self.X = X
        self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        self.address = self.cluster.scheduler_address
        weakref.finalize(self, self.cluster.close)
        from models.compute import compute_backend

        with compute_backend(scheduler=self.address):  # warm-up: the workers import the packages
            _fit(X.iloc[:200], None, 2, 2, 2)


_STATS: dict[str, dict] = {}  # case name -> the task statistics of its last run


def _logged(case: Case, run, analyse=None):
    """``run(state)`` under :func:`models.compute.task_log`; the last run's analysis into ``case.note``."""
    import time

    from models.compute import task_log

    def timed(state):
        t0 = time.perf_counter()
        with task_log() as log:
            run(state)
        wall = time.perf_counter() - t0
        work = sum(b.work for b in log)
        batches = sum(b.wall for b in log)
        longest = sum(max(b.task_seconds, default=0.0) for b in log)
        stats = {"wall": wall, "work": work, "batches": batches, "serial": wall - batches, "longest": longest,
                 "tasks": sum(b.n_tasks for b in log), "broadcast": sum(b.broadcast_bytes for b in log)}
        _STATS[case.name] = stats
        case.note = analyse(stats, _STATS) if analyse else (f"{stats['tasks']} tasks, work {work:.1f} s, "
                                                    f"serial rest {stats['serial']:.1f} s")
    return timed


def _projection(s: dict, stats: dict) -> str:
    """Overhead at 2 workers and the projected wall time on p workers (see the module docstring).

    ``W_seq``: the sum of the task times of the sequential local run (a task alone on its core);
    ``W_dask``: the same tasks' times inside the 2 dask workers (longer when the workers compete
    for the cores with other work). Overhead = wall of the dask batches - ``W_dask / 2``: what
    distribution adds (scheduling, serialization, broadcast, a worker idle at the end of a batch).
    Projection on p workers with a core each: ``serial + W_seq / p + overhead``, never below the
    serial rest plus the longest task of each batch."""
    one = next((v for k, v in stats.items() if k.endswith("local n_jobs=1")), None)
    w_seq = one["work"] if one else s["work"]
    overhead = s["batches"] - s["work"] / 2
    floor = s["serial"] + s["longest"] * w_seq / max(s["work"], 1e-9)
    proj = {p: max(s["serial"] + w_seq / p + overhead, floor) for p in (1, 2, 4, 8, 16, 32)}
    gains = ", ".join(f"{p}: {t:.1f} s" for p, t in proj.items())
    return (f"{s['tasks']} tasks; W_seq {w_seq:.1f} s, W_dask {s['work']:.1f} s (x{s['work'] / max(w_seq, 1e-9):.2f}), "
            f"dask batches {s['batches']:.1f} s, serial rest {s['serial']:.1f} s, broadcast "
            f"{s['broadcast'] / 2**20:.1f} MiB; overhead at 2 workers {overhead:.1f} s ({overhead / s['wall']:.0%} of "
            f"the wall time); projected wall time by workers {gains} (floor {floor:.1f} s)")


def cases(quick: bool) -> list[Case]:
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("[compute] dask.distributed is not installed (pip install nordtowns[dask]): skipped")
        return []
    n, years, boot, ref, ps, rep = (300, 10, 20, 5, 3, 1) if quick else (2500, 10, 100, 20, 10, 2)
    head = f"typology evidence, {n} towns, n_boot={boot}"
    base = f"{head}, local n_jobs=1"

    def local(n_jobs):
        return lambda X: _fit(X, n_jobs, boot, ref, ps)

    def on_dask(state):
        from models.compute import compute_backend

        with compute_backend(scheduler=state.address):
            _fit(state.X, None, boot, ref, ps)

    one = Case(base, setup=lambda: _data(n, years)[0], run=local(1), repeat=rep, measure_memory=False)
    one.run = _logged(one, local(1))
    def warm_pool():  # joblib's worker processes started (and kept) before the timed runs
        X = _data(n, years)[0]
        _fit(X.iloc[:200], 2, 2, 2, 2)
        return X

    two = Case(f"{head}, local n_jobs=2", setup=warm_pool, run=local(2), repeat=rep,
               baseline=base, measure_memory=False)
    two.run = _logged(two, local(2))
    dask = Case(f"{head}, dask LocalCluster 2 workers", setup=lambda: _Cluster(_data(n, years)[0]),
                run=on_dask, repeat=rep, baseline=base, measure_memory=False)
    dask.run = _logged(dask, on_dask, _projection)
    return [one, two, dask]
