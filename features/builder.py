"""Feature table of towns: every index family, computed against a reference learned at fit time.

``FeatureBuilder`` follows the scikit-learn contract: parameters in ``__init__``, ``fit(data)``
learns the reference (sector universe, national sector employment of each year, agglomeration
cores, populations and coordinates of all municipalities, group classification, the ownership
network, each town's base-year values, national wages) and ``transform(data)`` computes the
features of any dataset against that reference, so new towns are never scored against
themselves. ``build_features(data)`` is ``FeatureBuilder().fit_transform(data)``.

Rows: one per (``town_id``, ``year``) with employment rows in the data, sorted by town and
year. Columns: the canonical names of DESIGN.md section 5 (see :mod:`features.dictionary`).

The builder orchestrates; the feature groups compute. Each group (:mod:`features.groups`, one
module each) holds its requirements, its own fitted reference and the computation of its
columns from the shared panel; the registry of columns (:mod:`features.dictionary`) says which
columns each group produces. ``fit`` learns the shared reference (sector universe, national
sector employment, cores, the classified registry and ownership network when a planned group
needs them) and asks each planned group to learn its own; ``transform`` builds the panel, runs
the shared pass over the town-year x sector matrix (one year at a time, each group with a row
kernel filling its columns) and asks each planned group for its columns.

What the fitted reference fixes, group by group:

* specialization, diversification: national sector employment of each fitted year (all
  municipalities of the fitted data, the town included); ``k`` = the fitted sectors;
* corporate: the classification of the fitted groups (new groups are classified from the
  scored registry); agglomeration cores;
* agglomeration: cores, and the population field of the fitted municipalities (the
  destinations of market potential and core access); a scored town that is not in the
  reference is an origin only;
* network: the fitted ownership network, in which the scored towns' own ties replace theirs;
* dynamics: each fitted town's base year (its first year) and base values, national sector
  employment and the national average wage. A scored town keeps its fitted base only when it
  is the fitted town: its rows agree with the fitted rows in every year both hold (published
  employment, sector entropy, population, average wage, and the sector vector of the base
  year). A town new to the reference, or a fitted town_id whose rows differ (another dataset
  reusing the ids, revised data), starts from its own first year; the differing ids are
  reported by a ``FeatureWarning`` (how many, the first ones, what differed). Rows that share
  no year with the fitted ones (later years of the same towns, ``score --data next_year``)
  cannot contradict the id and continue from the fitted base year.

Hence scoring any subset of the fitted towns gives the same features as the full panel
(market potential up to floating-point rounding of the blocked matrix products).

Reference years: a year that was not in the fitted data is scored against the nearest fitted
year (the earlier one on ties), and a ``FeatureWarning`` says so.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._matrix import complete_case_reference, row_shares, thread_map
from .corporate import classify_groups, firm_years, ownership_edges
from .data import TownData
from .dictionary import GROUPS, feature, feature_range, group_columns
from .diversification import log_factor
from .errors import FeatureValueError, FeatureWarning
from .firm_registry import employer_years
from .groups import REGISTRY, Panel, RowBlock, Scoring
from .groups.base import nearest_year
from .groups.dynamics import STATUSES, stagnation_status
from .panel import member, panel_cells, positions
from .sectors import hierarchy_from

__all__ = ["STATUSES", "FeatureBuilder", "FeatureValueError", "FeatureWarning", "build_features",
           "stagnation_status"]

_PARAMS = ("groups", "core_population", "base", "missing", "mp_beta", "mp_decay", "self_potential",
           "min_distance_km", "vi_min_towns", "vi_min_sections", "network_links", "n_jobs")


class GroupPlan(NamedTuple):
    """What :meth:`FeatureBuilder.plan` decides: the groups to build, why the others cannot be
    built (group -> reason), and the agglomeration cores."""

    groups: list
    skipped: dict
    cores: pd.Index


class FeatureBuilder:
    """Learn the reference of a dataset and compute the features of towns against it.

    Parameters
    ----------
    groups : sequence of str or None
        Feature groups among ``specialization``, ``diversification``, ``corporate``,
        ``agglomeration``, ``town_village``, ``network``, ``dynamics``. ``None`` (default):
        every group the data can support; the others are skipped with a ``FeatureWarning``
        and listed in ``skipped_``. A group asked for by name whose inputs are missing raises
        ``ValueError``.
    core_population : float
        Towns with at least this population are agglomeration cores when the ``towns`` table
        has no ``is_core`` column (default 250,000).
    base : float
        Log base of entropy and variety (default e, nats).
    missing : {"omit", "raise"}
        Treatment of suppressed cells (see :mod:`features.specialization`).
    mp_beta, mp_decay : float, {"power", "exponential"}
        Distance decay of market potential and core access (default ``d^-1``).
    self_potential : bool
        Add the town's own population at its internal distance (needs ``area_km2``).
    min_distance_km : float
        Floor on distances between distinct municipalities (several municipalities can share
        one centroid in real data); default 1 km.
    vi_min_towns, vi_min_sections : int
        Inference rule for vertical integration of groups without a flag (>= 2 and >= 2).
    network_links : bool
        Add the ``links`` table's weights to the ownership network (default True, as the
        contract asks); set False when their units are not comparable with employees.
    n_jobs : int, optional
        Threads for the numeric work split by year and by block of towns (None or -1: every
        core). Every block is computed the same way whatever the thread: the features do not
        depend on ``n_jobs``.

    Attributes
    ----------
    sectors_, years_ : fitted sector universe and years
    national_ : DataFrame, national employment by year (rows) and sector (columns)
    cores_ : Index of agglomeration cores
    groups_table_ : classification of the corporate groups (or None)
    skipped_ : dict, group -> why it was skipped
    towns_without_employment_ : list of municipalities that have no feature rows
    base_, base_E_ : DataFrame, each fitted town's base year and base values, its base sector vector
    fitted_rows_ : DataFrame, per fitted (town_id, year): published employment, sector entropy,
        population and average wage (to recognise a fitted town among scored towns)
    feature_names_out_ : list of the output columns
    """

    def __init__(self, groups=None, core_population: float = 250_000, base: float = math.e, missing: str = "omit",
                 mp_beta: float = 1.0, mp_decay: str = "power", self_potential: bool = False,
                 min_distance_km: float = 1.0, vi_min_towns: int = 2, vi_min_sections: int = 2,
                 network_links: bool = True, n_jobs: int | None = None):
        self.groups = groups
        self.core_population = core_population
        self.base = base
        self.missing = missing
        self.mp_beta = mp_beta
        self.mp_decay = mp_decay
        self.self_potential = self_potential
        self.min_distance_km = min_distance_km
        self.vi_min_towns = vi_min_towns
        self.vi_min_sections = vi_min_sections
        self.network_links = network_links
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in _PARAMS}

    def set_params(self, **params) -> FeatureBuilder:
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"unknown parameter {k!r}; valid parameters are {sorted(valid)}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        default = FeatureBuilder().get_params()
        changed = {k: v for k, v in self.get_params().items() if v != default[k]}
        return "FeatureBuilder(" + ", ".join(f"{k}={v!r}" for k, v in changed.items()) + ")"

    def check_params(self) -> None:
        """Raise ``ValueError`` naming the first parameter outside its domain (what ``fit`` checks
        first; a run configuration calls it before any data is read)."""
        self._check_params()

    def plan(self, data: TownData) -> GroupPlan:
        """Which feature groups ``data`` can support with these parameters, why the others
        cannot, and the agglomeration cores, without computing anything (the decision ``fit``
        takes; ``groups`` named explicitly are planned as if left to the data). The builder is
        not changed."""
        probe = type(self)(**{**self.get_params(), "groups": None})
        probe.check_params()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe.cores_ = probe._find_cores(data.towns.set_index("town_id"), data.outcomes)
            probe.skipped_ = {}
            groups = probe._plan_groups(data)
        return GroupPlan(list(groups), dict(probe.skipped_), probe.cores_)

    def _check_params(self) -> None:
        if self.groups is not None:
            if isinstance(self.groups, str):
                raise ValueError(f"groups must be a list of group names, got the string {self.groups!r}")
            unknown = [g for g in self.groups if g not in GROUPS]
            if unknown:
                raise ValueError(f"unknown feature group(s) {unknown}; valid groups are {list(GROUPS)}")
        if self.missing not in ("omit", "raise"):
            raise ValueError(f"missing must be 'omit' or 'raise', got {self.missing!r}")
        if self.mp_decay not in ("power", "exponential"):
            raise ValueError(f"mp_decay must be 'power' or 'exponential', got {self.mp_decay!r}")
        if not (np.isfinite(self.mp_beta) and self.mp_beta > 0):
            raise ValueError(f"mp_beta must be a positive number, got {self.mp_beta!r}")
        if not self.core_population > 0:
            raise ValueError(f"core_population must be positive, got {self.core_population!r}")
        if self.n_jobs is not None and (not isinstance(self.n_jobs, int | np.integer) or self.n_jobs == 0):
            raise ValueError(f"n_jobs must be a positive integer, -1 or None, got {self.n_jobs!r}")
        if self.min_distance_km is not None and not self.min_distance_km > 0:
            raise ValueError(f"min_distance_km must be positive or None, got {self.min_distance_km!r}")
        log_factor(self.base)

    # ------------------------------------------------------------------ fit
    def fit(self, data: TownData, y=None) -> FeatureBuilder:
        """Learn the reference from ``data`` (a :class:`features.TownData`)."""
        self._check_params()
        if not isinstance(data, TownData):
            raise TypeError(f"fit expects a features.TownData, got {type(data).__name__}")
        with _floating_point_guard("FeatureBuilder.fit", self):
            self._fit(data)
        return self

    def fit_transform(self, data: TownData, y=None) -> pd.DataFrame:
        """``fit(data).transform(data)``, sharing the work the two steps have in common."""
        self._check_params()
        if not isinstance(data, TownData):
            raise TypeError(f"fit expects a features.TownData, got {type(data).__name__}")
        with _floating_point_guard("FeatureBuilder.fit_transform", self):
            panel, fy = self._fit(data)
            out = self._transform(data, panel, fy)
        return _check_ranges(out, len(self.sectors_), "FeatureBuilder.fit_transform")

    def transform(self, data: TownData) -> pd.DataFrame:
        """Features of every (town, year) of ``data`` against the fitted reference."""
        self._check_fitted()
        if not isinstance(data, TownData):
            raise TypeError(f"transform expects a features.TownData, got {type(data).__name__}")
        with _floating_point_guard("FeatureBuilder.transform", self):
            out = self._transform(data, self._panel(data, self.sectors_), None)
        return _check_ranges(out, len(self.sectors_), "FeatureBuilder.transform")

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.feature_names_out_, dtype=object)

    def _check_fitted(self) -> None:
        if not hasattr(self, "sectors_"):
            raise RuntimeError("this FeatureBuilder is not fitted yet; call fit(data) first")

    def _panel(self, data: TownData, sectors=None) -> Panel:
        """The town-years of ``data`` with their totals and coverage; the dense town-year x sector
        matrix only when a planned group needs sector shares."""
        cells = panel_cells(
            data.employment, sectors=sectors, check_unique=False,
            unknown_hint=" (the sectors the builder was fitted on); refit on data that includes them")
        idx, v = cells.index, cells.values
        n = len(idx)
        if n == 0:
            raise ValueError("employment has no rows: there is nothing to compute features for")
        nan = np.isnan(v)
        if self.missing == "raise" and nan.any():
            r = int(cells.rpos[np.flatnonzero(nan)[0]])
            raise ValueError(f"employment has {int(nan.sum())} suppressed (empty) cell(s), e.g. town-year "
                             f"{idx[r]}; use missing='omit' to compute shares over the published sectors")
        v0 = np.where(nan, 0.0, v)
        total = cells.row_sums(v0)
        n_nan = cells.row_counts(nan)
        n_rep = cells.row_counts() - cells.row_counts(v == 0)  # reported: positive or suppressed
        with np.errstate(invalid="ignore", divide="ignore"):
            coverage = np.where(n_rep > 0, 1.0 - n_nan / np.maximum(n_rep, 1), np.nan)
        E = None
        if _needs(self._planned(), "shares"):
            X = np.zeros((n, len(cells.columns)))
            X.reshape(-1)[cells.flat()] = v
            E = pd.DataFrame(X, index=idx, columns=cells.columns, copy=False)
        return Panel(idx, list(cells.columns), cells.cpos, cells.rpos, v0, total, coverage, E)

    def _fit(self, data: TownData):
        """Learn the shared reference and what each planned group needs (and only that);
        returns the panel and the classified registry for ``fit_transform`` to reuse."""
        towns = data.towns.set_index("town_id")
        keep = [c for c in ("lat", "lon", "kind", "area_km2", "population", "region", "name") if c in towns.columns]
        self.towns_ = towns[keep].copy()
        self.cores_ = self._find_cores(towns, data.outcomes)
        self.skipped_: dict[str, str] = {}
        self.groups_plan_ = self._plan_groups(data)
        planned = self._planned()
        panel = self._panel(data)
        self.sectors_ = list(panel.columns)
        self.hierarchy_ = hierarchy_from(self.sectors_, data.sectors)
        years = panel.index.get_level_values("year").to_numpy()
        self.years_ = np.unique(years)
        k = len(self.sectors_)
        cell = np.searchsorted(self.years_, years)[panel.rpos]  # (year, sector) of each cell, in place
        cell *= k
        cell += panel.cpos
        nat = np.bincount(cell, weights=panel.values, minlength=len(self.years_) * k)
        del cell
        self.national_ = pd.DataFrame(nat.reshape(len(self.years_), k), index=pd.Index(self.years_, name="year"),
                                      columns=pd.Index(self.sectors_, name="sector"))
        fy = None
        self.groups_table_ = None
        self.edges_ = None
        if data.has_firms and data.groups is not None and _needs(planned, "firms"):
            self.groups_table_ = classify_groups(_group_presence(data), data.groups, self.vi_min_towns,
                                                 self.vi_min_sections, self.hierarchy_)
            fy = _registry_years(data, self.groups_table_, self.years_)
            if _needs(planned, "edges"):
                self.edges_ = ownership_edges(fy)
        self.links_ = self._links(data.links) if data.links is not None else None
        for g in REGISTRY:  # each group's own reference (its attributes exist, None, when it is not planned)
            for name, value in g.fitted:
                setattr(self, name, list(value) if isinstance(value, list) else value)
            if g in planned and g.fit is not None:
                g.fit(self, data, panel)
        have_rows = pd.Index(panel.index.get_level_values("town_id").unique())
        self.towns_without_employment_ = sorted(towns.index[~member(towns.index, have_rows)])
        if self.towns_without_employment_:
            n = len(self.towns_without_employment_)
            warnings.warn(f"{n} municipality(ies) have no employment rows and get no feature rows (they still "
                          f"count as destinations, cores and network nodes), e.g. {self.towns_without_employment_[:5]}",
                          FeatureWarning, stacklevel=3)
        self.feature_names_out_ = self._columns()
        self.n_towns_ = len(have_rows)
        return panel, fy

    def _find_cores(self, towns: pd.DataFrame, outcomes) -> pd.Index:
        if "is_core" in towns.columns:
            flag = towns["is_core"].astype("boolean").fillna(False).to_numpy(dtype=bool)
            return pd.Index(towns.index[flag], name="town_id")
        pop = towns["population"] if "population" in towns.columns else pd.Series(np.nan, index=towns.index)
        if outcomes is not None and "population" in outcomes.columns:  # else the latest published population
            value = outcomes["population"].to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(value)
            at = positions(towns.index, outcomes["town_id"][ok])
            year = outcomes["year"].to_numpy(dtype="int64")[ok][at >= 0]
            value, at = value[ok][at >= 0], at[at >= 0]
            latest = np.full(len(towns), np.iinfo(np.int64).min)
            np.maximum.at(latest, at, year)
            last = np.full(len(towns), np.nan)
            pick = year == latest[at]  # one row per (town, year) in validated data
            last[at[pick]] = value[pick]
            pop = pop.fillna(pd.Series(last, index=towns.index))
        return pd.Index(towns.index[(pop >= self.core_population).to_numpy()], name="town_id")

    @staticmethod
    def _links(links: pd.DataFrame) -> pd.DataFrame:
        lk = links.rename(columns={"source_town_id": "source", "target_town_id": "target"})
        cols = ["source", "target"] + (["year"] if "year" in lk.columns else [])
        return lk.groupby(cols, as_index=False)["weight"].sum()

    def _plan_groups(self, data: TownData) -> dict[str, None]:
        """Which groups run (each group's requirements, :mod:`features.groups`); the others go
        to ``skipped_`` with the reason. Needs ``cores_``."""
        wanted = GROUPS if self.groups is None else tuple(self.groups)
        plan = {}
        for g in REGISTRY:
            if not g.selectable or g.name not in wanted:
                continue
            reason = g.unsupported(self, data) if g.unsupported is not None else None
            if reason is not None:
                if self.groups is not None:
                    raise ValueError(f"feature group {g.name!r} cannot be built: {reason}")
                self.skipped_[g.name] = reason
                warnings.warn(f"feature group {g.name!r} skipped: {reason}", FeatureWarning, stacklevel=4)
                continue
            plan[g.name] = None
        return plan

    def _planned(self) -> list:
        """The planned groups, in table order, the always-built ones included."""
        return [g for g in REGISTRY if g.name in self.groups_plan_ or not g.selectable]

    def _columns(self) -> list[str]:
        available = ("links",) if self.links_ is not None else ()
        return [c for g in self._planned() for c in group_columns(g.name, available)]

    # ------------------------------------------------------------------ transform
    def _transform(self, data: TownData, panel: Panel, fy) -> pd.DataFrame:
        """The shared panel pass, then each planned group's columns."""
        years = panel.index.get_level_values("year").to_numpy()
        new_years = sorted(set(years.tolist()) - set(self.years_.tolist()))
        if new_years:
            warnings.warn(f"year(s) {new_years} were not in the fitted data; they are scored against the nearest "
                          "fitted year's national shares, population field and network", FeatureWarning, stacklevel=3)
        planned = self._planned()
        scoring = Scoring(data, panel, years, pd.DataFrame(index=panel.index), fitted_data=fy is not None)
        if panel.E is not None:
            scoring.X = panel.E.to_numpy()
            self._row_pass(scoring, planned)
        if _needs(planned, "firms"):
            scoring.fy, scoring.edges = self._scored_ownership(data, scoring.rows, fy)
        scoring.towns = self._merged_towns(data)
        if _needs(planned, "links"):  # grouped once for every group that reads them
            scoring.links = self._links(data.links) if data.links is not None else self.links_
        cols: dict[str, np.ndarray] = {}
        for g in planned:
            cols.update(g.compute(self, scoring))
        out = pd.DataFrame({c: cols[c] for c in self.feature_names_out_}, index=panel.index)
        for c in out.columns:
            if feature(c).dtype == "str":
                out[c] = out[c].astype("str")
        return out

    def _row_pass(self, scoring: Scoring, planned: list) -> None:
        """The shared pass over the town-year x sector matrix, one year at a time (each year has
        its own national reference), the work inside a year vectorized over towns: each planned
        group with a row kernel fills its columns of the year's rows."""
        X, years = scoring.X, scoring.years
        kernels = [g for g in planned if g.fill_rows is not None]
        scoring.state = {g.name: g.start_rows(self, len(X)) for g in kernels}
        k = X.shape[1]
        lf = log_factor(self.base)
        nat = self.national_.to_numpy()
        nat_share = nat / nat.sum(axis=1, keepdims=True)
        ref_pos = np.searchsorted(self.years_, nearest_year(self.years_, years))
        order = np.argsort(years, kind="stable")
        bounds = np.flatnonzero(np.r_[True, years[order][1:] != years[order][:-1], True])

        def year_block(ab) -> None:  # one year: its own national reference; vectorized over towns
            rows = order[ab[0]:ab[1]]
            s, _, valid = row_shares(X[rows])
            S = complete_case_reference(nat_share[ref_pos[rows[0]]], s)
            block = RowBlock(rows, s, valid, S, k, lf)
            for g in kernels:
                g.fill_rows(self, scoring.state[g.name], block)

        thread_map(year_block, list(zip(bounds[:-1], bounds[1:], strict=True)), self.n_jobs)
        scoring.order, scoring.bounds = order, bounds

    def _merged_towns(self, data: TownData) -> pd.DataFrame:
        """Reference municipalities updated with (and extended by) the scored data's towns."""
        new = data.towns.set_index("town_id")[[c for c in self.towns_.columns if c in data.towns.columns]]
        return pd.concat([self.towns_[~member(self.towns_.index, new.index)], new])

    def _scored_ownership(self, data: TownData, E: pd.DataFrame, fy):
        """The scored data's firm-years and the reference ownership network in which the scored
        town-years' incoming ties are replaced by those of the scored registry."""
        years = np.unique(E.index.get_level_values("year").to_numpy())
        if fy is not None:  # fit_transform: the scored data is the fitted data
            return fy, self.edges_
        if data.has_firms and data.groups is not None and self.groups_table_ is not None:
            known = self.groups_table_
            fresh = classify_groups(_group_presence(data), data.groups, self.vi_min_towns, self.vi_min_sections,
                                    self.hierarchy_)
            classified = pd.concat([known, fresh[~member(fresh.index, known.index)]])
            fy = _registry_years(data, classified, years)
            new_edges = ownership_edges(fy)
        else:
            fy = pd.DataFrame({"firm_id": pd.Series([], dtype="str"), "town_id": pd.Series([], dtype="str"),
                               "year": pd.Series([], dtype="int64"), "employees": pd.Series([], dtype=float),
                               "group_id": pd.Series([], dtype="str"), "hq_town_id": pd.Series([], dtype="str"),
                               "vi": pd.Series([], dtype=bool)})
            new_edges = None
        if self.edges_ is None:
            return fy, new_edges
        ref = self.edges_
        # reference edges, carried to the scored years (a new year takes the nearest fitted year)
        ref_years = nearest_year(self.years_, years)
        carried = pd.concat([ref[ref["year"] == ry].assign(year=y) for y, ry in zip(years, ref_years, strict=True)],
                            ignore_index=True)
        covered = E.index.to_frame(index=False)[["town_id", "year"]].rename(columns={"town_id": "target"})
        carried = carried.merge(covered.assign(_cov=True), on=["target", "year"], how="left")
        carried = carried[carried["_cov"].isna()].drop(columns="_cov")
        if new_edges is not None and len(new_edges):
            merged = pd.concat([new_edges, carried], ignore_index=True)
            merged = merged.drop_duplicates(subset=["year", "source", "target"], keep="first")
        else:
            merged = carried
        return fy, merged.sort_values(["year", "source", "target"]).reset_index(drop=True)


def _group_presence(data: TownData) -> pd.DataFrame:
    """What classifies the groups: the firms table, or the (group, town, sector) presences of an
    aggregated registry (the same distinct towns and sections per group)."""
    return data.firms if data.registry is None else data.registry.presence


def _registry_years(data: TownData, classified: pd.DataFrame, years) -> pd.DataFrame:
    """The firm-years of the firms table, or the employer-years of an aggregated registry (the
    corporate kernels read both and give the same numbers)."""
    if data.registry is None:
        return firm_years(data.firms, classified, years=years)
    return employer_years(data.registry, classified, years=years)


def _needs(groups, what: str) -> bool:
    """Whether one of ``groups`` needs the shared input ``what`` ("shares", "firms", "edges", "links")."""
    return any(what in g.needs for g in groups)


# ------------------------------------------------------------------ floating-point guard
#: Builder steps outside the group modules, by what they compute (to name it in messages); a
#: step inside ``features/groups/<group>.py`` is named by its group.
_STEP_GROUP = {"_row_pass": "specialization / diversification / dynamics",
               "_scored_ownership": "corporate / network", "_panel": "the employment panel", "_fit": "the reference"}
_GROUP_MODULES = {g.compute.__module__.rsplit(".", 1)[-1]: g.name for g in REGISTRY}


@contextlib.contextmanager
def _floating_point_guard(where: str, builder: FeatureBuilder):
    """Overflow, invalid operations and division by zero raise inside the feature build.

    The kernels that legitimately meet ``0/0`` or ``x/0`` (a town without published employment,
    a sector absent from the reference, ``0 ln 0``) say so with their own local
    ``np.errstate(invalid="ignore", divide="ignore")`` and mask the result; anything else is a
    defect or an input beyond float64, and a ``FloatingPointError`` becomes a
    :class:`FeatureValueError` naming the step. ``thread_map`` carries these settings into its
    threads. Underflow (a distance decay reaching 0) is not an error.
    """
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        try:
            yield
        except FloatingPointError as exc:
            raise FeatureValueError(_fp_message(where, builder, exc)) from exc


def _fp_message(where: str, builder: FeatureBuilder, exc: FloatingPointError) -> str:
    steps, kernel = [], None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        path = code.co_filename.replace("\\", "/")
        if "/features/groups/" in path and path.rsplit("/", 1)[-1][:-3] in _GROUP_MODULES:
            steps.append(_GROUP_MODULES[path.rsplit("/", 1)[-1][:-3]])
        elif code.co_name in _STEP_GROUP:
            steps.append(_STEP_GROUP[code.co_name])
        if "/features/" in path:
            kernel = f"{code.co_name} ({path.rsplit('/features/', 1)[-1]})"
        tb = tb.tb_next
    group = steps[-1] if steps else "the features"
    return (f"{where}: floating-point error while computing {group} ({exc}, in {kernel}): an input value or a "
            "parameter is beyond what float64 can hold (validated datasets hold counts below 1e10 and amounts "
            f"below 1e15; check mp_beta={builder.mp_beta!r}, min_distance_km={builder.min_distance_km!r} and, "
            f"with self_potential={builder.self_potential!r}, very small area_km2 values). No features were "
            "returned.")


_TOL = 1e-9


def _check_ranges(F: pd.DataFrame, k: int, where: str) -> pd.DataFrame:
    """Raise :class:`FeatureValueError` when a feature is infinite or outside the range its
    definition allows (:func:`features.dictionary.feature_range`), naming the feature and the
    first town-years (a guard on the numeric core: it never fires on validated data unless a
    kernel is wrong)."""
    bad_msgs = []
    for c in F.columns:
        if not pd.api.types.is_float_dtype(F[c].dtype):
            continue
        v = F[c].to_numpy(dtype=float)
        lo, hi = feature_range(c, k)
        with np.errstate(invalid="ignore"):
            bad = np.isinf(v)
            if lo is not None:
                bad |= v < lo - _TOL
            if hi is not None:
                bad |= v > hi + _TOL
        if bad.any():
            pos = np.flatnonzero(bad)
            where_ = ", ".join(f"({F.index[i][0]!r}, {F.index[i][1]})" for i in pos[:5])
            rng = f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
            bad_msgs.append(f"'{c}' outside {rng} or infinite in {len(pos)} town-year(s), e.g. {where_} "
                            f"(value {float(v[pos[0]]):.6g})")
    if bad_msgs:
        raise FeatureValueError(f"{where}: impossible feature values: " + "; ".join(bad_msgs)
                                + ". This is a defect of the numeric core or an input beyond float64; "
                                "no features were returned.")
    return F


def build_features(data: TownData, **params) -> pd.DataFrame:
    """All features of ``data`` in one call: ``FeatureBuilder(**params).fit_transform(data)``.

    Returns a DataFrame indexed by (``town_id``, ``year``); see :class:`FeatureBuilder` for the
    parameters and :func:`features.dictionary.data_dictionary` for the columns.
    """
    return FeatureBuilder(**params).fit_transform(data)
