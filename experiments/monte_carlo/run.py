"""Run the Monte Carlo of the panel estimators and print its summary.

    python experiments/monte_carlo/run.py [--reps 200] [--seed 0] [--jobs 1] [--out results.csv]
"""

from __future__ import annotations

import argparse
import time

from typology.montecarlo import run_monte_carlo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", default=None, help="also write the summary as CSV")
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = run_monte_carlo(n_reps=args.reps, seed=args.seed, n_jobs=args.jobs)
    cols = ["true", "bias", "rmse", "sd_estimate", "mean_std_error", "coverage"]
    print(res[cols].round(3).to_string())
    print(f"\n{args.reps} replications in {time.perf_counter() - t0:.1f} s; parameters: {res.attrs}")
    if args.out:
        res.to_csv(args.out)


if __name__ == "__main__":
    main()
