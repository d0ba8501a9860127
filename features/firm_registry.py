"""A firm registry given as its town-year aggregates (:class:`RegistryAggregates`).

The feature builder reads a firm registry (DESIGN.md section 3, ``firms``) through four
quantities only (:mod:`features.corporate`):

* per group, the distinct towns and OKVED sections of its firms (over all years), which
  infer vertical integration (:func:`features.corporate.classify_groups`);
* per (town, year, group), the employees of the group's firms in the town-year and their
  number: the vertically integrated, externally controlled and core-controlled employment of
  the town-year, the group's weight as an employer, the ownership edge headquarters -> town
  (:func:`features.corporate.ownership_edges`, :func:`features.corporate.corporate_ties`);
* per town-year, the employees of its largest independent firm (the largest employer is a
  group, all its firms in the town counted together, or an independent firm);
* per group and town, whether it is present at all (the subset of a dataset keeps a firm
  when it sits in a kept town or belongs to a group headquartered in one).

:class:`RegistryAggregates` holds exactly these, so a registry of tens of millions of firm-years
(aggregated out of core, ``typology.aggregate_registry``) or an in-memory one
(:func:`aggregate_firms`) gives the builder the same numbers: employees are integers and are
summed exactly in int64, so no order of summation can change a bit, and every quantity above
is a sum, a count, a maximum or a distinct count of such integers. The feature table built from
the aggregates equals the one built from the firm rows exactly (integer employee counts, totals
below 2**53).

Tables
------
``employers``: one row per (``town_id``, ``year``, ``group_id``), ``group_id`` empty (NA) for the
town-year's independent firms taken together; ``employees`` (int64, sum over the firms),
``n_firms`` (int64, their number), ``largest`` (int64, employees of the largest of them). A
registry without ``year`` (a snapshot) has no ``year`` column: it holds for every year asked for.

``presence``: the distinct (``group_id``, ``town_id``, ``sector``) of the firms that belong to a
group, over all years.

``sectors``: the distinct sector codes of all firms (checked against the data contract).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = ["RegistryAggregates", "aggregate_firms", "employer_years", "registry_problems"]

_EMPLOYER_KEY = ["town_id", "year", "group_id"]
_COUNTS = ("employees", "n_firms", "largest")


class RegistryAggregates:
    """A firm registry as the town-year aggregates the feature builder reads (validated, immutable).

    Parameters
    ----------
    employers : DataFrame
        ``town_id``, optional ``year``, ``group_id`` (NA = independent firms), ``employees``,
        ``n_firms``, ``largest`` (see the module docstring).
    presence : DataFrame
        ``group_id``, ``town_id``, ``sector``: distinct triples of the firms in groups.
    sectors : sequence of str
        Distinct sector codes of every firm.
    n_rows : int
        Number of firm (firm-year) rows aggregated.
    years : sequence of int, optional
        Distinct years of the registry (default: those of ``employers``).
    source : str
        Where the registry was read from (named in messages).

    Raises
    ------
    ValueError
        When a table misses a column, a key repeats, a count is not a non-negative integer or
        the counts contradict each other (``largest > employees``, ``n_firms < 1``).
    """

    __slots__ = ("_employers", "_n_rows", "_presence", "_sectors", "_source", "_years")

    def __init__(self, employers: pd.DataFrame, presence: pd.DataFrame, sectors, n_rows: int, years=None,
                 source: str = "in memory"):
        emp = _checked_employers(employers, source)
        pres = _checked_presence(presence, source)
        object.__setattr__(self, "_employers", emp)
        object.__setattr__(self, "_presence", pres)
        object.__setattr__(self, "_sectors", tuple(sorted({str(s) for s in sectors})))
        object.__setattr__(self, "_n_rows", int(n_rows))
        if years is None:
            years = emp["year"].unique() if "year" in emp.columns else ()
        object.__setattr__(self, "_years", tuple(sorted(int(y) for y in years)))
        object.__setattr__(self, "_source", str(source))

    def __setattr__(self, name, value):
        raise AttributeError("RegistryAggregates is immutable")

    def __reduce__(self):
        return (RegistryAggregates, (self._employers, self._presence, self._sectors, self._n_rows, self._years,
                                     self._source))

    @property
    def employers(self) -> pd.DataFrame:
        return self._employers.copy(deep=False)

    @property
    def presence(self) -> pd.DataFrame:
        return self._presence.copy(deep=False)

    @property
    def sectors(self) -> tuple[str, ...]:
        return self._sectors

    @property
    def n_rows(self) -> int:
        return self._n_rows

    @property
    def years(self) -> tuple[int, ...]:
        return self._years

    @property
    def has_year(self) -> bool:
        return "year" in self._employers.columns

    @property
    def source(self) -> str:
        return self._source

    @property
    def town_ids(self) -> pd.Index:
        return pd.Index(self._employers["town_id"].unique())

    @property
    def group_ids(self) -> pd.Index:
        g = self._employers["group_id"]
        return pd.Index(g[g.notna()].unique())

    def subset(self, keep: np.ndarray, keep_presence: np.ndarray) -> RegistryAggregates:
        """The aggregates of the kept ``employers`` and ``presence`` rows (boolean masks)."""
        e = self._employers[keep].reset_index(drop=True)
        p = self._presence[keep_presence].reset_index(drop=True)
        return RegistryAggregates(e, p, self._sectors, int(e["n_firms"].sum()), source=self._source)

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for df in (self._employers, self._presence):
            h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        h.update("\n".join(self._sectors).encode())
        return h.hexdigest()

    def __eq__(self, other) -> bool:
        if not isinstance(other, RegistryAggregates):
            return NotImplemented
        return (self._sectors == other._sectors and self._years == other._years
                and self._employers.equals(other._employers) and self._presence.equals(other._presence))

    __hash__ = None

    def __repr__(self) -> str:
        years = f"{self._years[0]}-{self._years[-1]}" if self._years else "snapshot"
        return (f"RegistryAggregates({self._n_rows:,} firm rows -> {len(self._employers):,} employer rows, "
                f"{len(self._presence):,} group presences; years {years}; source={self._source!r})")


def _problem(source: str, table: str, text: str) -> ValueError:
    return ValueError(f"registry aggregates of {source}, table '{table}': {text}")


def _checked_employers(df: pd.DataFrame, source: str) -> pd.DataFrame:
    need = ["town_id", "group_id", *_COUNTS]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise _problem(source, "employers", f"expected columns {need} (and 'year' unless a snapshot); "
                       f"missing {missing}")
    key = [c for c in _EMPLOYER_KEY if c in df.columns]
    out = pd.DataFrame({"town_id": df["town_id"].astype("str")})
    if "year" in df.columns:
        out["year"] = _integers(df["year"], source, "employers", "year")
    out["group_id"] = df["group_id"].astype("str")
    for c in _COUNTS:
        out[c] = _integers(df[c], source, "employers", c)
        if (out[c] < 0).any():
            raise _problem(source, "employers", f"column '{c}' must be >= 0")
    if out["town_id"].isna().any():
        raise _problem(source, "employers", "column 'town_id' has missing values")
    if (out["n_firms"] < 1).any() or (out["largest"] > out["employees"]).any():
        raise _problem(source, "employers", "expected n_firms >= 1 and largest <= employees in every row")
    dup = out.duplicated(subset=key, keep=False).to_numpy()
    if dup.any():
        raise _problem(source, "employers", f"expected one row per ({', '.join(key)}); {int(dup.sum())} rows share "
                       f"a key, e.g. {tuple(out.loc[dup, key].iloc[0])}")
    return out.sort_values(key, na_position="last", kind="stable").reset_index(drop=True)


def _checked_presence(df: pd.DataFrame, source: str) -> pd.DataFrame:
    need = ["group_id", "town_id", "sector"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise _problem(source, "presence", f"expected columns {need}; missing {missing}")
    out = pd.DataFrame({c: df[c].astype("str") for c in need})
    if out.isna().to_numpy().any():
        raise _problem(source, "presence", "expected a group, a town and a sector in every row")
    return out.drop_duplicates().sort_values(need, kind="stable").reset_index(drop=True)


def _integers(s: pd.Series, source: str, table: str, col: str) -> pd.Series:
    if pd.api.types.is_integer_dtype(s.dtype):
        if s.isna().any():
            raise _problem(source, table, f"column '{col}' has missing values")
        return s.astype("int64")
    raise _problem(source, table, f"column '{col}' must hold integers; found dtype {s.dtype}")


def aggregate_firms(firms: pd.DataFrame, source: str = "in memory") -> RegistryAggregates:
    """The :class:`RegistryAggregates` of an in-memory (validated) ``firms`` table.

    ``employees`` must be whole numbers (they are summed in int64). This is the in-memory
    reference of ``typology.aggregate_registry``, which computes the same tables out of core.
    """
    emp = firms["employees"].to_numpy(dtype=float)
    if not np.isfinite(emp).all() or (emp != np.round(emp)).any():
        bad = np.flatnonzero(~np.isfinite(emp) | (emp != np.round(emp)))
        raise ValueError(f"firms ({source}), column 'employees': the aggregated registry sums whole numbers of "
                         f"employees exactly; {len(bad)} row(s) hold other values, e.g. rows "
                         f"{[int(i) + 1 for i in bad[:5]]} ({[float(emp[i]) for i in bad[:3]]})")
    group = firms["group_id"].astype("str") if "group_id" in firms.columns else pd.Series(
        pd.NA, index=firms.index, dtype="str")
    f = pd.DataFrame({"town_id": firms["town_id"].astype("str"), "group_id": group,
                      "employees": emp.astype(np.int64)})
    key = ["town_id", "group_id"]
    if "year" in firms.columns:
        f["year"] = firms["year"].to_numpy(dtype=np.int64)
        key = ["town_id", "year", "group_id"]
    g = f.groupby(key, dropna=False, sort=False)["employees"]
    employers = g.agg(employees="sum", n_firms="size", largest="max").reset_index()
    has = group.notna().to_numpy()
    presence = pd.DataFrame({"group_id": group[has], "town_id": f["town_id"][has],
                             "sector": firms["sector"].astype("str")[has]}).drop_duplicates()
    years = np.unique(f["year"]) if "year" in f.columns else None
    return RegistryAggregates(employers, presence, pd.unique(firms["sector"].astype("str")), len(firms), years,
                              source)


def employer_years(registry: RegistryAggregates, classified: pd.DataFrame, years=None) -> pd.DataFrame:
    """The aggregated counterpart of :func:`features.corporate.firm_years`: one row per (town,
    year, group or the town-year's independent firms) with ``town_id``, ``year``, ``group_id``,
    ``employees``, ``n_firms``, ``largest``, ``hq_town_id`` and ``vi``.

    A snapshot registry (no ``year``) is repeated for every year in ``years``. The functions of
    :mod:`features.corporate` that read firm-years (:func:`~features.corporate.ownership_edges`,
    :func:`~features.corporate.corporate_ties`) read these rows as well and give the same numbers.
    """
    e = registry.employers
    if "year" not in e.columns:
        if years is None:
            raise ValueError("a firm registry without 'year' needs the years it applies to")
        yrs = np.asarray(sorted(set(int(y) for y in years)), dtype="int64")
        n = len(e)
        e = e.loc[e.index.repeat(len(yrs))].reset_index(drop=True)
        e["year"] = np.tile(yrs, n)
    e = e[["town_id", "year", "group_id", "employees", "n_firms", "largest"]]
    at = classified.index.get_indexer(pd.Index(e["group_id"], dtype=object))
    at = np.where(e["group_id"].notna().to_numpy(), at, -1)
    hq = pd.array(classified["hq_town_id"].astype("str"), dtype="str")
    e["hq_town_id"] = hq.take(at, allow_fill=True)
    vi = classified["vertically_integrated"].to_numpy(dtype=bool)
    e["vi"] = np.where(at >= 0, vi[np.maximum(at, 0)], False) if len(classified) else np.zeros(len(e), dtype=bool)
    return e


def registry_problems(registry: RegistryAggregates, tables: dict[str, pd.DataFrame]) -> list:
    """The references of an aggregated registry checked against the dataset's validated tables:
    its towns in ``towns``, its groups in ``groups``, its sectors OKVED-2 codes or listed in
    ``sectors``. Returns a list of :class:`features.validation.Problem` (empty when it fits)."""
    from .sectors import is_okved_code
    from .validation import Problem

    where = f"firm registry {registry.source}"
    out = []
    towns = pd.Index(tables["towns"]["town_id"]) if "towns" in tables else pd.Index([])
    ids = registry.town_ids.union(pd.Index(registry.presence["town_id"].unique()))
    unknown = ids.difference(towns)
    if len(unknown):
        out.append(Problem(where, "town_id", "identifiers listed in the town_id column of the towns table",
                           f"{len(unknown)} unknown value(s) such as {list(unknown[:5])}"))
    groups = registry.group_ids
    if len(groups) and "groups" not in tables:
        out.append(Problem(where, "group_id", "a groups table describing the groups that firms belong to",
                           "group identifiers but no groups table"))
    elif len(groups):
        unknown = groups.difference(pd.Index(tables["groups"]["group_id"]))
        if len(unknown):
            out.append(Problem(where, "group_id", "identifiers listed in the group_id column of the groups table",
                               f"{len(unknown)} unknown value(s) such as {list(unknown[:5])}"))
    user = set(tables["sectors"]["sector"]) if "sectors" in tables else set()
    bad = [s for s in registry.sectors if not (is_okved_code(s) or s in user)]
    if bad:
        out.append(Problem(where, "sector", "an OKVED-2 / NACE Rev.2 code (section 'A'..'U' or a two-digit division "
                           "'01'..'99') or a code listed in a sectors table",
                           f"{len(bad)} unknown code(s) such as {bad[:5]}"))
    return out
