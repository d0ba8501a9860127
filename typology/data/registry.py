"""A firm registry too large for memory: a folder of Parquet files aggregated out of core.

``aggregate_registry(folder)`` reads the ``firms`` table of the data contract (DESIGN.md section
3: ``firm_id``, ``town_id``, ``sector``, ``employees``, optional ``year`` and ``group_id``; other
columns are ignored) from every ``*.parquet`` file under ``folder`` (plain files, or
hive-partitioned folders such as ``year=2019/part-0.parquet`` or ``region=11/...``, whose
``key=value`` folder names become columns) and computes, with Polars' streaming engine and
never holding the registry in memory, exactly the town-year quantities the feature builder
reads (:class:`features.firm_registry.RegistryAggregates`):

* per (town, year, group): employees (summed in int64), number of firms, largest firm; the
  town-year's independent firms (no group) as one row;
* the distinct (group, town, sector) of the firms in groups (vertical integration is inferred
  from the distinct towns and OKVED sections of a group);
* the distinct sectors and years.

The checks are those of the in-memory ``firms`` table, in one pass, each problem naming the
file, the column, the first rows (1-based within the file) and what was found: missing
columns, columns of the wrong type, empty identifiers or sectors, employees that are missing,
negative, not whole numbers or not below 1e10, years that are not whole numbers in 1800-2100,
repeated firm-years (or firms, in a registry without ``year``), and, when the other tables are
given, towns, groups and sectors they do not list. Identifiers are text (integers are accepted
and converted, as for the in-memory table), stripped of surrounding spaces; an empty
``group_id`` is an independent firm.

Polars is an optional dependency: ``pip install nordtowns[registry]``.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from features.firm_registry import RegistryAggregates
from features.sectors import is_okved_code
from features.validation import COUNT_MAX, MAX_SHOWN, YEAR_RANGE, DataValidationError, Problem

__all__ = ["aggregate_registry", "registry_files", "sha256_registry"]

REQUIRED = ("firm_id", "town_id", "sector", "employees")
OPTIONAL = ("year", "group_id")
_IDS = ("firm_id", "town_id", "group_id")
#: firm-year keys checked for repeats in one piece (the rest in hash buckets of this size)
_BUCKET_ROWS = 8_000_000


def _polars():
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("reading a firm registry from a folder of Parquet files needs Polars, an optional "
                          "dependency: pip install 'nordtowns[registry]' (or pip install polars)") from None
    return pl


def registry_files(folder: str | os.PathLike) -> list[Path]:
    """The Parquet files of a registry folder, sorted (files and folders whose names start with
    ``.`` or ``_``, such as ``_SUCCESS`` markers, are left out, as Spark and Polars do)."""
    root = Path(folder)
    out = []
    for f in sorted(root.rglob("*.parquet")):
        parts = f.relative_to(root).parts
        if f.is_file() and not any(p.startswith((".", "_")) for p in parts):
            out.append(f)
    return out


def sha256_registry(folder: str | os.PathLike) -> str:
    """sha256 of a registry folder: of each Parquet file's relative path and sha256, in order."""
    root = Path(folder)
    h = hashlib.sha256()
    for f in registry_files(root):
        fh = hashlib.sha256()
        with open(f, "rb") as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                fh.update(chunk)
        h.update(f"{f.relative_to(root).as_posix()}\t{fh.hexdigest()}\n".encode())
    return h.hexdigest()


def _hive(path: Path, root: Path) -> dict[str, str]:
    """The ``key=value`` folder names between ``root`` and ``path``."""
    out = {}
    for part in path.relative_to(root).parts[:-1]:
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


