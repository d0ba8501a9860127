"""Benchmarks of the typology stage.

* ``select k + stability``: ``TownTypology(n_types="auto", k_range=(2, 10), n_boot=100)`` on
  2,500 synthetic towns (the DESIGN.md default features), with ``n_jobs=1`` and ``n_jobs=2`` in
  the same run; the second names the first as its baseline, so the table shows the speed-up.
  Peak memory is traced in the main process only (joblib workers are separate processes).
* the default embedded typology (300 towns, auto k, default bootstraps): target < 30 s.
* scoring a panel: ``assign`` on every town-year of the 2,500-town panel.

Quick mode: 300 towns, 20 bootstraps, one run each.
"""

from __future__ import annotations

import functools
import warnings

from benchmarks.harness import Case

FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]


@functools.lru_cache(maxsize=4)
def _data(n_towns: int, n_years: int):
    from features import build_features
    from typology import generate, town_rows

    synth = generate(n_towns=n_towns, n_years=n_years, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = build_features(synth.data)
    kinds = synth.truth["town_types"]
    typed = [t for t, v in kinds.items() if v not in ("core", "rural")]
    X = town_rows(panel, "last", sample=typed)[FEATURES]
    rows = panel.loc[panel.index.get_level_values("town_id").isin(typed), FEATURES].dropna()
    return X, rows


def _fit(X, n_jobs, n_boot):
    from typology import TownTypology

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TownTypology(n_types="auto", k_range=(2, 10), n_boot=n_boot, random_state=0, n_jobs=n_jobs).fit(X)


def cases(quick: bool) -> list[Case]:
    n, years, boot, rep = (300, 10, 20, 1) if quick else (2500, 10, 100, 3)
    big = f"select k + stability, {n} towns"
    out = [
        Case(f"{big}, n_jobs=1", setup=lambda: _data(n, years)[0], run=lambda X: _fit(X, 1, boot), repeat=rep),
        Case(f"{big}, n_jobs=2", setup=lambda: _data(n, years)[0], run=lambda X: _fit(X, 2, boot), repeat=rep,
             baseline=f"{big}, n_jobs=1", note="memory of the main process only"),
    ]
    if not quick:
        out.append(Case("default synthetic typology, 300 towns", setup=lambda: _data(300, 15)[0],
                        run=lambda X: _fit(X, None, 100), repeat=3, target={"median_s": 30}))
    out.append(Case(f"assign every town-year ({n} towns x {years} years)",
                    setup=lambda: (_fit(_data(n, years)[0], 1, 5), _data(n, years)[1]),
                    run=lambda s: s[0].assign(s[1]), repeat=5))
    return out
