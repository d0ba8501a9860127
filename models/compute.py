"""Where the resamplings run: local workers (joblib) or a dask.distributed cluster, same numbers.

Every resampling of the toolkit (the typology's k selection and stability, the bootstrap of the
transitions, the wild cluster bootstrap, the event studies' multiplier bootstrap, the Monte
Carlo experiments) is a list of independent tasks ``fn(*args)`` whose random draws come from a
seed addressed by a fixed key (the task's replicate or chunk number, never the worker that runs
it, nor how many workers there are). :func:`run_tasks` maps the tasks, in order, on the
*ambient* backend, which :func:`compute_backend` sets for the duration of a ``with`` block
(a :mod:`contextvars` variable, so threads and asynchronous code each see their own)::

    from models import compute_backend
    with compute_backend("dask", scheduler="tcp://10.0.0.5:8786"):   # or "local:4"
        typ = TownTypology(random_state=0).fit(X)

Backends (:class:`ComputeBackend`):

``local`` (the default)
    joblib: ``n_jobs`` None or 1 runs the tasks in this process, more starts joblib's worker
    processes (loky). This is what the toolkit always did.
``dask``
    a ``dask.distributed.Client``: connected to a running scheduler (``tcp://host:port`` or
    ``tls://host:port``), or to a ``LocalCluster(n_workers=N, threads_per_worker=1)`` started
    for the duration of the block (``local:N``), or with neither, to the client of an enclosing
    dask block or the one the caller already made (``distributed.Client(...)``), else a
    LocalCluster of ``n_workers`` (default: one per core). Arguments shared by several tasks and larger than :data:`BROADCAST_BYTES`
    (the model-space matrix of the typology, the influence matrix of an event study, the design
    of a Monte Carlo) are sent to every worker once (``Client.scatter(broadcast=True)``)
    instead of once per task; the results are gathered in task order. A task that raises
    re-raises its own exception here (as in a local run); a worker that dies, a scheduler that
    goes away or cannot be reached is a :class:`ComputeBackendError` naming the address.

Determinism. Each task runs with one BLAS / OpenMP thread (:func:`threadpoolctl.threadpool_limits`),
so its arithmetic does not depend on how many tasks share a machine, and its seed does not
depend on where it runs: the local and the dask backends give identical numbers, bit for bit,
when the workers run the same versions of numpy, scipy and scikit-learn on the same kind of
CPU (BLAS libraries choose their kernels by CPU).

dask is an optional dependency (``pip install nordtowns[dask]``), imported only when a dask
backend is entered.
"""

from __future__ import annotations

import contextvars
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from threadpoolctl import threadpool_limits

__all__ = ["BROADCAST_BYTES", "CONNECT_TIMEOUT", "KINDS", "ActiveBackend", "ComputeBackend", "ComputeBackendError",
           "TaskBatch", "compute_backend", "current_backend", "run_tasks", "scheduler_problem", "task_log"]

KINDS = ("local", "dask")
#: an argument shared by several tasks is sent to the dask workers once when it is at least this large
BROADCAST_BYTES = 64 * 1024
#: seconds to reach a dask scheduler, and to wait for its first worker (or ``n_workers`` of them)
CONNECT_TIMEOUT = 10.0
WORKER_TIMEOUT = 60.0
_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?$")
_LOCAL_N = re.compile(r"^local:([0-9]+)$")
_MISSING = ("the dask backend needs dask.distributed, an optional dependency: pip install 'nordtowns[dask]' "
            "(or pip install 'dask[distributed]')")


class ComputeBackendError(RuntimeError):
    """The distributed backend cannot run the tasks: dask is not installed, the scheduler cannot
    be reached, a worker died. The message names the address and what to do."""


