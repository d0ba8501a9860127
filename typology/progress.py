"""Progress lines for long work: one line per stage with its duration, on standard error."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class Progress:
    """Prints ``[i/n] stage ... done in 1.2 s`` lines; ``quiet=True`` silences it."""

    def __init__(self, total: int | None = None, quiet: bool = False, stream=None):
        self.total = total
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.i = 0

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    @contextmanager
    def stage(self, name: str):
        self.i += 1
        head = f"[{self.i}/{self.total}]" if self.total else f"[{self.i}]"
        self.say(f"{head} {name} ...")
        t0 = time.perf_counter()
        yield
        self.say(f"{head} {name} done in {time.perf_counter() - t0:.1f} s")