class _Checker:
    """Collects problems; ``where`` names a file relative to the folder's parent."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def name(self, f: Path | None = None) -> str:
        base = self.root.parent
        return (f if f is not None else self.root).relative_to(base).as_posix() + ("" if f is not None else "/")

    def add(self, f, column, expected, found, rows=(), n_rows=0):
        self.problems.append(Problem(self.name(f), column, expected, found, tuple(rows), n_rows, "row"))


def _schemas(files: list[Path], root: Path, ck: _Checker) -> dict[str, object] | None:
    """The columns of the contract in every file (Parquet footers and folder names only), their
    types checked; ``{column: polars dtype}`` or None when the files cannot be aggregated."""
    pl = _polars()
    seen: dict[str, dict[str, list[Path]]] = {}
    per_file: dict[Path, set[str]] = {}
    for f in files:
        try:
            schema = dict(pl.read_parquet_schema(f))
        except Exception as exc:  # any reader failure is a data problem
            ck.add(f, None, "a readable Parquet file", f"{type(exc).__name__}: {exc}")
            continue
        for k, v in _hive(f, root).items():
            if k not in schema:
                schema[k] = pl.Int64 if v.lstrip("-").isdigit() else pl.String
        per_file[f] = set(schema)
        for c in REQUIRED + OPTIONAL:
            if c in schema:
                seen.setdefault(c, {}).setdefault(str(schema[c]), []).append(f)
    if ck.problems:
        return None
    for c in REQUIRED:
        lacking = [f for f in files if c not in per_file[f]]
        if lacking:
            ck.add(lacking[0], c, f"a column '{c}' in every file of the registry",
                   f"columns {sorted(per_file[lacking[0]])}" + (f" ({len(lacking)} files lack it)" if len(lacking) > 1
                                                                 else ""))
    for c in OPTIONAL:
        lacking = [f for f in files if c not in per_file[f]]
        if c in seen and lacking:
            having = next(iter(seen[c].values()))[0]
            ck.add(lacking[0], c, f"the same columns in every file ('{c}' is in {ck.name(having)})",
                   f"no column '{c}' ({len(lacking)} file(s) lack it)")
    dtypes: dict[str, object] = {}
    for c, kinds in seen.items():
        if len(kinds) > 1:
            (t1, f1), (t2, f2) = list(kinds.items())[:2]
            ck.add(f2[0], c, f"one type for column '{c}' in every file ({t1} in {ck.name(f1[0])})", t2)
            continue
        kind = next(iter(kinds))
        f = next(iter(kinds.values()))[0]
        dtype = pl.read_parquet_schema(f).get(c) or (pl.Int64 if kind == "Int64" else pl.String)
        bad = _type_problem(c, dtype)
        if bad:
            ck.add(f, c, bad[0], f"{kind}{bad[1]}")
            continue
        if dtype.is_integer() and c in _IDS:
            ck.notes.append(f"{ck.name()}: column '{c}': identifiers stored as integers were converted to text; "
                            "leading zeros of OKTMO codes may already have been lost")
        dtypes[c] = dtype
    return None if ck.problems else dtypes


def _type_problem(col: str, dtype) -> tuple[str, str] | None:
    text = dtype.is_(_polars().String) or str(dtype).startswith(("Categorical", "Enum"))
    if col in _IDS:
        if not (text or dtype.is_integer()):
            return "identifiers stored as text (OKTMO codes keep their leading zeros)", "; save the column as text"
    elif col == "sector":
        if not text:
            return "sector codes stored as text ('01', not 1)", ""
    elif not (dtype.is_integer() or dtype.is_float()):
        return "whole numbers" if col == "employees" else "years as integers", ""
    return None


def _normalised(lf, dtypes: dict):
    """The contract's columns: identifiers as stripped text (an empty group = independent),
    employees and year as they are (checked by :func:`_checks`)."""
    pl = _polars()
    cols = []
    for c in ("firm_id", "town_id", "sector", "group_id"):
        if c in dtypes:
            t = pl.col(c).cast(pl.String).str.strip_chars()
            cols.append((pl.when(t != "").then(t) if c == "group_id" else t).alias(c))
    for c in ("employees", "year"):
        if c in dtypes:
            cols.append(pl.col(c))
    return lf.select(cols)


def _checks(dtypes: dict) -> dict[str, tuple]:
    """Row checks: name -> (column, bad-row expression, expected, found)."""
    pl = _polars()
    out = {}
    for c in ("firm_id", "town_id", "sector"):
        out[f"{c}_empty"] = (c, pl.col(c).is_null() | (pl.col(c) == ""), "a non-empty identifier" if c != "sector"
                             else "a sector code in every row", "empty cells or missing values")
    e = pl.col("employees")
    whole = e.is_not_null() & (e.cast(pl.Float64).is_finite() if dtypes["employees"].is_float() else pl.lit(True))
    if dtypes["employees"].is_float():
        out["employees_whole"] = ("employees", whole & (e != e.floor()),
                                  "whole numbers of employees (they are summed exactly as integers)",
                                  "fractional values")
        out["employees_finite"] = ("employees", e.is_not_null() & ~e.is_finite(), "a finite number", "inf or NaN")
    out["employees_missing"] = ("employees", e.is_null(), "a value in every row", "missing values (null)")
    out["employees_range"] = ("employees", whole & ((e < 0) | (e >= COUNT_MAX)),
                              f"a number >= 0 and < {COUNT_MAX:g} (a count of people; more than the world's "
                              "population (8.1e9) is a typing error or a missing-value code)", "values out of range")
    if "year" in dtypes:
        y = pl.col("year")
        frac = (y != y.floor()) | ~y.is_finite() if dtypes["year"].is_float() else pl.lit(False)
        out["year_bad"] = ("year", y.is_null() | frac | (y < YEAR_RANGE[0]) | (y > YEAR_RANGE[1]),
                           f"a whole year in {YEAR_RANGE[0]}-{YEAR_RANGE[1]} in every row",
                           "missing, fractional or out-of-range years")
    return out


def _file_frame(f: Path, root: Path, dtypes: dict):
    """One file as the normalised frame, with its folder names as columns and 1-based row numbers."""
    pl = _polars()
    lf = pl.scan_parquet(f, hive_partitioning=False)
    have = set(lf.collect_schema().names())
    extra = [pl.lit(v).cast(dtypes[k]).alias(k) for k, v in _hive(f, root).items() if k in dtypes and k not in have]
    lf = lf.with_columns(extra) if extra else lf
    return _normalised(lf, dtypes).with_row_index("_row", offset=1)


def _locate(files, root, dtypes, bad, limit: int = MAX_SHOWN):
    """The first file holding rows where ``bad`` is true, its first rows (1-based) and the
    sample values, file by file (only called when a check failed)."""
    for f in files:
        hit = _file_frame(f, root, dtypes).filter(bad).head(limit).collect()
        if len(hit):
            return f, hit
    return None, None


def _scan(root: Path, dtypes: dict):
    pl = _polars()
    lf = pl.scan_parquet(str(root / "**" / "*.parquet"), hive_partitioning=True, hidden_file_prefix=[".", "_"])
    return _normalised(lf, dtypes)


def _row_problems(lf, files, root, dtypes, ck: _Checker) -> int:
    """One streaming pass counting the bad rows of each check; the failing checks located."""
    pl = _polars()
    checks = _checks(dtypes)
    counts = lf.select([pl.len().alias("_n")] + [x[1].sum().alias(k) for k, x in checks.items()]).collect(
        engine="streaming").row(0, named=True)
    for k, (col, bad, expected, found) in checks.items():
        if counts[k]:
            f, hit = _locate(files, root, dtypes, bad)
            rows = hit["_row"].to_list() if hit is not None else []
            sample = hit[col].head(3).to_list() if hit is not None else []
            ck.add(f, col, expected, f"{found}, e.g. {sample}" if sample else found, rows, int(counts[k]))
    return int(counts["_n"])


def _duplicates(lf, files, root, dtypes, n_rows: int, ck: _Checker) -> None:
    """Repeated (firm_id, year) keys, or firm_id without year; keys are grouped one year at a
    time (a registry partitioned by year) or in hash buckets of about ``_BUCKET_ROWS`` rows, so
    that memory stays bounded whatever the registry's size."""
    pl = _polars()
    key = ["firm_id"] + (["year"] if "year" in dtypes else [])
    n_buckets = max(1, math.ceil(n_rows / _BUCKET_ROWS))
    keyed = lf.select(key)
    hive_years = sorted({_hive(f, root).get("year") for f in files})
    if n_buckets > 1 and "year" in dtypes and None not in hive_years:  # partitioned by year: one year a pass
        buckets = [pl.col("year") == int(y) for y in hive_years]  # each pass reads only its year's files
    else:
        buckets = [pl.col("firm_id").hash(seed=17) % n_buckets == b for b in range(n_buckets)]
    dups = []
    for bucket in buckets:
        part = keyed if len(buckets) == 1 else keyed.filter(bucket)
        d = part.group_by(key).agg(pl.len().alias("_n")).filter(pl.col("_n") > 1).collect(engine="streaming")
        if len(d):
            dups.append(d)
    if not dups:
        return
    d = pl.concat(dups)
    n = int(d["_n"].sum())
    first = d.sort(key).row(0, named=True)
    match = pl.lit(True)
    for c in key:
        match = match & (pl.col(c) == first[c])
    rows, where = [], []
    for f in files:  # where the first repeated key is
        hit = _file_frame(f, root, dtypes).filter(match).select("_row").collect()
        if len(hit):
            where.append(ck.name(f))
            rows += hit["_row"].to_list()
    hint = " (rows that differ by 'year' need that column)" if "year" not in dtypes else ""
    ck.add(None, ", ".join(key), f"one row per ({', '.join(key)})",
           f"{n} rows sharing a key ({len(d)} distinct keys), e.g. {tuple(first[c] for c in key)} in "
           f"{', '.join(where[:3])} rows {rows[:MAX_SHOWN]}{hint}")


