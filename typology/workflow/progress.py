"""Progress lines for long work: one line per stage with its duration, on standard error."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class Progress:
    """Prints ``[i/n] stage ... done in 1.2 s`` lines; ``quiet=True`` silences them.

    :meth:`step` prints a line for a step inside a stage with the time since the previous one
    (``  read employment.csv (95.2 MB) in 1.4 s``); :meth:`note` prints ``note: ...`` lines,
    which ``quiet`` does not silence (they say what was removed, taken over or left alone).
    """

    def __init__(self, total: int | None = None, quiet: bool = False, stream=None):
        self.total = total
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.i = 0
        self._last = time.perf_counter()

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    def note(self, message: str) -> None:
        print(f"note: {message}", file=self.stream, flush=True)

    def step(self, message: str) -> None:
        """A step done, with the time since the previous step; a message ending in ``...`` is a
        step starting (printed as it is)."""
        now = time.perf_counter()
        self.say(f"  {message}" if message.endswith("...") else f"  {message} in {now - self._last:.1f} s")
        self._last = now

    @contextmanager
    def stage(self, name: str):
        self.i += 1
        head = f"[{self.i}/{self.total}]" if self.total else f"[{self.i}]"
        self.say(f"{head} {name} ...")
        t0 = self._last = time.perf_counter()
        yield
        self._last = time.perf_counter()
        self.say(f"{head} {name} done in {self._last - t0:.1f} s")
