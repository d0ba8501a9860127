"""Run the benchmarks: ``python -m benchmarks.run [--quick] [--only AREA ...] [--match TEXT ...]``.

Each ``benchmarks/bench_<area>.py`` module contributes cases; the table of medians, peak
memory and ratios against baselines measured in the same run is printed and written to
``bench_results/results.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from dataclasses import asdict
from pathlib import Path

from benchmarks.harness import measure, table

AREAS = ("features", "typology", "models", "hdfe", "ppml", "event", "spatial", "spatial_models", "compute",
         "registry", "startup")


def _selected(cases: list, match: list[str] | None) -> list:
    """The cases whose name contains one of ``match`` (all without it), with their baselines."""
    if not match:
        return cases
    chosen = {c.name for c in cases if any(m in c.name for m in match)}
    chosen |= {c.baseline for c in cases if c.name in chosen and c.baseline}
    return [c for c in cases if c.name in chosen]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, to check that the benchmarks run")
    ap.add_argument("--only", nargs="*", choices=AREAS, help="areas to run (default all)")
    ap.add_argument("--match", nargs="*", metavar="TEXT",
                    help="run only the cases whose name contains one of these texts (and their baselines)")
    ap.add_argument("--out", default="bench_results/results.json")
    args = ap.parse_args(argv)
    results = []
    for area in args.only or AREAS:
        try:
            mod = importlib.import_module(f"benchmarks.bench_{area}")
        except ModuleNotFoundError:
            print(f"[{area}] no benchmark module", file=sys.stderr)
            continue
        print(f"[{area}]", flush=True)
        for case in _selected(mod.cases(quick=args.quick), args.match):
            results.append(measure(case, log=lambda m: print(m, flush=True)))
    text = table(results)
    print()
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([asdict(r) for r in results], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