def _aggregates(lf, dtypes: dict):
    pl = _polars()
    if "group_id" not in dtypes:
        lf = lf.with_columns(pl.lit(None, dtype=pl.String).alias("group_id"))
    key = ["town_id"] + (["year"] if "year" in dtypes else []) + ["group_id"]
    emp = pl.col("employees").cast(pl.Int64)
    lf = lf.with_columns(pl.col("year").cast(pl.Int64)) if "year" in dtypes else lf
    employers = lf.group_by(key).agg(emp.sum().alias("employees"), pl.len().cast(pl.Int64).alias("n_firms"),
                                     emp.max().alias("largest"))
    presence = lf.filter(pl.col("group_id").is_not_null()).select("group_id", "town_id", "sector").unique()
    sectors = lf.select(pl.col("sector").unique())
    queries = [employers, presence, sectors]
    if "year" in dtypes:
        queries.append(lf.select(pl.col("year").unique()))
    out = pl.collect_all(queries, engine="streaming")
    return out if len(out) == 4 else [*out, None]


def _reference_problems(reg: RegistryAggregates, lf_files, root, dtypes, towns, groups, sectors, ck: _Checker):
    """Towns, groups and sectors of the registry that the dataset's tables do not list, located
    in the files."""
    pl = _polars()
    checks = []
    if towns is not None:
        known = pd.Index(towns["town_id"].astype("str"))
        unknown = reg.town_ids.difference(known)
        if len(unknown):
            hint = ""
            if any(("0" + x) in set(known) for x in unknown[:5]):
                hint = " (leading zeros lost? identifiers are text, e.g. '01701000' not 1701000)"
            checks.append(("town_id", unknown, "identifiers listed in the town_id column of the towns table", hint))
    if "group_id" in dtypes and len(reg.group_ids) and groups is not None:
        if not len(groups):
            checks.append(("group_id", reg.group_ids, "a groups table describing the groups that firms belong to",
                           " (no groups table was given)"))
        else:
            unknown = reg.group_ids.difference(pd.Index(groups["group_id"].astype("str")))
            if len(unknown):
                checks.append(("group_id", unknown, "identifiers listed in the group_id column of the groups table",
                               ""))
    user = set(sectors["sector"].astype("str")) if sectors is not None else set()
    bad_sectors = [s for s in reg.sectors if not (is_okved_code(s) or s in user)]
    if bad_sectors:
        checks.append(("sector", pd.Index(bad_sectors), "an OKVED-2 / NACE Rev.2 code (section 'A'..'U' or a "
                       "two-digit division '01'..'99') or a code listed in a sectors table", ""))
    for col, values, expected, hint in checks:
        f, hit = _locate(lf_files, root, dtypes, pl.col(col).is_in(pl.Series(list(values[:1000]), dtype=pl.String).implode()))
        rows = hit["_row"].to_list() if hit is not None else []
        what = "group identifier(s)" if hint.startswith(" (no groups") else "unknown value(s)"
        ck.add(f, col, expected, f"{len(values)} {what} such as {list(values[:5])}{hint}", rows)