def scheduler_problem(address) -> str | None:
    """None when ``address`` is a scheduler address this module accepts, else what was expected:
    ``tcp://host:port``, ``tls://host:port`` (dask's default port 8786 when none is given) or
    ``local:N`` (a LocalCluster of ``N >= 1`` workers started here)."""
    expected = ('a dask scheduler address "tcp://host:port" or "tls://host:port", or "local:N" (a LocalCluster '
                "of N >= 1 workers started for the run)")
    if not isinstance(address, str):
        return expected
    m = _LOCAL_N.match(address)
    if m:
        return None if int(m.group(1)) >= 1 else expected
    return None if _ADDRESS.match(address) else expected


@dataclass(frozen=True)
class ComputeBackend:
    """Where :func:`run_tasks` sends the tasks: a frozen, picklable description (no connection).

    Parameters
    ----------
    kind : {"local", "dask"}
    scheduler : str or None
        dask only: ``"tcp://host:port"`` / ``"tls://host:port"`` (a running scheduler) or
        ``"local:N"`` (a LocalCluster of N single-threaded worker processes for the duration of
        the ``with`` block); None: the client the caller already made, else a LocalCluster of
        ``n_workers``.
    n_workers : int or None
        local: joblib workers when the caller gives no ``n_jobs``; dask: workers of the
        LocalCluster started without an address, or the workers to wait for at a remote
        scheduler before the first task (default 1).
    """

    kind: str = "local"
    scheduler: str | None = None
    n_workers: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"compute backend must be one of {', '.join(KINDS)}; found {self.kind!r}")
        if self.n_workers is not None and (not isinstance(self.n_workers, int) or isinstance(self.n_workers, bool)
                                           or self.n_workers < 1):
            raise ValueError(f"n_workers must be an integer >= 1 or None; found {self.n_workers!r}")
        if self.scheduler is None:
            return
        if self.kind != "dask":
            raise ValueError(f"a scheduler address ({self.scheduler!r}) needs the dask backend; found kind {self.kind!r}")
        problem = scheduler_problem(self.scheduler)
        if problem:
            raise ValueError(f"scheduler: expected {problem}; found {self.scheduler!r}")
        m = _LOCAL_N.match(self.scheduler)
        if m and self.n_workers is not None and self.n_workers != int(m.group(1)):
            raise ValueError(f"scheduler {self.scheduler!r} starts {m.group(1)} workers but n_workers is "
                             f"{self.n_workers}; give one of them")

    @classmethod
    def of(cls, value) -> ComputeBackend | None:
        """``value`` as a backend: None stays None (the ambient one), ``"local"`` / ``"dask"`` a
        backend of that kind, a :class:`ComputeBackend` itself."""
        if value is None or isinstance(value, ComputeBackend):
            return value
        if isinstance(value, str):
            return cls(kind=value)
        raise ValueError(f"backend must be None, 'local', 'dask' or a ComputeBackend; found {value!r}")

    @property
    def local_cluster_workers(self) -> int | None:
        """Workers of the LocalCluster this backend starts (``local:N``), None when it starts none."""
        m = _LOCAL_N.match(self.scheduler or "")
        return int(m.group(1)) if m else None


@dataclass(frozen=True)
class ActiveBackend:
    """The backend in force: its :class:`ComputeBackend` and, for dask, the client and address."""

    spec: ComputeBackend
    client: Any = None
    address: str | None = None

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def n_workers(self) -> int:
        """Workers now connected (dask) or the local workers (``spec.n_workers``, 1 if unset)."""
        if self.client is None:
            return self.spec.n_workers or 1
        return len(self.client.scheduler_info().get("workers", {}))

    def describe(self) -> str:
        """``dask scheduler tcp://127.0.0.1:8786 with 2 workers`` (or ``local``)."""
        if self.client is None:
            return "local" + (f" ({self.spec.n_workers} workers)" if self.spec.n_workers else "")
        n = self.n_workers
        started = " (LocalCluster started for the run)" if self.spec.local_cluster_workers else ""
        return f"dask scheduler {self.address} with {n} worker{'s' if n != 1 else ''}{started}"


