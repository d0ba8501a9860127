"""A case of ours and its pyfixest baseline, measured in the same run on the same frame.

pyfixest is warm: its setup calls it once on the data before the timed runs (its first call
loads and compiles what it needs). The frame is built once and shared: flat for pyfixest,
indexed by (town_id, year) for ours. The target of our case: a ratio (pyfixest / ours) of at
least 1 and a peak of at most twice the input arrays (``input_mib``).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from benchmarks.harness import Case


def pyfixest_pair(make_frame: Callable[[], pd.DataFrame], theirs: Callable, ours: Callable, base: str, name: str,
                  repeat: int, input_mib: float) -> list[Case]:
    """``[baseline, ours]``: ``theirs(flat)`` (pyfixest) and ``ours(indexed)`` (this package)."""
    state = {}

    def setup():
        if "flat" not in state:
            state["flat"] = make_frame()
            state["indexed"] = state["flat"].set_index(["town_id", "year"])
        return state

    def warm_setup():
        s = setup()
        theirs(s["flat"])  # warm-up, not timed
        return s

    return [
        Case(base, lambda s: theirs(s["flat"]), warm_setup, repeat=repeat, note="warm (one call before timing)"),
        Case(name, lambda s: ours(s["indexed"]), setup, repeat=repeat, baseline=base,
             note=f"target: ratio >= 1, peak <= {2 * input_mib:.0f} MiB (2x the input arrays)",
             target={"speedup": 1.0, "peak_mib": 2 * input_mib}),
    ]
