"""Feature table of towns: every index family, computed against a reference learned at fit time.

``FeatureBuilder`` follows the scikit-learn contract: parameters in ``__init__``, ``fit(data)``
learns the reference (sector universe, national sector employment of each year, agglomeration
cores, populations and coordinates of all municipalities, group classification, the ownership
network, each town's base-year values, national wages) and ``transform(data)`` computes the
features of any dataset against that reference, so new towns are never scored against
themselves. ``build_features(data)`` is ``FeatureBuilder().fit_transform(data)``.

Rows: one per (``town_id``, ``year``) with employment rows in the data, sorted by town and
year. Columns: the canonical names of DESIGN.md section 5 (see :mod:`features.dictionary`).

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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._matrix import complete_case_reference, row_shares, thread_map
from .connectivity import _haversine, market_potential_from_coords, ownership_centrality
from .corporate import classify_groups, corporate_ties, firm_years, ownership_edges
from .data import TownData
from .dictionary import GROUPS
from .diversification import _entropy_rows, _group_matrix, _log_factor, _variety
from .dynamics import annualized_growth, shift_share
from .panel import _member, _panel_cells, _positions, _row_positions
from .sectors import hierarchy_from
from .specialization import _hachman, _hhi, _hhi_norm, _krugman, _leading, _lq, _ogive, _theil

__all__ = ["STATUSES", "FeatureBuilder", "FeatureValueError", "FeatureWarning", "build_features",
           "stagnation_status"]


class FeatureWarning(UserWarning):
    """Something about the data that changes what a feature means (skipped group, year mapped,
    rows left out)."""


_ROW_BLOCK = 65_536  # rows of the employment matrix handled at once where only row sums are needed


class FeatureValueError(ValueError):
    """A feature could not be computed in floating point (an overflow or an invalid operation
    that no kernel expects), or came out outside the range its definition allows. No feature
    table is returned: a wrong number is never passed on with a warning."""


_SPEC_COLS = ["lq_max", "leading_sector", "leading_share", "n_specialized", "krugman", "hhi", "hhi_norm",
              "theil", "hachman", "ogive"]
_DIV_COLS = ["entropy", "related_variety", "unrelated_variety", "effective_sectors"]
_CORP_COLS = ["corp_share", "external_control_share", "core_control_share", "largest_employer_share", "n_groups"]
_AGG_COLS = ["dist_core_km", "market_potential", "core_access", "core_links"]
_TV_COLS = ["rural_reach", "rural_links"]
_NET_COLS = ["pagerank", "hub", "authority", "betweenness"]
_DYN_COLS = ["pop_growth", "emp_growth", "wage_growth", "entropy_change", "ss_national_share",
             "ss_industry_mix", "ss_competitive", "status"]
GROUP_COLUMNS = {"specialization": _SPEC_COLS, "diversification": _DIV_COLS, "corporate": _CORP_COLS,
                 "agglomeration": _AGG_COLS, "town_village": _TV_COLS, "network": _NET_COLS,
                 "dynamics": _DYN_COLS}

STATUSES = ("stagnating", "intermediate", "modernizing")
_SHARE_GROUPS = ("specialization", "diversification", "dynamics")  # need the town-year x sector matrix
_FIRM_GROUPS = ("corporate", "agglomeration", "town_village", "network")  # need the classified registry
_EDGE_GROUPS = ("agglomeration", "town_village", "network")  # need the ownership network

_PARAMS = ("groups", "core_population", "base", "missing", "mp_beta", "mp_decay", "self_potential",
           "min_distance_km", "vi_min_towns", "vi_min_sections", "network_links", "n_jobs")


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
        _log_factor(self.base)

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

    def _panel(self, data: TownData, sectors=None) -> _Panel:
        """The town-years of ``data`` with their totals and coverage; the dense town-year x sector
        matrix only when a planned group needs sector shares."""
        cells = _panel_cells(
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
        if set(self.groups_plan_) & set(_SHARE_GROUPS):
            X = np.zeros((n, len(cells.columns)))
            X.reshape(-1)[cells.flat()] = v
            E = pd.DataFrame(X, index=idx, columns=cells.columns, copy=False)
        return _Panel(idx, list(cells.columns), cells.cpos, cells.rpos, v0, total, coverage, E)

    def _fit(self, data: TownData):
        """Learn what the planned groups need (and only that); returns the panel and the
        classified registry for ``fit_transform`` to reuse."""
        towns = data.towns.set_index("town_id")
        keep = [c for c in ("lat", "lon", "kind", "area_km2", "population", "region", "name") if c in towns.columns]
        self.towns_ = towns[keep].copy()
        self.cores_ = self._find_cores(towns, data.outcomes)
        self.skipped_: dict[str, str] = {}
        self.groups_plan_ = self._plan_groups(data)
        plan = self.groups_plan_
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
        self.masses_ = None
        self.towns_without_mass_ = []
        if "agglomeration" in plan:
            self.masses_ = self._masses(data, self.towns_, self.years_)
            self.towns_without_mass_ = list(self.masses_.index[self.masses_.isna().any(axis=1)])
        fy = None
        self.groups_table_ = None
        self.edges_ = None
        if data.firms is not None and data.groups is not None and set(plan) & set(_FIRM_GROUPS):
            self.groups_table_ = classify_groups(data.firms, data.groups, self.vi_min_towns, self.vi_min_sections,
                                                 self.hierarchy_)
            fy = firm_years(data.firms, self.groups_table_, years=self.years_)
            if set(plan) & set(_EDGE_GROUPS):
                self.edges_ = ownership_edges(fy)
        self.links_ = self._links(data.links) if data.links is not None else None
        self.base_ = self.base_E_ = self.national_wage_ = self.fitted_rows_ = None
        if "dynamics" in plan:
            self.base_, self.base_E_ = self._base_values(data, panel.E)
            self.national_wage_ = self._national_wage(data, panel.index, panel.total)
            self.fitted_rows_ = self._row_fingerprint(data, panel.E, panel.total)
        have_rows = pd.Index(panel.index.get_level_values("town_id").unique())
        self.towns_without_employment_ = sorted(towns.index[~_member(towns.index, have_rows)])
        if self.towns_without_employment_:
            n = len(self.towns_without_employment_)
            warnings.warn(f"{n} municipality(ies) have no employment rows and get no feature rows (they still "
                          f"count as destinations, cores and network nodes), e.g. {self.towns_without_employment_[:5]}",
                          FeatureWarning, stacklevel=3)
        if self.towns_without_mass_:
            warnings.warn(f"{len(self.towns_without_mass_)} municipality(ies) have no population in any year and are "
                          "left out of the destinations of market potential and core access, e.g. "
                          f"{self.towns_without_mass_[:5]}", FeatureWarning, stacklevel=3)
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
            at = _positions(towns.index, outcomes["town_id"][ok])
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
    def _masses(data: TownData, towns: pd.DataFrame, years) -> pd.DataFrame:
        """Population of every municipality in every year: the year's value, else the nearest
        year's value of the same town (the earlier on ties), else the towns table's population."""
        years = np.asarray(years)
        M = pd.DataFrame(np.nan, index=towns.index, columns=pd.Index(years, name="year"))
        out = data.outcomes
        if out is not None and "population" in out.columns:
            p = out.dropna(subset=["population"])
            p = p[_member(p["town_id"], towns.index)]
            if len(p):
                P = p.pivot(index="town_id", columns="year", values="population").reindex(index=towns.index)
                have_years = P.columns.to_numpy()
                V = P.to_numpy(dtype=float)
                # nearest observed year of the same town, vectorized over towns
                ok = ~np.isnan(V)
                dist = np.abs(years[None, :, None] - have_years[None, None, :]).astype(float)  # 1 x T x Y
                dist = np.where(ok[:, None, :], dist, np.inf)  # N x T x Y
                # ties go to the earlier year: add a tiny penalty to later years
                dist = dist + (have_years[None, None, :] > years[None, :, None]) * 0.5
                pick = np.argmin(dist, axis=2)
                found = np.isfinite(np.take_along_axis(dist, pick[:, :, None], axis=2)[:, :, 0])
                vals = np.take_along_axis(V, pick, axis=1)
                M = pd.DataFrame(np.where(found, vals, np.nan), index=towns.index,
                                 columns=pd.Index(years, name="year"))
        if "population" in towns.columns:
            fill = towns["population"].to_numpy(dtype=float)[:, None]
            M = pd.DataFrame(np.where(np.isnan(M.to_numpy()), fill, M.to_numpy()), index=M.index, columns=M.columns)
        return M

    @staticmethod
    def _links(links: pd.DataFrame) -> pd.DataFrame:
        lk = links.rename(columns={"source_town_id": "source", "target_town_id": "target"})
        cols = ["source", "target"] + (["year"] if "year" in lk.columns else [])
        return lk.groupby(cols, as_index=False)["weight"].sum()

    def _plan_groups(self, data: TownData) -> dict[str, None]:
        """Which groups run; the others go to ``skipped_`` with the reason."""
        reasons: dict[str, str | None] = dict.fromkeys(GROUPS)
        has_firms = data.firms is not None and data.groups is not None
        if not has_firms:
            reasons["corporate"] = "needs the firms and groups tables"
        if len(self.cores_) == 0:
            reasons["agglomeration"] = ("no agglomeration cores: the towns table has no is_core flag and no town "
                                        f"reaches core_population={self.core_population:g}")
        kinds = data.towns["kind"] if "kind" in data.towns.columns else pd.Series([], dtype=str)
        if not (kinds == "rural").any():
            reasons["town_village"] = "needs rural municipalities (towns.kind == 'rural')"
        elif not has_firms and data.links is None:
            reasons["town_village"] = "needs the firms and groups tables or the links table"
        if not has_firms and (data.links is None or not self.network_links):
            reasons["network"] = "needs the firms and groups tables (or links)"
        wanted = GROUPS if self.groups is None else tuple(self.groups)
        plan = {}
        for g in GROUPS:
            if g not in wanted:
                continue
            if reasons[g] is not None:
                if self.groups is not None:
                    raise ValueError(f"feature group {g!r} cannot be built: {reasons[g]}")
                self.skipped_[g] = reasons[g]
                warnings.warn(f"feature group {g!r} skipped: {reasons[g]}", FeatureWarning, stacklevel=4)
                continue
            plan[g] = None
        return plan

    def _base_values(self, data: TownData, E: pd.DataFrame):
        """Each town's first year in ``E`` and its values then (employment, entropy, population,
        average wage, the sector vector)."""
        ids = E.index.get_level_values("town_id")
        years = E.index.get_level_values("year").to_numpy()
        first = np.r_[True, ids[1:] != ids[:-1]] if len(ids) else np.zeros(0, bool)  # E is sorted by town, year
        pos = np.flatnonzero(first)
        Xb = E.to_numpy()[pos]
        tid = pd.Index(ids[pos], name="town_id")
        s, total, valid = row_shares(Xb)
        h = _entropy_rows(s, valid, _log_factor(self.base))
        first_idx = E.index[pos]
        base = pd.DataFrame({
            "base_year": years[pos],
            "employment": total,
            "entropy": h,
            "population": self._row_values(data, "population", first_idx),
            "wage": self._wages(data, first_idx).to_numpy(dtype=float),
        }, index=tid)
        base_E = pd.DataFrame(Xb, index=tid, columns=E.columns)
        return base, base_E

    def _row_fingerprint(self, data: TownData, E: pd.DataFrame, total: np.ndarray) -> pd.DataFrame:
        """What the dynamics group reads of every fitted town-year: published employment, its
        sector entropy, population and average wage (to recognise the same town when scoring)."""
        X, lf = E.to_numpy(), _log_factor(self.base)
        ent = np.empty(len(X))
        for a in range(0, len(X), _ROW_BLOCK):  # blocks of rows bound the memory of the shares
            s, _, valid = row_shares(X[a:a + _ROW_BLOCK])
            ent[a:a + _ROW_BLOCK] = _entropy_rows(s, valid, lf)
        return pd.DataFrame({"employment": total, "entropy": ent,
                             "population": self._row_values(data, "population", E.index),
                             "wage": self._wages(data, E.index).to_numpy(dtype=float)}, index=E.index)

    def _clashing_towns(self, E: pd.DataFrame, X: np.ndarray, current: dict[str, np.ndarray]) -> pd.Index:
        """Fitted town_ids whose scored rows differ from the fitted rows in a year both hold.

        Compared in every (town, year) present in both: published employment, sector entropy,
        population and average wage (``current``, aligned with ``E``), and in the town's fitted
        base year its whole sector vector; equal means within 1e-12 (relative and absolute), missing
        equal to missing. Ids with a difference are reported by a ``FeatureWarning`` saying what
        differed. A town whose scored rows share no year with the fitted ones (later years of the
        same towns) is not a clash: nothing contradicts its id.
        """
        ids = E.index.get_level_values("town_id")
        years = E.index.get_level_values("year").to_numpy()
        ref = getattr(self, "fitted_rows_", None)
        if ref is None:  # fitted before the row fingerprint existed: the base year only
            ref = self.base_.set_index("base_year", append=True).rename_axis(["town_id", "year"])
        at = _row_positions(ref.index, ids, years)
        both = at >= 0
        if not both.any():
            return pd.Index([], name="town_id")

        def differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            with np.errstate(invalid="ignore"):
                same = np.isclose(a, b, rtol=1e-12, atol=1e-12) | (np.isnan(a) & np.isnan(b))
            return ~same

        what = {c: differs(np.asarray(v, dtype=float)[both], ref[c].to_numpy(dtype=float)[at[both]])
                for c, v in current.items()}
        bpos = _positions(self.base_.index, ids)
        at_base = (bpos >= 0) & (years == self.base_["base_year"].to_numpy()[np.maximum(bpos, 0)])
        sec = np.zeros(len(ids), dtype=bool)
        sec[at_base] = differs(X[at_base], self.base_E_.to_numpy()[bpos[at_base]]).any(axis=1)
        what["sector employment in the base year"] = sec[both]
        rows = np.logical_or.reduce(list(what.values()))
        clash = pd.Index(pd.unique(np.asarray(ids[both][rows])), name="town_id")
        if len(clash):
            tids = np.asarray(ids[both])
            detail = ", ".join(f"{c} ({pd.unique(tids[d]).size})" for c, d in what.items() if d.any())
            warnings.warn(f"{len(clash)} town_id(s) of the scored data are in the fitted data, but their rows "
                          f"differ from the fitted rows in a year both hold (by town: {detail}), e.g. "
                          f"{sorted(map(str, clash))[:5]}: they are scored as new towns, their growth rates "
                          "and shift-share components starting from their own first year", FeatureWarning,
                          stacklevel=6)
        return clash

    @staticmethod
    def _row_values(data: TownData, column: str, index: pd.MultiIndex) -> np.ndarray:
        out = data.outcomes
        if out is None or column not in out.columns:
            return np.full(len(index), np.nan)
        s = out.set_index(["town_id", "year"])[column]
        return s.reindex(index).to_numpy(dtype=float)

    @staticmethod
    def _wages(data: TownData, index: pd.MultiIndex) -> pd.Series:
        """Average wage per town-year: outcomes ``avg_wage``, else the employment-weighted mean
        of ``employment.wage``."""
        out = data.outcomes
        if out is not None and "avg_wage" in out.columns:
            return out.set_index(["town_id", "year"])["avg_wage"].reindex(index)
        emp = data.employment
        if "wage" in emp.columns:
            ok = emp["wage"].notna() & emp["employment"].notna()
            e = emp[ok]
            bill = (e["wage"] * e["employment"]).groupby([e["town_id"], e["year"]]).sum()
            w = e.groupby(["town_id", "year"])["employment"].sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                return (bill / w).reindex(index)
        return pd.Series(np.nan, index=index)

    def _national_wage(self, data: TownData, index: pd.MultiIndex, total: np.ndarray) -> pd.Series:
        """Employment-weighted mean of the towns' average wages, per fitted year."""
        w = self._wages(data, index)
        emp = pd.Series(total, index=index)
        ok = (w.notna() & (emp > 0)).to_numpy()
        yrs = index.get_level_values("year")[ok]
        bill = (w[ok] * emp[ok]).groupby(yrs).sum()
        tot = emp[ok].groupby(yrs).sum()
        return (bill / tot).reindex(self.years_)

    def _columns(self) -> list[str]:
        cols: list[str] = []
        for g in self.groups_plan_:
            c = GROUP_COLUMNS[g]
            if g == "town_village" and self.links_ is None:
                c = c[:1]
            cols += c
        return [*cols, "coverage"]

    # ------------------------------------------------------------------ transform
    def _ref_year(self, years: np.ndarray) -> np.ndarray:
        """Nearest fitted year for each year (earlier on ties)."""
        fy = self.years_
        years = np.asarray(years)
        pos = np.searchsorted(fy, years)
        lo = fy[np.clip(pos - 1, 0, len(fy) - 1)]
        hi = fy[np.clip(pos, 0, len(fy) - 1)]
        return np.where(np.abs(years - lo) <= np.abs(hi - years), lo, hi)

    def _transform(self, data: TownData, panel: _Panel, fy) -> pd.DataFrame:
        rows = pd.DataFrame(index=panel.index)  # the town-years, for the groups that need no shares
        years = panel.index.get_level_values("year").to_numpy()
        new_years = sorted(set(years.tolist()) - set(self.years_.tolist()))
        if new_years:
            warnings.warn(f"year(s) {new_years} were not in the fitted data; they are scored against the nearest "
                          "fitted year's national shares, population field and network", FeatureWarning, stacklevel=3)
        total = panel.total
        plan = self.groups_plan_
        cols: dict[str, np.ndarray] = {}
        if panel.E is not None:
            cols.update(self._row_blocks(data, panel.E, panel.E.to_numpy(), years, plan, total, fy is not None))
        if set(_FIRM_GROUPS) & set(plan):
            fy, edges = self._scored_ownership(data, rows, fy)
        else:
            edges = None
        towns = self._merged_towns(data)
        links = None  # the scored data's links, else the fitted ones: grouped once for both groups
        if {"town_village", "network"} & set(plan):
            links = self._links(data.links) if data.links is not None else self.links_
        if "corporate" in plan:
            ct = corporate_ties(fy, pd.Series(total, index=panel.index), self.cores_)
            cols.update({c: ct[c].to_numpy() for c in _CORP_COLS})
        if "agglomeration" in plan:
            cols.update(self._agglomeration(data, rows, towns, edges))
        if "town_village" in plan:
            cols.update(self._town_village(rows, towns, edges, total, links))
        if "network" in plan:
            cols.update(self._network(rows, towns, edges, links))
        cols["coverage"] = panel.coverage
        out = pd.DataFrame({c: cols[c] for c in self.feature_names_out_}, index=panel.index)
        if "leading_sector" in out.columns:
            out["leading_sector"] = out["leading_sector"].astype("str")
        if "status" in out.columns:
            out["status"] = out["status"].astype("str")
        return out

    def _row_blocks(self, data: TownData, E: pd.DataFrame, X: np.ndarray, years: np.ndarray, plan, total: np.ndarray,
                    fitted_data: bool) -> dict[str, np.ndarray]:
        """Specialization, diversification and dynamics, one year at a time (each year has
        its own national reference); the work inside a year is vectorized over towns."""
        n, k = X.shape
        want_spec = "specialization" in plan
        want_div = "diversification" in plan
        want_dyn = "dynamics" in plan
        out: dict[str, np.ndarray] = {}
        if not (want_spec or want_div or want_dyn):
            return out
        f = {c: np.full(n, np.nan) for c in ["lq_max", "leading_share", "n_specialized", "krugman", "hhi",
                                              "hhi_norm", "theil", "hachman", "ogive", "entropy",
                                              "related_variety", "unrelated_variety"]}
        lead = np.full(n, None, dtype=object)
        G = _group_matrix(self.sectors_, self.hierarchy_)
        lf = _log_factor(self.base)
        sector_names = np.asarray(self.sectors_, dtype=object)
        nat = self.national_.to_numpy()
        nat_share = nat / nat.sum(axis=1, keepdims=True)
        ref_pos = np.searchsorted(self.years_, self._ref_year(years))
        order = np.argsort(years, kind="stable")
        bounds = np.flatnonzero(np.r_[True, years[order][1:] != years[order][:-1], True])
        def year_block(ab) -> None:  # one year: its own national reference; vectorized over towns
            rows = order[ab[0]:ab[1]]
            s, _, valid = row_shares(X[rows])
            S = complete_case_reference(nat_share[ref_pos[rows[0]]], s)
            if want_spec:
                L = np.where(valid[:, None], _lq(s, S), np.nan)
                best, has, lq_max, share, n_spec = _leading(s, L, valid)
                lead[rows] = np.where(has, sector_names[best], None)
                f["lq_max"][rows] = lq_max
                f["leading_share"][rows] = share
                f["n_specialized"][rows] = n_spec
                f["krugman"][rows] = _krugman(s, S, valid)
                f["theil"][rows] = _theil(s, S, valid)
                f["hachman"][rows] = _hachman(s, S, valid)
                f["ogive"][rows] = _ogive(s, valid, k)
            h = _hhi(s, valid)
            f["hhi"][rows] = h
            f["hhi_norm"][rows] = _hhi_norm(h, k)
            if want_div:
                ent, rv, uv = _variety(s, valid, G, lf)
                f["entropy"][rows] = ent
                f["related_variety"][rows] = rv
                f["unrelated_variety"][rows] = uv
            elif want_dyn:  # dynamics needs the entropy only
                f["entropy"][rows] = _entropy_rows(s, valid, lf)

        thread_map(year_block, list(zip(bounds[:-1], bounds[1:], strict=True)), self.n_jobs)
        if want_spec:
            out.update({c: f[c] for c in ["lq_max", "leading_share", "n_specialized", "krugman", "hhi", "hhi_norm",
                                          "theil", "hachman", "ogive"]})
            out["leading_sector"] = lead
        if want_div:
            out.update({c: f[c] for c in ["entropy", "related_variety", "unrelated_variety"]})
            with np.errstate(divide="ignore"):
                out["effective_sectors"] = 1.0 / f["hhi"]
        if want_dyn:
            out.update(self._dynamics(data, E, X, years, f["entropy"], order, bounds, total, fitted_data))
        return out

    def _merged_towns(self, data: TownData) -> pd.DataFrame:
        """Reference municipalities updated with (and extended by) the scored data's towns."""
        new = data.towns.set_index("town_id")[[c for c in self.towns_.columns if c in data.towns.columns]]
        return pd.concat([self.towns_[~_member(self.towns_.index, new.index)], new])

    def _scored_ownership(self, data: TownData, E: pd.DataFrame, fy):
        """The scored data's firm-years and the reference ownership network in which the scored
        town-years' incoming ties are replaced by those of the scored registry."""
        years = np.unique(E.index.get_level_values("year").to_numpy())
        if fy is not None:  # fit_transform: the scored data is the fitted data
            return fy, self.edges_
        if data.firms is not None and data.groups is not None and self.groups_table_ is not None:
            known = self.groups_table_
            fresh = classify_groups(data.firms, data.groups, self.vi_min_towns, self.vi_min_sections, self.hierarchy_)
            classified = pd.concat([known, fresh[~_member(fresh.index, known.index)]])
            fy = firm_years(data.firms, classified, years=years)
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
        ref_years = self._ref_year(years)
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

    def _agglomeration(self, data, E, towns, edges) -> dict[str, np.ndarray]:
        ids = E.index.get_level_values("town_id")
        years = E.index.get_level_values("year").to_numpy()
        uniq = pd.Index(ids.unique())
        ct = self.towns_.loc[self.cores_]
        ot = towns.loc[uniq]
        D = _haversine(ot["lat"].to_numpy(float), ot["lon"].to_numpy(float),
                       ct["lat"].to_numpy(float), ct["lon"].to_numpy(float))
        out = {"dist_core_km": D.min(axis=1)[_positions(uniq, ids)]}  # every id is in uniq
        cols = np.unique(years)
        ref = self.masses_
        M = pd.DataFrame(ref[self._ref_year(cols)].to_numpy(), index=ref.index, columns=pd.Index(cols, name="year"))
        M = M[M.notna().all(axis=1)]
        if len(M) == 0:
            warnings.warn("no municipality has a population (towns.population or outcomes.population): "
                          "market_potential and core_access are missing", FeatureWarning, stacklevel=4)
            out["market_potential"] = np.full(len(E), np.nan)
            out["core_access"] = np.full(len(E), np.nan)
        else:
            dest = self.towns_.loc[M.index]
            origins = ot[["lat", "lon"] + (["area_km2"] if "area_km2" in ot.columns else [])]
            mp = self._market_potential(M, dest, origins)
            if self.self_potential:
                mp = mp + self._self_term(data, ot, cols)
            Mc = M.loc[M.index.intersection(self.cores_)]
            ca = market_potential_from_coords(Mc, self.towns_.loc[Mc.index, "lat"], self.towns_.loc[Mc.index, "lon"],
                                              beta=self.mp_beta, decay=self.mp_decay, origins=origins,
                                              min_distance_km=self.min_distance_km, n_jobs=self.n_jobs)
            out["market_potential"] = _lookup(mp, ids, years)
            out["core_access"] = _lookup(ca, ids, years)
        out["core_links"] = self._core_links(E, edges)
        return out

    def _market_potential(self, M: pd.DataFrame, dest: pd.DataFrame, origins: pd.DataFrame) -> pd.DataFrame:
        """Market potential of the origins against the reference population field ``M``.

        When the origins are reference municipalities at their reference coordinates (always
        so in ``fit_transform``) and they are many, every reference municipality is computed
        at once with each pair of towns visited once (municipalities without population weigh
        0); otherwise the origins are computed against the destinations block by block.
        """
        ref = self.towns_
        known = _member(origins.index, ref.index)
        n_all = len(ref)
        if known.all() and len(origins) * len(M) > n_all * n_all / 2:
            same = (ref.loc[origins.index, ["lat", "lon"]].to_numpy() == origins[["lat", "lon"]].to_numpy()).all()
            if same:
                full = M.reindex(ref.index).fillna(0.0)  # no population: not a destination
                mp = market_potential_from_coords(full, ref["lat"], ref["lon"], beta=self.mp_beta,
                                                  decay=self.mp_decay, min_distance_km=self.min_distance_km,
                                                  n_jobs=self.n_jobs)
                return mp.loc[origins.index]
        return market_potential_from_coords(M, dest["lat"], dest["lon"], beta=self.mp_beta, decay=self.mp_decay,
                                            origins=origins, min_distance_km=self.min_distance_km,
                                            n_jobs=self.n_jobs)

    def _self_term(self, data, origins: pd.DataFrame, cols: np.ndarray) -> pd.DataFrame:
        """``mass_i f(d_ii)`` with ``d_ii = (2/3) sqrt(area_i / pi)``: the origin's own population
        (the reference's for a fitted town, the scored data's for a new one)."""
        from .connectivity import _decay, _self_distance

        ref = self.masses_
        own = pd.DataFrame(ref[self._ref_year(cols)].to_numpy(), index=ref.index, columns=cols).reindex(origins.index)
        new = self._masses(data, data.towns.set_index("town_id"), cols).reindex(origins.index)
        own = own.fillna(new)
        if own.isna().to_numpy().any():
            bad = list(own.index[own.isna().any(axis=1)][:5])
            raise ValueError(f"self potential needs the population of every town; missing for {bad}")
        area = origins["area_km2"] if "area_km2" in origins.columns else None
        f = _decay(_self_distance(area, origins.index), self.mp_beta, self.mp_decay)
        return own * f[:, None]

    def _core_links(self, E: pd.DataFrame, edges) -> np.ndarray:
        if edges is None:
            return np.full(len(E), np.nan)
        if not len(edges):
            return np.zeros(len(E))
        source, target = edges["source"], edges["target"]
        year = edges["year"].to_numpy()
        other = (source != target).to_numpy()
        from_core = other & _member(source, self.cores_)
        to_core = other & _member(target, self.cores_)
        # (row of the town-year, core) pairs in either direction, each counted once
        rows = np.r_[_row_positions(E.index, target[from_core], year[from_core]),
                     _row_positions(E.index, source[to_core], year[to_core])]
        core = _positions(self.cores_, pd.concat([source[from_core], target[to_core]]))
        ok = rows >= 0
        pairs = pd.unique(rows[ok] * max(len(self.cores_), 1) + core[ok])
        return np.bincount(pairs // max(len(self.cores_), 1), minlength=len(E)).astype(float)

    def _town_village(self, E, towns, edges, total, links) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        n = len(E)
        kind = towns["kind"] if "kind" in towns.columns else pd.Series("town", index=towns.index)
        rural = kind.index[(kind == "rural").to_numpy()]
        if edges is not None:
            keep = (edges["source"] != edges["target"]).to_numpy() & _member(edges["target"], rural)
            at = _row_positions(E.index, edges["source"][keep], edges["year"].to_numpy()[keep])
            r = _sum_at(at, edges["weight"].to_numpy(dtype=float)[keep], n)
            with np.errstate(invalid="ignore", divide="ignore"):
                out["rural_reach"] = np.where(total > 0, r / np.where(total > 0, total, 1.0), np.nan)
        else:
            out["rural_reach"] = np.full(n, np.nan)
        if self.links_ is not None:
            lk = links[(links["source"] != links["target"]).to_numpy()]
            to_rural, from_rural = _member(lk["target"], rural), _member(lk["source"], rural)
            town = pd.concat([lk["source"][to_rural], lk["target"][from_rural]])  # the town end of each tie
            w = np.r_[lk["weight"].to_numpy(dtype=float)[to_rural], lk["weight"].to_numpy(dtype=float)[from_rural]]
            if "year" in lk.columns:
                year = np.r_[lk["year"].to_numpy()[to_rural], lk["year"].to_numpy()[from_rural]]
                out["rural_links"] = _sum_at(_row_positions(E.index, town, year), w, n)
            else:  # ties without a year hold in every year
                level = E.index.levels[0]
                by_town = _sum_at(level.get_indexer(town), w, len(level))
                out["rural_links"] = by_town[E.index.codes[0]]
        return out

    def _network(self, E, towns, edges, links) -> dict[str, np.ndarray]:
        ids = E.index.get_level_values("town_id")
        years = E.index.get_level_values("year").to_numpy()
        lk = links if self.network_links else None
        nodes = list(towns.index)
        res = {c: np.full(len(E), np.nan) for c in _NET_COLS}
        for y in np.unique(years):  # one network per year; the work inside is vectorized
            parts = []
            if edges is not None:
                parts.append(edges.loc[edges["year"] == y, ["source", "target", "weight"]])
            if lk is not None:
                sel = lk[lk["year"] == y] if "year" in lk.columns else lk
                parts.append(sel[["source", "target", "weight"]])
            ed = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["source", "target", "weight"])
            ed = ed[ed["weight"] > 0]
            c = ownership_centrality(ed, nodes=nodes)
            rows = np.flatnonzero(years == y)
            pos = _positions(c.index, ids[rows])
            for col in _NET_COLS:
                res[col][rows] = c[col].to_numpy()[pos]
        return res

    def _dynamics(self, data: TownData, E: pd.DataFrame, X: np.ndarray, years: np.ndarray, ent: np.ndarray,
                  order: np.ndarray, bounds: np.ndarray, total: np.ndarray, fitted_data: bool) -> dict[str, np.ndarray]:
        """Growth since each town's base year, entropy change, shift-share components and the
        stagnation / modernization status (see :func:`stagnation_status`)."""
        ids = E.index.get_level_values("town_id")
        pop = self._row_values(data, "population", E.index)
        wage = self._wages(data, E.index).to_numpy(dtype=float)
        if fitted_data:  # fit_transform: the scored towns are the fitted ones
            base, base_E = self.base_, self.base_E_
        else:  # towns new to the reference, or whose rows contradict it, start from their own first year
            own_base, own_base_E = self._base_values(data, E)
            clash = self._clashing_towns(E, X, {"employment": total, "entropy": ent, "population": pop,
                                                "wage": wage})
            fitted = ~_member(self.base_.index, clash)
            own = ~_member(own_base.index, self.base_.index[fitted])
            base = pd.concat([self.base_[fitted], own_base[own]])
            base_E = pd.concat([self.base_E_[fitted], own_base_E[own]])
        bpos = _positions(base.index, ids)
        by = base["base_year"].to_numpy(dtype=float)[bpos]
        dt = years - by
        b_emp = base["employment"].to_numpy()[bpos]
        out = {
            "pop_growth": annualized_growth(base["population"].to_numpy()[bpos], pop, dt),
            "emp_growth": annualized_growth(b_emp, total, dt),
            "wage_growth": annualized_growth(base["wage"].to_numpy()[bpos], wage, dt),
            "entropy_change": np.where(dt > 0, ent - base["entropy"].to_numpy()[bpos], np.nan),
        }
        nat = self.national_.to_numpy()
        now_pos = np.searchsorted(self.years_, self._ref_year(years))
        base_pos = np.searchsorted(self.years_, self._ref_year(by.astype("int64")))
        BE = base_E.to_numpy()
        ss = {c: np.full(len(E), np.nan) for c in ("national_share", "industry_mix", "competitive")}
        common0 = np.full(len(E), np.nan)  # base employment in the sectors published in both years
        cols = pd.Index(self.sectors_)
        def year_block(ab) -> None:  # one year against each town's base year
            rows = order[ab[0]:ab[1]]
            e0, e1 = BE[bpos[rows]], X[rows]
            res = shift_share(pd.DataFrame(e0, columns=cols, copy=False), pd.DataFrame(e1, columns=cols, copy=False),
                              pd.DataFrame(nat[base_pos[rows]], columns=cols, copy=False),
                              pd.Series(nat[now_pos[rows[0]]], index=cols))
            for c in ss:
                ss[c][rows] = res[c].to_numpy()
            common0[rows] = np.where(np.isnan(e0) | np.isnan(e1), 0.0, e0).sum(axis=1)

        thread_map(year_block, list(zip(bounds[:-1], bounds[1:], strict=True)), self.n_jobs)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where((common0 > 0) & (dt > 0), 1.0 / np.where(common0 > 0, common0, 1.0), np.nan)
        out["ss_national_share"] = ss["national_share"] * scale
        out["ss_industry_mix"] = ss["industry_mix"] * scale
        out["ss_competitive"] = ss["competitive"] * scale
        nat_w = self.national_wage_
        nat_growth = annualized_growth(nat_w.reindex(self.years_[base_pos]).to_numpy(),
                                       nat_w.reindex(self.years_[now_pos]).to_numpy(), dt)
        out["status"] = stagnation_status(out["pop_growth"], out["emp_growth"], out["wage_growth"], nat_growth,
                                          out["ss_competitive"])
        return out


