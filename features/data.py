"""The validated, immutable container of a dataset's tables."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from .firm_registry import RegistryAggregates, registry_problems
from .validation import TABLES, DataValidationError, validate_tables

__all__ = ["TownData"]


class TownData:
    """A validated dataset: ``towns`` and ``employment`` plus the optional tables of the contract.

    Build one with :meth:`TownData.from_tables` (in memory) or ``typology.read_dataset`` (from a
    folder of CSV or Parquet files); both validate every table once and raise
    ``DataValidationError`` listing all problems.

    The object is immutable: each table attribute returns a fresh copy (cheap under pandas'
    copy-on-write), so changing it never changes the dataset. ``notes`` holds what validation
    found worth saying (suppressed cells, towns without employment, converted identifiers).
    Derive new datasets with :meth:`subset` or :meth:`replace`.

    A firm registry too large for memory is carried as its town-year aggregates
    (:class:`features.firm_registry.RegistryAggregates`, ``registry=``, or ``firms=`` of
    :meth:`from_tables`): then ``firms`` is None, ``registry`` holds the aggregates and
    ``has_firms`` is True; the feature builder reads either form and gives the same features.
    """

    __slots__ = ("_notes", "_registry", "_source", "_tables")

    def __init__(self, tables: dict[str, pd.DataFrame], notes=(), source: str = "in memory", _validated: bool = False,
                 registry: RegistryAggregates | None = None):
        if registry is not None and not isinstance(registry, RegistryAggregates):
            raise TypeError(f"registry must be a features.firm_registry.RegistryAggregates, got {type(registry).__name__}")
        if not _validated:
            tables, extra = validate_tables(tables, source=source)
            notes = tuple(notes) + tuple(extra)
            if registry is not None:
                _check_registry(registry, tables, source)
                notes = tuple(n for n in notes if not n.startswith("groups given without firms"))
        object.__setattr__(self, "_tables", {k: v.copy() for k, v in tables.items()})
        object.__setattr__(self, "_notes", tuple(notes))
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_registry", registry)

    def __setattr__(self, name, value):
        raise AttributeError("TownData is immutable; use replace() or subset() to derive a new dataset")

    def __reduce__(self):
        # pickling (joblib, multiprocessing) rebuilds from the validated tables, no re-validation
        return (_restore, (self._tables, self._notes, self._source, self._registry))

    @classmethod
    def from_tables(cls, towns: pd.DataFrame, employment: pd.DataFrame, firms=None, groups=None, links=None,
                    outcomes=None, sectors=None, source: str = "in memory") -> TownData:
        """Validate in-memory tables and wrap them (see the data contract for the columns);
        ``firms`` may be a firm table or the :class:`~features.firm_registry.RegistryAggregates`
        of one."""
        registry = firms if isinstance(firms, RegistryAggregates) else None
        raw = {"towns": towns, "employment": employment, "firms": None if registry is not None else firms,
               "groups": groups, "links": links, "outcomes": outcomes, "sectors": sectors}
        return cls({k: v for k, v in raw.items() if v is not None}, source=source, registry=registry)

    # -- tables -------------------------------------------------------------------------
    def _get(self, name: str):
        df = self._tables.get(name)
        return None if df is None else df.copy(deep=False)

    @property
    def towns(self) -> pd.DataFrame:
        return self._get("towns")

    @property
    def employment(self) -> pd.DataFrame:
        return self._get("employment")

    @property
    def firms(self) -> pd.DataFrame | None:
        return self._get("firms")

    @property
    def registry(self) -> RegistryAggregates | None:
        """The firm registry as town-year aggregates (None when it is a ``firms`` table or absent)."""
        return self._registry

    @property
    def has_firms(self) -> bool:
        """The dataset has a firm registry, as a ``firms`` table or as aggregates."""
        return "firms" in self._tables or self._registry is not None

    @property
    def groups(self) -> pd.DataFrame | None:
        return self._get("groups")

    @property
    def links(self) -> pd.DataFrame | None:
        return self._get("links")

    @property
    def outcomes(self) -> pd.DataFrame | None:
        return self._get("outcomes")

    @property
    def sectors(self) -> pd.DataFrame | None:
        return self._get("sectors")

    @property
    def notes(self) -> tuple[str, ...]:
        return self._notes

    @property
    def source(self) -> str:
        return self._source

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t for t in TABLES if t in self._tables)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Copies of all tables, by name."""
        return {k: self._get(k) for k in self.table_names}

    @property
    def years(self) -> np.ndarray:
        return np.sort(self._tables["employment"]["year"].unique())

    @property
    def town_ids(self) -> pd.Index:
        return pd.Index(self._tables["towns"]["town_id"], name="town_id")

    # -- derived datasets -----------------------------------------------------------------
    def replace(self, **tables) -> TownData:
        """A new, re-validated dataset with some tables replaced (``None`` removes an optional table;
        ``firms`` may be given as :class:`~features.firm_registry.RegistryAggregates`)."""
        new = self.tables()
        registry = self._registry
        for k, v in tables.items():
            if k not in TABLES:
                raise ValueError(f"unknown table {k!r}; tables are {list(TABLES)}")
            if k == "firms":
                registry = v if isinstance(v, RegistryAggregates) else None
                v = None if registry is not None else v
            if v is None:
                new.pop(k, None)
            else:
                new[k] = v
        return TownData(new, source=self._source, registry=registry)

    def subset(self, town_ids, keep_context: bool = True) -> TownData:
        """The dataset restricted to some towns.

        ``employment`` and ``outcomes`` keep the rows of the given towns. With
        ``keep_context=True`` (default) the ``towns`` table keeps every town referenced by the
        kept firms, groups and links (headquarters, controlled rural municipalities), so the
        subset stays valid; firms are kept when they sit in a kept town or belong to a group
        headquartered in one.
        """
        ids = pd.Index([str(t) for t in town_ids])
        t = self._tables
        unknown = ids.difference(t["towns"]["town_id"])
        if len(unknown):
            raise ValueError(f"unknown town_id(s) {list(unknown[:5])}")
        out: dict[str, pd.DataFrame] = {}
        out["employment"] = t["employment"][t["employment"]["town_id"].isin(ids)]
        if "outcomes" in t:
            out["outcomes"] = t["outcomes"][t["outcomes"]["town_id"].isin(ids)]
        keep_towns = set(ids)
        if "groups" in t:
            out["groups"] = t["groups"]
        if "firms" in t:
            f = t["firms"]
            in_town = f["town_id"].isin(ids)
            if "groups" in t and "group_id" in f.columns:
                hq = t["groups"].set_index("group_id")["hq_town_id"]
                from_town = f["group_id"].map(hq).isin(ids)
            else:
                from_town = pd.Series(False, index=f.index)
            out["firms"] = f[in_town | from_town]
        registry = self._subset_registry(ids)
        if "links" in t:
            lk = t["links"]
            out["links"] = lk[lk["source_town_id"].isin(ids) | lk["target_town_id"].isin(ids)]
        if keep_context:
            if registry is not None:
                keep_towns |= set(registry.town_ids) | set(registry.presence["town_id"])
            if "groups" in out:
                keep_towns |= set(out["groups"]["hq_town_id"])
            if "firms" in out:
                keep_towns |= set(out["firms"]["town_id"])
            if "links" in out:
                keep_towns |= set(out["links"]["source_town_id"]) | set(out["links"]["target_town_id"])
        out["towns"] = t["towns"][t["towns"]["town_id"].isin(keep_towns)]
        if "sectors" in t:
            out["sectors"] = t["sectors"]
        out = {k: v.reset_index(drop=True) for k, v in out.items() if len(v) or k in ("towns", "employment")}
        return TownData(out, source=f"{self._source} (subset of {len(ids)} towns)", registry=registry)

    def _subset_registry(self, ids: pd.Index) -> RegistryAggregates | None:
        """The aggregated registry of the firms that :meth:`subset` keeps (in a kept town or in a
        group headquartered in one)."""
        reg = self._registry
        if reg is None:
            return None
        hq = self._tables["groups"].set_index("group_id")["hq_town_id"] if "groups" in self._tables else None

        def kept(df: pd.DataFrame) -> np.ndarray:
            keep = df["town_id"].isin(ids).to_numpy()
            if hq is not None:
                keep = keep | df["group_id"].map(hq).isin(ids).to_numpy()
            return keep

        sub = reg.subset(kept(reg.employers), kept(reg.presence))
        return sub if len(sub.employers) else None

    # -- descriptions ---------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Rows and columns of each table, with the years covered."""
        rows = []
        for name in self.table_names:
            df = self._tables[name]
            years = ""
            if "year" in df.columns and len(df):
                years = f"{int(df['year'].min())}-{int(df['year'].max())}"
            rows.append({"table": name, "rows": len(df), "columns": len(df.columns), "years": years})
        reg = self._registry
        if reg is not None:  # the firm rows it aggregates; its columns: the contract's four, year, group_id
            years = f"{reg.years[0]}-{reg.years[-1]}" if reg.years else ""
            rows.insert(2, {"table": "firms", "rows": reg.n_rows, "columns": 4 + reg.has_year + 1, "years": years})
        return pd.DataFrame(rows).set_index("table")

    def fingerprint(self) -> str:
        """sha256 of the tables' contents (stable across row order is *not* promised)."""
        h = hashlib.sha256()
        for name in self.table_names:
            h.update(name.encode())
            h.update(pd.util.hash_pandas_object(self._tables[name], index=False).to_numpy().tobytes())
        if self._registry is not None:
            h.update(b"registry" + self._registry.fingerprint().encode())
        return h.hexdigest()

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={len(self._tables[n])}" for n in self.table_names)
        if self._registry is not None:
            parts += f", firms={self._registry.n_rows} (aggregated)"
        return f"TownData({parts}; source={self._source!r})"


def _check_registry(registry: RegistryAggregates, tables: dict, source: str) -> None:
    if "firms" in tables:
        raise ValueError(f"{source}: a firms table and an aggregated firm registry were both given; give one")
    problems = registry_problems(registry, tables)
    if problems:
        raise DataValidationError(problems, source)


def _restore(tables, notes, source, registry=None) -> TownData:
    return TownData(tables, notes=notes, source=source, _validated=True, registry=registry)
