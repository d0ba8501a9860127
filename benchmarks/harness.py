"""Benchmark harness: median wall time of repeated runs, peak memory, ratio to a baseline.

A benchmark module ``benchmarks/bench_<area>.py`` defines ``cases(quick: bool) -> list[Case]``.
Each case has a ``setup`` (not timed, returns the state) and a ``run(state)`` (timed). Timing
runs come first, without any tracing; peak memory is then measured in one more run with
``tracemalloc`` (numpy and pandas report their buffers to it), so it is the memory the run
itself allocates on top of its inputs. On Linux one more run measures the peak resident set
size above the size before the run (``VmHWM - VmRSS`` of ``/proc/self/status``, the peak reset
through ``/proc/self/clear_refs``): it also sees memory that tracemalloc does not (a compiled
extension's own allocator, e.g. pyfixest's Rust code) and counts only pages touched. A case may
name a ``baseline`` case measured in the same session; the table reports ``baseline median /
case median``.
"""

from __future__ import annotations

import ctypes
import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Case:
    name: str
    run: Callable[[Any], Any]
    setup: Callable[[], Any] = lambda: None
    repeat: int = 5
    baseline: str | None = None
    note: str = ""
    measure_memory: bool = True
    target: dict = field(default_factory=dict)  # e.g. {"median_s": 30, "peak_mib": 4096, "speedup": 20}


@dataclass
class Result:
    name: str
    median_s: float
    min_s: float
    runs: int
    peak_mib: float | None
    baseline: str | None = None
    rss_mib: float | None = None
    ratio: float | None = None
    note: str = ""
    target: dict = field(default_factory=dict)


def _status_mib(key: str) -> float:
    """A memory line of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MiB."""
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith(key + ":"))
    return int(line.split()[1]) / 1024


def _release_free_memory() -> None:
    """Give the memory the C allocator holds free back to the system (glibc's ``malloc_trim``),
    so that the pages an earlier run freed are not reused unseen by the measured run."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_peak(run: Callable[[Any], Any], state: Any) -> float | None:
    """Peak resident set size of one call of ``run(state)`` above the size before it (MiB), or
    ``None`` where ``/proc/self/clear_refs`` cannot reset the peak (not Linux)."""
    _release_free_memory()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current VmRSS
        before = _status_mib("VmRSS")
    except OSError:
        return None
    run(state)
    return max(_status_mib("VmHWM") - before, 0.0)


def measure(case: Case, log=print) -> Result:
    state = case.setup()
    times = []
    for i in range(case.repeat):
        gc.collect()
        t0 = time.perf_counter()
        case.run(state)
        times.append(time.perf_counter() - t0)
        log(f"  {case.name}: run {i + 1}/{case.repeat} {times[-1]:.3f} s")
    peak = None
    if case.measure_memory:
        gc.collect()
        tracemalloc.start()
        case.run(state)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    rss = None
    if case.measure_memory and os.path.exists("/proc/self/clear_refs"):
        gc.collect()
        rss = rss_peak(case.run, state)
    del state
    gc.collect()
    return Result(case.name, statistics.median(times), min(times), len(times), peak, case.baseline, rss, None,
                  case.note, case.target)


def table(results: list[Result]) -> str:
    by = {r.name: r for r in results}
    for r in results:
        if r.baseline and r.baseline in by:
            r.ratio = by[r.baseline].median_s / r.median_s
    head = (f"{'case':58} {'median s':>10} {'min s':>9} {'runs':>5} {'peak MiB':>9} {'RSS MiB':>8} "
            f"{'speedup vs baseline':>22}")
    lines = [head, "-" * len(head)]
    for r in results:
        ratio = f"{r.ratio:8.2f}x ({r.baseline})" if r.ratio else ""
        peak = f"{r.peak_mib:9.0f}" if r.peak_mib is not None else f"{'-':>9}"
        rss = f"{r.rss_mib:8.0f}" if r.rss_mib is not None else f"{'-':>8}"
        lines.append(f"{r.name[:58]:58} {r.median_s:10.3f} {r.min_s:9.3f} {r.runs:5d} {peak} {rss} {ratio:>22}")
    return "\n".join(lines)