@dataclass(frozen=True)
class _Panel:
    """The town-years of a dataset: index, sectors, the long table's cells (row, column,
    value with suppressed = 0), published totals, coverage and, when needed, the dense matrix."""

    index: pd.MultiIndex
    columns: list
    cpos: np.ndarray
    rpos: np.ndarray
    values: np.ndarray
    total: np.ndarray
    coverage: np.ndarray
    E: pd.DataFrame | None


def _sum_at(rows: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``weights`` at each of ``n`` rows; entries with row -1 are left out."""
    ok = rows >= 0
    return np.bincount(rows[ok], weights=weights[ok], minlength=n).astype(float)


def _lookup(table: pd.DataFrame, ids, years) -> np.ndarray:
    """Values of a town x year table at (town, year) pairs, vectorized."""
    r = _positions(table.index, ids)
    c = table.columns.get_indexer(years)
    vals = table.to_numpy()
    ok = (r >= 0) & (c >= 0)
    res = np.full(len(r), np.nan)
    res[ok] = vals[r[ok], c[ok]]
    return res


# ------------------------------------------------------------------ floating-point guard
#: Builder steps, by the feature group they compute (to name the group in messages).
_STEP_GROUP = {"_row_blocks": "specialization / diversification / dynamics", "_dynamics": "dynamics",
               "_base_values": "dynamics", "_national_wage": "dynamics", "_agglomeration": "agglomeration",
               "_market_potential": "agglomeration", "_self_term": "agglomeration", "_masses": "agglomeration",
               "_town_village": "town_village", "_network": "network", "_scored_ownership": "corporate / network",
               "_panel": "the employment panel", "_fit": "the reference"}


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
        if code.co_name in _STEP_GROUP:
            steps.append(code.co_name)
        if "/features/" in code.co_filename.replace("\\", "/"):
            kernel = f"{code.co_name} ({code.co_filename.replace(chr(92), '/').rsplit('/features/', 1)[-1]})"
        tb = tb.tb_next
    group = _STEP_GROUP[steps[-1]] if steps else "the features"
    return (f"{where}: floating-point error while computing {group} ({exc}, in {kernel}): an input value or a "
            "parameter is beyond what float64 can hold (validated datasets hold counts below 1e10 and amounts "
            f"below 1e15; check mp_beta={builder.mp_beta!r}, min_distance_km={builder.min_distance_km!r} and, "
            f"with self_potential={builder.self_potential!r}, very small area_km2 values). No features were "
            "returned.")


#: Closed ranges the definitions allow (None: unbounded on that side); every float column must
#: also be finite or NaN. ``k`` in a bound stands for the number of fitted sectors.
_RANGES = {
    **dict.fromkeys(["leading_share", "corp_share", "external_control_share", "core_control_share",
                     "largest_employer_share", "coverage", "pagerank", "hub", "authority", "betweenness",
                     "hhi_norm", "hachman"], (0.0, 1.0)),
    **dict.fromkeys(["lq_max", "n_specialized", "theil", "ogive", "entropy", "related_variety",
                     "unrelated_variety", "n_groups", "dist_core_km", "market_potential", "core_access",
                     "core_links", "rural_reach", "rural_links"], (0.0, None)),
    "krugman": (0.0, 2.0),
    "hhi": ("1/k", 1.0),
    "effective_sectors": (1.0, "k"),
}
_TOL = 1e-9


def _check_ranges(F: pd.DataFrame, k: int, where: str) -> pd.DataFrame:
    """Raise :class:`FeatureValueError` when a feature is infinite or outside its range,
    naming the feature and the first town-years (a guard on the numeric core: it never fires
    on validated data unless a kernel is wrong)."""
    bad_msgs = []
    for c in F.columns:
        if not pd.api.types.is_float_dtype(F[c].dtype):
            continue
        v = F[c].to_numpy(dtype=float)
        lo, hi = _RANGES.get(c, (None, None))
        lo = 1.0 / k if lo == "1/k" else lo
        hi = float(k) if hi == "k" else hi
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


def stagnation_status(pop_growth, emp_growth, wage_growth, national_wage_growth, competitive) -> np.ndarray:
    """Stagnation / modernization status of town-years (the rule of the data dictionary).

    * ``"stagnating"``: population and employment both fall since the base year
      (``pop_growth < 0`` and ``emp_growth < 0``);
    * ``"modernizing"``: not stagnating, the average wage grows faster than the national
      average wage over the same years and the competitive shift-share component is >= 0;
    * ``"intermediate"``: not stagnating and not modernizing;
    * missing (``None``) where the rule cannot be decided from the defined inputs: the base
      year itself, or a missing growth rate that the decision needs (a known fall of
      employment with an unknown population, or a town that is not stagnating but whose
      wage growth or competitive component is unknown).

    All inputs are arrays of the same length (NaN = undefined); returns an object array.
    """
    p, e, w, nw, c = (np.asarray(x, dtype=float) for x in
                      (pop_growth, emp_growth, wage_growth, national_wage_growth, competitive))
    stag_true = (p < 0) & (e < 0)
    stag_false = (p >= 0) | (e >= 0)
    mod_true = (w > nw) & (c >= 0)
    mod_false = (w <= nw) | (c < 0)
    out = np.full(len(p), None, dtype=object)
    out[stag_false & mod_false] = "intermediate"
    out[stag_false & mod_true] = "modernizing"
    out[stag_true] = "stagnating"
    return out


def build_features(data: TownData, **params) -> pd.DataFrame:
    """All features of ``data`` in one call: ``FeatureBuilder(**params).fit_transform(data)``.

    Returns a DataFrame indexed by (``town_id``, ``year``); see :class:`FeatureBuilder` for the
    parameters and :func:`features.dictionary.data_dictionary` for the columns.
    """
    return FeatureBuilder(**params).fit_transform(data)