def aggregate_registry(folder: str | os.PathLike, towns: pd.DataFrame | None = None,
                       groups: pd.DataFrame | None = None, sectors: pd.DataFrame | None = None,
                       progress=None) -> RegistryAggregates:
    """Aggregate a firm registry given as a folder of Parquet files, out of core.

    Parameters
    ----------
    folder : path
        A folder of Parquet files holding the contract's ``firms`` columns (``firm_id``,
        ``town_id``, ``sector``, ``employees``, optional ``year`` and ``group_id``), plain or
        hive-partitioned (``year=2019/part-0.parquet``: the folder names give the column).
    towns, groups, sectors : DataFrame, optional
        The dataset's tables: when given, every town, group and sector of the registry must be
        listed in them (as the in-memory ``firms`` table is checked; an empty ``groups`` table
        stands for a dataset without one). Sector codes are always checked (OKVED-2 codes, or
        codes of ``sectors``). ``TownData`` checks the aggregates against its tables again.
    progress : callable, optional
        Called with a short message after each stage.

    Returns
    -------
    features.firm_registry.RegistryAggregates
        What the feature builder reads: pass it as ``firms`` to ``TownData.from_tables`` (or
        ``data.replace(firms=...)``). ``read_dataset`` does it for a dataset folder whose
        ``firms`` is a folder.

    Raises
    ------
    DataValidationError
        Every problem of the folder in one pass (file, column, rows, expected, found).
    ImportError
        When Polars (the ``registry`` extra) is not installed.

    Notes
    -----
    The registry is never loaded: each stage is a Polars streaming query (checks, repeated
    firm-years in hash buckets of about 8 million keys, the aggregates), so memory grows with
    the aggregates (town-year-group rows), not with the firm rows: 50 million firm-years over
    20,000 towns and 100,000 groups stay below 4 GiB (``benchmarks/bench_registry.py``).
    Employees are summed in int64, exactly.
    """
    _polars()
    root = Path(folder)
    tell = progress or (lambda _m: None)
    ck = _Checker(root)
    if not root.is_dir():
        raise DataValidationError([Problem(str(root), None, "a folder of Parquet files (the firm registry)",
                                           "no such folder" if not root.exists() else "a file")], source=str(root))
    files = registry_files(root)
    if not files:
        raise DataValidationError([Problem(ck.name(), None, "Parquet files (*.parquet) of the firm registry",
                                           "none")], source=str(root))
    dtypes = _schemas(files, root, ck)
    if dtypes is None:
        raise DataValidationError(ck.problems, source=str(root))
    lf = _scan(root, dtypes)
    n_rows = _row_problems(lf, files, root, dtypes, ck)
    tell(f"checked {n_rows:,} firm rows in {len(files)} file(s)")
    if ck.problems:
        raise DataValidationError(ck.problems, source=str(root))
    _duplicates(lf, files, root, dtypes, n_rows, ck)
    if ck.problems:
        raise DataValidationError(ck.problems, source=str(root))
    tell("no repeated firm-years")
    employers, presence, sector_codes, years = _aggregates(lf, dtypes)
    reg = RegistryAggregates(employers.to_pandas(), presence.to_pandas(), sector_codes["sector"].to_list(), n_rows,
                             years=None if years is None else np.sort(years["year"].to_numpy()),
                             source=ck.name())
    tell(f"aggregated to {len(employers):,} town-year-group rows")
    _reference_problems(reg, files, root, dtypes, towns, groups, sectors, ck)
    if ck.problems:
        raise DataValidationError(ck.problems, source=str(root))
    return reg
