"""Benchmark of the out-of-core firm registry: a folder of Parquet files aggregated to the
town-year quantities of the feature builder, against the in-memory pandas path, in the same run.

The registry: ``n`` firm-year rows over 10 years (2014-2023, ``n / 10`` firms a year, each firm
in every year), hive-partitioned by year (``firms/year=2019/part-0.parquet``, one file per
1,000,000 rows), with 20,000 towns (OKTMO-like 8-digit codes, firms spread over them by a Zipf
law: a few large towns, a long tail of small ones), 100,000 corporate groups (a fifth of the
firms belong to one; group sizes Zipf, a group's firms in its headquarters town or its region
or anywhere), 88 OKVED-2 divisions, employees ``floor(exp(N(1.5, 1.4)))`` varying by year.
It is generated once, in chunks of 1,000,000 rows (so that generation stays far below 4 GiB),
into ``$NORDTOWNS_BENCH_CACHE`` (default ``~/.cache/nordtowns-bench``), outside the repository.

Cases (each from the Parquet folder to the corporate quantities of every town-year: the group
classification, the ownership edges and :func:`features.corporate.corporate_ties` against a
published employment of every town-year and 40 agglomeration cores):

* ``registry polars out of core``: ``typology.aggregate_registry(folder, towns=, groups=)``
  (Polars, streaming engine: schema and value checks, duplicate firm-years, the aggregates),
  then the aggregated path of the builder (:func:`features.firm_registry.employer_years`);
* ``registry pandas in memory``: ``pandas.read_parquet(folder)`` and the builder's in-memory
  path (``classify_groups``, ``firm_years``, ``ownership_edges``, ``corporate_ties``), on the
  largest size that fits (10,000,000 rows; quick mode 200,000). The same case is run out of
  core at that size as the baseline, and the two results are checked equal (``check_exact``)
  before anything is timed.

Targets: 50,000,000 rows out of core with a peak resident memory below 4 GiB (the RSS column:
``VmHWM`` above the size before the run; polars allocates outside tracemalloc, whose column is
therefore only the Python side). Full run: ``python -m benchmarks.run --only registry``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness import Case

N_TOWNS = 20_000
N_GROUPS = 100_000
N_YEARS = 10
FIRST_YEAR = 2014
N_CORES = 40
CHUNK = 1_000_000
GROUP_SHARE = 0.2


def cache_dir() -> Path:
    return Path(os.environ.get("NORDTOWNS_BENCH_CACHE", Path.home() / ".cache" / "nordtowns-bench"))


def _divisions() -> np.ndarray:
    from features.sectors import OKVED_DIVISIONS

    return np.asarray(sorted(OKVED_DIVISIONS), dtype=object)


def _towns(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 1])
    region = rng.integers(1, 86, N_TOWNS)
    ids = np.char.add(np.char.zfill(region.astype(str), 2), np.char.zfill(np.arange(N_TOWNS).astype(str), 6))
    pop = np.floor(5e6 / (np.arange(N_TOWNS) + 1) ** 1.1).astype(np.int64) + 500
    return pd.DataFrame({"town_id": pd.array(ids, dtype="str"), "name": pd.array(ids, dtype="str"),
                         "region": pd.array(np.char.zfill(region.astype(str), 2), dtype="str"),
                         "lat": rng.uniform(55, 70, N_TOWNS), "lon": rng.uniform(30, 170, N_TOWNS),
                         "population": pop.astype(float), "is_core": np.arange(N_TOWNS) < N_CORES})


def _zipf_pick(rng, n: int, size: int, s: float = 1.05) -> np.ndarray:
    w = 1.0 / (np.arange(n) + 1) ** s
    return rng.choice(n, size=size, p=w / w.sum())


def _groups(seed: int, towns: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 2])
    hq = _zipf_pick(rng, N_TOWNS, N_GROUPS, 0.9)
    flag = pd.array(np.where(rng.random(N_GROUPS) < 0.1, True, False), dtype="boolean")
    flag[rng.random(N_GROUPS) < 0.7] = pd.NA  # most groups inferred
    ids = np.char.add("G", np.char.zfill(np.arange(N_GROUPS).astype(str), 6))
    return pd.DataFrame({"group_id": pd.array(ids, dtype="str"), "hq_town_id": towns["town_id"].to_numpy()[hq],
                         "vertically_integrated": flag})


def _firm_chunk(seed: int, chunk: int, n: int, groups_hq: np.ndarray, sectors: np.ndarray):
    """The fixed attributes of firms ``chunk * CHUNK ...``: town, sector, group (codes)."""
    rng = np.random.default_rng([seed, 3, chunk])
    town = _zipf_pick(rng, N_TOWNS, n)
    group = np.where(rng.random(n) < GROUP_SHARE, _zipf_pick(rng, N_GROUPS, n, 1.1), -1)
    at_hq = (group >= 0) & (rng.random(n) < 0.4)
    town = np.where(at_hq, groups_hq[np.maximum(group, 0)], town)
    main = (np.maximum(group, 0) * 7919) % len(sectors)  # a group's main division
    sector = np.where((group >= 0) & (rng.random(n) < 0.6), main, _zipf_pick(rng, len(sectors), n, 0.8))
    return town, sector, group


def make_registry(n_rows: int, seed: int = 0, root: Path | None = None, log=print) -> Path:
    """The benchmark dataset of ``n_rows`` firm-years (cached): ``towns.parquet``,
    ``groups.parquet`` and the registry folder ``firms/year=YYYY/part-K.parquet``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = (root or cache_dir()) / f"registry-{n_rows}-s{seed}"
    done = root / ".complete"
    if done.is_file():
        return root
    towns = _towns(seed)
    groups = _groups(seed, towns)
    (root / "firms").mkdir(parents=True, exist_ok=True)
    towns.to_parquet(root / "towns.parquet", index=False)
    groups.to_parquet(root / "groups.parquet", index=False)
    town_ids = pa.array(towns["town_id"].to_numpy(dtype=object), pa.string())
    group_ids = pa.array(groups["group_id"].to_numpy(dtype=object), pa.string())
    hq = pd.Index(towns["town_id"]).get_indexer(groups["group_id"].map(groups.set_index("group_id")["hq_town_id"]))
    sectors = _divisions()
    sector_ids = pa.array(sectors.tolist(), pa.string())
    per_year = n_rows // N_YEARS
    n_chunks = -(-per_year // CHUNK)
    for c in range(n_chunks):
        n = min(CHUNK, per_year - c * CHUNK)
        town, sector, group = _firm_chunk(seed, c, n, hq, sectors)
        first = c * CHUNK
        firm_ids = pa.compute.binary_join_element_wise(
            "F", pa.compute.utf8_lpad(pa.array(np.arange(first, first + n)).cast(pa.string()), 9, "0"), "")
        base = np.random.default_rng([seed, 4, c]).normal(1.5, 1.4, n)
        cols = {"firm_id": firm_ids, "town_id": town_ids.take(pa.array(town)),
                "sector": sector_ids.take(pa.array(sector)),
                "group_id": group_ids.take(pa.array(np.where(group >= 0, group, 0), mask=group < 0))}
        for k in range(N_YEARS):
            year = FIRST_YEAR + k
            noise = np.random.default_rng([seed, 5, c, k]).normal(0, 0.15, n)
            emp = np.floor(np.exp(np.clip(base + noise, -1, 11))).astype(np.int64)
            table = pa.table({**cols, "employees": pa.array(emp)})
            d = root / "firms" / f"year={year}"
            d.mkdir(exist_ok=True)
            pq.write_table(table, d / f"part-{c}.parquet", row_group_size=256_000)
        log(f"  generated chunk {c + 1}/{n_chunks} ({n * N_YEARS:,} rows)")
    done.write_text("ok\n")
    return root


def _employment(root: Path) -> pd.Series:
    """Published total employment of every town-year (the denominator of the shares)."""
    towns = pd.read_parquet(root / "towns.parquet")
    years = np.arange(FIRST_YEAR, FIRST_YEAR + N_YEARS)
    idx = pd.MultiIndex.from_product([towns["town_id"], years], names=["town_id", "year"])
    pop = np.repeat(towns["population"].to_numpy(), len(years))
    return pd.Series(np.floor(pop * 0.45), index=idx)


def _ties(fy: pd.DataFrame, classified: pd.DataFrame, state: dict):
    from features.corporate import corporate_ties, ownership_edges

    return classified, ownership_edges(fy), corporate_ties(fy, state["employment"], state["cores"])


def out_of_core(state: dict):
    from features.corporate import classify_groups
    from features.firm_registry import employer_years
    from typology import aggregate_registry

    reg = aggregate_registry(state["root"] / "firms", towns=state["towns"], groups=state["groups"])
    classified = classify_groups(reg.presence, state["groups"])
    return _ties(employer_years(reg, classified), classified, state)


def in_memory(state: dict):
    from features.corporate import classify_groups, firm_years

    firms = pd.read_parquet(state["root"] / "firms")
    firms["year"] = firms["year"].astype("int64")  # the hive partition column arrives as a category
    classified = classify_groups(firms, state["groups"])
    fy = firm_years(firms, classified)
    del firms
    return _ties(fy, classified, state)


def _state(n_rows: int) -> dict:
    root = make_registry(n_rows)
    towns = pd.read_parquet(root / "towns.parquet")
    return {"root": root, "towns": towns, "groups": pd.read_parquet(root / "groups.parquet"),
            "employment": _employment(root), "cores": towns["town_id"][towns["is_core"]].tolist()}


def _checked_state(n_rows: int) -> dict:
    """The state of the in-memory case, after checking that both paths agree exactly."""
    state = _state(n_rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = out_of_core(state), in_memory(state)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)
    return state


def cases(quick: bool) -> list[Case]:
    big, mem = (1_000_000, 200_000) if quick else (50_000_000, 10_000_000)
    repeat = 3 if quick else 1
    pandas_mem = f"registry pandas in memory ({mem:,} rows)"
    return [
        Case(pandas_mem, in_memory, setup=lambda: _checked_state(mem), repeat=repeat,
             note="pandas.read_parquet + classify_groups, firm_years, ownership_edges, corporate_ties; "
                  "equal to the out-of-core path (checked before timing)"),
        Case(f"registry polars out of core ({mem:,} rows)", out_of_core, setup=lambda: _state(mem), repeat=repeat,
             baseline=pandas_mem, note="typology.aggregate_registry + the aggregated builder path"),
        Case(f"registry polars out of core ({big:,} rows)", out_of_core, setup=lambda: _state(big), repeat=repeat,
             note="peak RSS target 4 GiB", target={"rss_mib": 4096}),
    ]