@dataclass
class TaskBatch:
    """One call of :func:`run_tasks` as :func:`task_log` records it: the task function's name,
    the backend kind, the number of tasks, the wall time of the call, the time of each task
    inside its worker (seconds, in task order) and the arguments broadcast (count, bytes)."""

    name: str
    backend: str
    n_tasks: int
    wall: float
    task_seconds: tuple[float, ...] = ()
    n_broadcast: int = 0
    broadcast_bytes: int = 0

    @property
    def work(self) -> float:
        """Sum of the task times: the wall time of the batch on one worker without overhead."""
        return float(sum(self.task_seconds))


_LOCAL = ActiveBackend(ComputeBackend())
_AMBIENT: contextvars.ContextVar[ActiveBackend] = contextvars.ContextVar("nordtowns_compute_backend", default=_LOCAL)
_LOG: contextvars.ContextVar[list | None] = contextvars.ContextVar("nordtowns_task_log", default=None)


def current_backend() -> ActiveBackend:
    """The backend :func:`run_tasks` uses here (local unless inside :func:`compute_backend`)."""
    return _AMBIENT.get()


@contextmanager
def compute_backend(backend: str | ComputeBackend | None = None, scheduler: str | None = None,
                    n_workers: int | None = None) -> Iterator[ActiveBackend]:
    """Run every resampling inside the block on ``backend``; yields the :class:`ActiveBackend`.

    ``backend``: ``"local"``, ``"dask"`` or a :class:`ComputeBackend` (then ``scheduler`` and
    ``n_workers`` must be None); None: ``"dask"`` when a ``scheduler`` is given, else
    ``"local"``. A dask backend connects on entry (a :class:`ComputeBackendError` when the
    scheduler cannot be reached within :data:`CONNECT_TIMEOUT` seconds or dask is not
    installed) and on exit closes what it opened (the client, the LocalCluster of ``local:N``),
    never a client the caller made.

    Examples
    --------
    >>> with compute_backend("dask", scheduler="local:2") as b:      # doctest: +SKIP
    ...     print(b.describe())
    dask scheduler tcp://127.0.0.1:40227 with 2 workers (LocalCluster started for the run)
    """
    if isinstance(backend, ComputeBackend):
        if scheduler is not None or n_workers is not None:
            raise ValueError("give either a ComputeBackend or scheduler / n_workers, not both")
        spec = backend
    else:
        spec = ComputeBackend(kind=backend or ("dask" if scheduler else "local"), scheduler=scheduler,
                              n_workers=n_workers)
    if spec.kind == "local":
        token = _AMBIENT.set(ActiveBackend(spec))
        try:
            yield _AMBIENT.get()
        finally:
            _AMBIENT.reset(token)
        return
    with _dask_client(spec) as (client, address):
        token = _AMBIENT.set(ActiveBackend(spec, client, address))
        try:
            yield _AMBIENT.get()
        finally:
            _AMBIENT.reset(token)


@contextmanager
def task_log() -> Iterator[list[TaskBatch]]:
    """Record every :func:`run_tasks` call inside the block as a :class:`TaskBatch` (the list
    yielded fills up as the block runs). Sum of task times against wall time is the measure of
    the distribution's overhead and of the speed-up more workers can give."""
    batches: list[TaskBatch] = []
    token = _LOG.set(batches)
    try:
        yield batches
    finally:
        _LOG.reset(token)


# --------------------------------------------------------------------------- running
def _one_thread(fn: Callable, *args):
    with threadpool_limits(limits=1):
        return fn(*args)


def _timed(fn: Callable, *args) -> tuple[Any, float]:
    """``(fn(*args), seconds)`` with one BLAS / OpenMP thread."""
    with threadpool_limits(limits=1):
        t0 = time.perf_counter()
        out = fn(*args)
        return out, time.perf_counter() - t0


def run_tasks(fn: Callable, tasks: Sequence[tuple], n_jobs: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> list:
    """``[fn(*t) for t in tasks]``, in order, on the ambient backend (see :func:`compute_backend`).

    Local: ``n_jobs`` joblib workers (None: the local backend's ``n_workers``, unset = 1 =
    sequential). Sequential runs hold one BLAS / OpenMP thread for the whole batch; in joblib
    workers each task limits itself to one thread. Dask: ``n_jobs`` is ignored (the cluster's
    workers run the tasks), shared large arguments are broadcast once. ``progress(done, total)``
    is called as tasks finish. The result does not depend on the backend nor on ``n_jobs``.
    """
    tasks = list(tasks)
    active = _AMBIENT.get()
    log = _LOG.get()
    t0 = time.perf_counter()
    if active.client is not None and tasks:
        out, seconds, n_b, b_bytes = _run_dask(active.client, fn, tasks, progress)
    else:
        n_jobs = active.spec.n_workers if n_jobs is None else n_jobs
        out, seconds = _run_local(fn, tasks, n_jobs, progress, timed=log is not None)
        n_b = b_bytes = 0
    if log is not None:
        log.append(TaskBatch(getattr(fn, "__name__", "task"), active.kind, len(tasks), time.perf_counter() - t0,
                             tuple(seconds), n_b, b_bytes))
    return out


def _run_local(fn, tasks, n_jobs, progress, timed: bool) -> tuple[list, list]:
    n = len(tasks)
    if n_jobs in (None, 1) or n <= 1:
        out, seconds = [], []
        with threadpool_limits(limits=1):
            for i, t in enumerate(tasks, start=1):
                if timed:
                    s = time.perf_counter()
                    out.append(fn(*t))
                    seconds.append(time.perf_counter() - s)
                else:
                    out.append(fn(*t))
                if progress is not None:
                    progress(i, n)
        return out, seconds
    from joblib import Parallel, delayed

    wrap = _timed if timed else _one_thread
    jobs = (delayed(wrap)(fn, *t) for t in tasks)
    if progress is None:
        res = Parallel(n_jobs=n_jobs)(jobs)
    else:
        res = []
        for i, r in enumerate(Parallel(n_jobs=n_jobs, return_as="generator")(jobs), start=1):
            res.append(r)
            progress(i, n)
    if timed:
        return [r[0] for r in res], [r[1] for r in res]
    return res, []


# --------------------------------------------------------------------------- dask
def _distributed():
    try:
        import distributed
    except ImportError:
        raise ComputeBackendError(_MISSING) from None
    return distributed


@contextmanager
def _dask_client(spec: ComputeBackend):
    """``(client, address)`` for ``spec``; closes on exit what it opened."""
    distributed = _distributed()
    if spec.scheduler is None and spec.n_workers is None:
        ambient = _AMBIENT.get()
        if ambient.client is not None:  # inside another dask block: its client
            yield ambient.client, ambient.address
            return
        try:
            client = distributed.default_client()
        except ValueError:
            client = None
        if client is not None:  # the caller's own client: used, never closed
            yield client, client.scheduler.address
            return
    n_local = spec.local_cluster_workers
    if spec.scheduler is None:
        import os

        n_local = spec.n_workers or os.cpu_count() or 1
    cluster = client = None
    try:
        if n_local is not None:
            cluster = distributed.LocalCluster(n_workers=n_local, threads_per_worker=1, processes=True,
                                               dashboard_address=None)
            client = distributed.Client(cluster, set_as_default=False)
        else:
            client = _connect(distributed, spec)
        yield client, (client.scheduler.address if cluster is None else cluster.scheduler_address)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _connect(distributed, spec: ComputeBackend):
    address = spec.scheduler
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ComputeBackendError(
            f"cannot reach the dask scheduler {address} within {CONNECT_TIMEOUT:g} s ({_first_line(exc)}); "
            "check that the scheduler runs (dask scheduler, or your cluster's job) and that this machine can "
            "connect to its address and port") from None
    want = spec.n_workers or 1
    try:
        client.wait_for_workers(want, timeout=WORKER_TIMEOUT)
    except (OSError, TimeoutError):
        have = len(client.scheduler_info().get("workers", {}))
        client.close()
        raise ComputeBackendError(f"the dask scheduler {address} has {have} worker(s) after {WORKER_TIMEOUT:g} s, "
                                  f"{want} needed; start workers (dask worker {address} --nthreads 1) or lower "
                                  "[compute] n_workers") from None
    return client


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _nbytes(obj, depth: int = 0) -> int:
    """Approximate size of ``obj`` in bytes: arrays and pandas objects by their data, containers
    and plain objects by their items (a few levels deep)."""
    nb = getattr(obj, "nbytes", None)
    if isinstance(nb, int):
        return nb
    if hasattr(obj, "memory_usage") and hasattr(obj, "index"):  # pandas
        try:
            usage = obj.memory_usage(deep=False)
            return int(usage.sum()) if hasattr(usage, "sum") else int(usage)
        except (TypeError, ValueError):
            pass
    if depth >= 3:
        return sys.getsizeof(obj)
    if isinstance(obj, dict):
        return sum(_nbytes(v, depth + 1) for v in obj.values())
    if isinstance(obj, list | tuple | set | frozenset):
        return sum(_nbytes(v, depth + 1) for v in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return sum(_nbytes(v, depth + 1) for v in vars(obj).values())
    return sys.getsizeof(obj)


def _shared(tasks: list[tuple]) -> dict[int, Any]:
    """id -> argument, for the arguments passed to at least two tasks and at least
    :data:`BROADCAST_BYTES` large."""
    seen: dict[int, Any] = {}
    count: dict[int, int] = {}
    for t in tasks:
        for a in {id(a): a for a in t}.values():
            if a is None or isinstance(a, bool | int | float | str | bytes):
                continue
            seen[id(a)] = a
            count[id(a)] = count.get(id(a), 0) + 1
    return {i: a for i, a in seen.items() if count[i] >= 2 and _nbytes(a) >= BROADCAST_BYTES}


@dataclass
class _Batch:
    futures: list = field(default_factory=list)
    scattered: dict = field(default_factory=dict)


def _run_dask(client, fn, tasks: list[tuple], progress) -> tuple[list, list, int, int]:
    distributed = _distributed()
    name = getattr(fn, "__name__", "task")
    shared = _shared(tasks)
    batch = _Batch()
    try:
        if shared:
            futs = client.scatter(list(shared.values()), broadcast=True, hash=False)
            batch.scattered = dict(zip(shared, futs, strict=True))
        token = uuid.uuid4().hex[:8]
        batch.futures = [client.submit(_timed, fn, *[batch.scattered.get(id(a), a) for a in t],
                                       key=f"{name}-{token}-{i}", pure=False) for i, t in enumerate(tasks)]
        if progress is not None:
            for i, _ in enumerate(distributed.as_completed(batch.futures, loop=client.loop), start=1):
                progress(i, len(tasks))
        res = client.gather(batch.futures)
    except _worker_failures(distributed) as exc:
        raise ComputeBackendError(
            f"the dask cluster at {client.scheduler.address} failed while running {len(tasks)} {name} tasks "
            f"({_first_line(exc)}): a worker died (out of memory?) or the scheduler went away; the run stopped, "
            "nothing was computed from partial results") from None
    finally:
        client.cancel(batch.futures + list(batch.scattered.values()))
    return [r[0] for r in res], [r[1] for r in res], len(shared), sum(_nbytes(a) for a in shared.values())


def _worker_failures(distributed) -> tuple[type[BaseException], ...]:
    """Exceptions of the cluster itself (not of a task): a worker lost too often, a closed
    connection, futures cancelled because the scheduler went away."""
    import asyncio
    import concurrent.futures

    from distributed.comm.core import CommClosedError

    return (distributed.KilledWorker, CommClosedError, asyncio.CancelledError, concurrent.futures.CancelledError)
