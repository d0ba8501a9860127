"""Feature table of towns: every index family, computed against a reference learned at fit time.

``FeatureBuilder`` follows the scikit-learn contract: parameters in ``__init__``, ``fit(data)``
learns the reference (sector universe, national sector employment of each year, agglomeration
cores, populations and coordinates of all municipalities, group classification, the ownership
network, each town's base-year values, national wages) and ``transform(data)`` computes the
features of any dataset against that reference, so new towns are never scored against
themselves. ``build_features(data)`` is ``FeatureBuilder().fit_transform(data)``.

Rows: one per (``town_id``, ``year``) with employment rows in the data. Columns: the canonical
names of DESIGN.md section 5 (see :mod:`features.dictionary`).

Reference years: a year that was not in the fitted data is scored against the nearest fitted
year (the earlier one on ties), and a ``FeatureWarning`` says so.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .connectivity import _haversine, market_potential_from_coords, ownership_centrality
from .corporate import classify_groups, corporate_ties, firm_years, ownership_edges
from .data import TownData
from .dictionary import GROUPS
from .diversification import variety_decomposition
from .dynamics import annualized_growth, shift_share
from .panel import employment_matrix
from .sectors import hierarchy_from
from .specialization import hachman, hhi, krugman, leading_sector, ogive, theil_specialization

__all__ = ["FeatureBuilder", "FeatureWarning", "build_features"]


class FeatureWarning(UserWarning):
    """Something about the data that changes what a feature means (skipped group, year mapped)."""


_SPEC_COLS = ["lq_max", "leading_sector", "leading_share", "n_specialized", "krugman", "hhi", "hhi_norm",
              "theil", "hachman", "ogive"]
_DIV_COLS = ["entropy", "related_variety", "unrelated_variety", "effective_sectors"]
_CORP_COLS = ["corp_share", "external_control_share", "core_control_share", "largest_employer_share", "n_groups"]
_AGG_COLS = ["dist_core_km", "market_potential", "core_access", "core_links"]
_TV_COLS = ["rural_reach", "rural_links"]
_NET_COLS = ["pagerank", "hub", "authority", "betweenness"]
_DYN_COLS = ["pop_growth", "emp_growth", "wage_growth", "entropy_change", "ss_national_share",
             "ss_industry_mix", "ss_competitive", "status"]

STATUSES = ("stagnating", "intermediate", "modernizing")


class FeatureBuilder:
    """Learn the reference of a dataset and compute the features of towns against it.

    Parameters
    ----------
    groups : sequence of str or None
        Feature groups among ``specialization``, ``diversification``, ``corporate``,
        ``agglomeration``, ``town_village``, ``network``, ``dynamics``. ``None`` (default):
        every group the data can support; the others are skipped with a ``FeatureWarning``.
        A group asked for by name whose inputs are missing raises ``ValueError``.
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
    """

    def __init__(self, groups=None, core_population: float = 250_000, base: float = math.e, missing: str = "omit",
                 mp_beta: float = 1.0, mp_decay: str = "power", self_potential: bool = False,
                 min_distance_km: float = 1.0, vi_min_towns: int = 2, vi_min_sections: int = 2,
                 network_links: bool = True):
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

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in ("groups", "core_population", "base", "missing", "mp_beta", "mp_decay",
                                              "self_potential", "min_distance_km", "vi_min_towns",
                                              "vi_min_sections", "network_links")}

    def set_params(self, **params) -> FeatureBuilder:
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"unknown parameter {k!r}; valid parameters are {sorted(valid)}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != FeatureBuilder().get_params()[k]}
        return "FeatureBuilder(" + ", ".join(f"{k}={v!r}" for k, v in changed.items()) + ")"

    def _check_params(self) -> None:
        if self.groups is not None:
            unknown = [g for g in self.groups if g not in GROUPS]
            if unknown:
                raise ValueError(f"unknown feature group(s) {unknown}; valid groups are {list(GROUPS)}")
        if self.missing not in ("omit", "raise"):
            raise ValueError(f"missing must be 'omit' or 'raise', got {self.missing!r}")
        if self.mp_decay not in ("power", "exponential"):
            raise ValueError(f"mp_decay must be 'power' or 'exponential', got {self.mp_decay!r}")
        if not self.core_population > 0:
            raise ValueError("core_population must be positive")

    # ------------------------------------------------------------------ fit
    def fit(self, data: TownData, y=None) -> FeatureBuilder:
        """Learn the reference from ``data`` (a :class:`features.TownData`)."""
        self._check_params()
        if not isinstance(data, TownData):
            raise TypeError(f"fit expects a features.TownData, got {type(data).__name__}")
        E = employment_matrix(data.employment)
        if E.shape[0] == 0:
            raise ValueError("employment has no rows: nothing to learn a reference from")
        self.sectors_ = list(E.columns)
        self.hierarchy_ = hierarchy_from(self.sectors_, data.sectors)
        years = E.index.get_level_values("year").to_numpy()
        X = E.to_numpy()
        self.years_ = np.unique(years)
        self.national_ = pd.DataFrame(
            pd.DataFrame(np.nan_to_num(X), columns=self.sectors_).groupby(years).sum().to_numpy(),
            index=pd.Index(self.years_, name="year"), columns=pd.Index(self.sectors_, name="sector"))
        towns = data.towns.set_index("town_id")
        self.towns_ = towns[[c for c in ("lat", "lon", "kind", "area_km2", "population", "region", "name") if c in towns.columns]].copy()
        self.cores_ = self._find_cores(towns, data.outcomes)
        self.masses_ = self._masses(data, self.towns_, self.years_)
        self.groups_plan_ = self._plan_groups(data)
        if data.firms is not None and data.groups is not None:
            self.groups_table_ = classify_groups(data.firms, data.groups, self.vi_min_towns, self.vi_min_sections, self.hierarchy_)
            fy = firm_years(data.firms, self.groups_table_, years=self.years_)
            self.edges_ = ownership_edges(fy)
        else:
            self.groups_table_ = None
            self.edges_ = None
        self.links_ = self._links(data.links) if data.links is not None else None
        base = self._base_values(data, E)
        self.base_ = base[0]
        self.base_E_ = base[1]
        self.national_wage_ = self._national_wage(data, E)
        self.towns_without_employment_ = sorted(set(towns.index) - set(E.index.get_level_values("town_id")))
        self.feature_names_out_ = self._columns()
        self.n_towns_ = int(E.index.get_level_values("town_id").nunique())
        return self

    def fit_transform(self, data: TownData, y=None) -> pd.DataFrame:
        return self.fit(data).transform(data)

    def get_feature_names_out(self) -> list[str]:
        self._check_fitted()
        return list(self.feature_names_out_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "sectors_"):
            raise RuntimeError("this FeatureBuilder is not fitted yet; call fit(data) first")

    def _find_cores(self, towns: pd.DataFrame, outcomes) -> pd.Index:
        if "is_core" in towns.columns:
            flag = towns["is_core"].astype("boolean").fillna(False).to_numpy(dtype=bool)
            return pd.Index(towns.index[flag], name="town_id")
        pop = towns["population"] if "population" in towns.columns else pd.Series(np.nan, index=towns.index)
        if outcomes is not None and "population" in outcomes.columns:
            last = outcomes.dropna(subset=["population"]).sort_values("year").groupby("town_id")["population"].last()
            pop = pop.fillna(last.reindex(towns.index))
        return pd.Index(towns.index[(pop >= self.core_population).to_numpy()], name="town_id")

    @staticmethod
    def _masses(data: TownData, towns: pd.DataFrame, years) -> pd.DataFrame:
        """Population of every municipality in every year: the year's value, else the nearest
        year's value of the same town, else the towns table's population."""
        M = pd.DataFrame(np.nan, index=towns.index, columns=pd.Index(years, name="year"))
        out = data.outcomes
        if out is not None and "population" in out.columns:
            p = out.dropna(subset=["population"]).pivot(index="town_id", columns="year", values="population")
            p = p.reindex(index=towns.index, columns=sorted(set(p.columns) | set(years)))
            if p.shape[1] > 1:
                p = p.interpolate(axis=1, method="nearest", limit_area="inside")
            M = p.ffill(axis=1).bfill(axis=1).reindex(columns=years)
        if "population" in towns.columns:
            M = M.apply(lambda col: col.fillna(towns["population"]))  # column-wise, over years
        return M

    @staticmethod
    def _links(links: pd.DataFrame) -> pd.DataFrame:
        lk = links.rename(columns={"source_town_id": "source", "target_town_id": "target"})
        cols = ["source", "target"] + (["year"] if "year" in lk.columns else [])
        return lk.groupby(cols, as_index=False)["weight"].sum()

    def _plan_groups(self, data: TownData) -> dict[str, str | None]:
        """Which groups run, and why the others cannot."""
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
                warnings.warn(f"feature group {g!r} skipped: {reasons[g]}", FeatureWarning, stacklevel=3)
                continue
            plan[g] = None
        return plan

    def _base_values(self, data: TownData, E: pd.DataFrame):
        first = self._first_rows(E)
        Eb = E.loc[first.index]
        base = pd.DataFrame(index=pd.Index(first.index.get_level_values("town_id"), name="town_id"))
        base["base_year"] = first.index.get_level_values("year").to_numpy()
        base["employment"] = np.nansum(Eb.to_numpy(), axis=1)
        base["entropy"] = variety_decomposition(Eb, self.hierarchy_, self.base, self.missing)["entropy"].to_numpy()
        pops = self._row_values(data, "population", first.index)
        wages = self._wages(data, E).reindex(first.index).to_numpy()
        base["population"] = pops
        base["wage"] = wages
        base_E = pd.DataFrame(Eb.to_numpy(), index=base.index, columns=E.columns)
        return base, base_E

    @staticmethod
    def _first_rows(E: pd.DataFrame) -> pd.DataFrame:
        idx = E.index.to_frame(index=False)
        first = idx.groupby("town_id", sort=True)["year"].min()
        mi = pd.MultiIndex.from_arrays([first.index, first.to_numpy()], names=["town_id", "year"])
        return pd.DataFrame(index=mi)

    @staticmethod
    def _row_values(data: TownData, column: str, index: pd.MultiIndex) -> np.ndarray:
        out = data.outcomes
        if out is None or column not in out.columns:
            return np.full(len(index), np.nan)
        s = out.set_index(["town_id", "year"])[column]
        return s.reindex(index).to_numpy(dtype=float)

    @staticmethod
    def _wages(data: TownData, E: pd.DataFrame) -> pd.Series:
        """Average wage per town-year: outcomes ``avg_wage``, else the employment-weighted mean
        of ``employment.wage``."""
        out = data.outcomes
        if out is not None and "avg_wage" in out.columns:
            return out.set_index(["town_id", "year"])["avg_wage"].reindex(E.index)
        emp = data.employment
        if "wage" in emp.columns:
            ok = emp["wage"].notna() & emp["employment"].notna()
            e = emp[ok]
            bill = (e["wage"] * e["employment"]).groupby([e["town_id"], e["year"]]).sum()
            w = e.groupby(["town_id", "year"])["employment"].sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                return (bill / w).reindex(E.index)
        return pd.Series(np.nan, index=E.index)

    def _national_wage(self, data: TownData, E: pd.DataFrame) -> pd.Series:
        w = self._wages(data, E)
        emp = pd.Series(np.nansum(E.to_numpy(), axis=1), index=E.index)
        ok = w.notna() & (emp > 0)
        yrs = E.index.get_level_values("year")
        bill = (w[ok] * emp[ok]).groupby(yrs[ok.to_numpy()]).sum()
        tot = emp[ok].groupby(yrs[ok.to_numpy()]).sum()
        return (bill / tot).reindex(self.years_)

    def _columns(self) -> list[str]:
        cols: list[str] = []
        plan = self.groups_plan_
        if "specialization" in plan:
            cols += _SPEC_COLS
        if "diversification" in plan:
            cols += _DIV_COLS
        if "corporate" in plan:
            cols += _CORP_COLS
        if "agglomeration" in plan:
            cols += _AGG_COLS
        if "town_village" in plan:
            cols += _TV_COLS if self.links_ is not None else _TV_COLS[:1]
        if "network" in plan:
            cols += _NET_COLS
        if "dynamics" in plan:
            cols += _DYN_COLS
        return [*cols, "coverage"]

    # ------------------------------------------------------------------ transform
    def _ref_year(self, years: np.ndarray) -> np.ndarray:
        """Nearest fitted year for each year (earlier on ties)."""
        fy = self.years_
        pos = np.searchsorted(fy, years)
        lo = fy[np.clip(pos - 1, 0, len(fy) - 1)]
        hi = fy[np.clip(pos, 0, len(fy) - 1)]
        return np.where(np.abs(years - lo) <= np.abs(hi - years), lo, hi)

    def transform(self, data: TownData) -> pd.DataFrame:
        """Features of every (town, year) of ``data`` against the fitted reference."""
        self._check_fitted()
        if not isinstance(data, TownData):
            raise TypeError(f"transform expects a features.TownData, got {type(data).__name__}")
        E = employment_matrix(data.employment, sectors=None)
        unknown = [c for c in E.columns if c not in self.sectors_]
        if unknown:
            raise ValueError(f"sector(s) {unknown[:10]} were not in the data the builder was fitted on; "
                             "refit on data that includes them")
        E = E.reindex(columns=self.sectors_, fill_value=0.0)
        years = E.index.get_level_values("year").to_numpy()
        ref_years = self._ref_year(years)
        new_years = sorted(set(years) - set(self.years_))
        if new_years:
            warnings.warn(f"year(s) {new_years} were not in the fitted data; they are scored against the nearest "
                          "fitted year's national shares and network", FeatureWarning, stacklevel=2)
        S = pd.DataFrame(self.national_.loc[ref_years].to_numpy(), index=E.index, columns=self.sectors_)
        X = E.to_numpy()
        total = pd.Series(np.nansum(X, axis=1), index=E.index)
        cov_nan = np.isnan(X)
        reported = cov_nan | (np.nan_to_num(X) > 0)
        n_rep = reported.sum(axis=1)
        coverage = np.where(n_rep > 0, 1.0 - cov_nan.sum(axis=1) / np.maximum(n_rep, 1), np.nan)
        parts: list[pd.DataFrame] = []
        plan = self.groups_plan_
        div = variety_decomposition(E, self.hierarchy_, self.base, self.missing)
        if "specialization" in plan:
            spec = leading_sector(E, reference=S, missing=self.missing)
            spec["krugman"] = krugman(E, reference=S, missing=self.missing)
            h = hhi(E, missing=self.missing)
            spec["hhi"] = h
            spec["hhi_norm"] = hhi(E, normalized=True, missing=self.missing)
            spec["theil"] = theil_specialization(E, reference=S, missing=self.missing)
            spec["hachman"] = hachman(E, reference=S, missing=self.missing)
            spec["ogive"] = ogive(E, missing=self.missing)
            parts.append(spec[_SPEC_COLS])
        if "diversification" in plan:
            d = div.copy()
            with np.errstate(divide="ignore"):
                d["effective_sectors"] = 1.0 / hhi(E, missing=self.missing)
            parts.append(d[_DIV_COLS])
        fy = edges = None
        if {"corporate", "agglomeration", "town_village", "network"} & set(plan):
            fy, edges = self._scored_ownership(data, E)
        if "corporate" in plan:
            parts.append(corporate_ties(fy, total, self.cores_))
        towns = self._merged_towns(data)
        if "agglomeration" in plan:
            parts.append(self._agglomeration(data, E, towns, edges))
        if "town_village" in plan:
            parts.append(self._town_village(data, E, towns, edges, total))
        if "network" in plan:
            parts.append(self._network(data, E, towns, edges))
        if "dynamics" in plan:
            parts.append(self._dynamics(data, E, div["entropy"], total))
        out = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=E.index)
        out["coverage"] = coverage
        out = out[self.feature_names_out_]
        out.index = out.index.set_names(["town_id", "year"])
        return out

    # ------------------------------------------------------------------ pieces
    def _merged_towns(self, data: TownData) -> pd.DataFrame:
        """Reference municipalities updated with (and extended by) the scored data's towns."""
        new = data.towns.set_index("town_id")[[c for c in self.towns_.columns if c in data.towns.columns]]
        t = pd.concat([self.towns_[~self.towns_.index.isin(new.index)], new])
        return t

    def _merged_masses(self, data: TownData, towns: pd.DataFrame, years: np.ndarray) -> pd.DataFrame:
        cols = np.unique(years)
        ref = self.masses_
        M = pd.DataFrame(ref[self._ref_year(cols)].to_numpy(), index=ref.index, columns=pd.Index(cols, name="year"))
        new_m = self._masses(data, data.towns.set_index("town_id"), cols)
        M = new_m.combine_first(M).reindex(index=towns.index, columns=cols)
        return M

    def _scored_ownership(self, data: TownData, E: pd.DataFrame):
        """The scored data's firm-years and the ownership edges of the reference updated by them."""
        years = np.unique(E.index.get_level_values("year").to_numpy())
        if data.firms is not None and data.groups is not None and self.groups_table_ is not None:
            known = self.groups_table_
            fresh = classify_groups(data.firms, data.groups, self.vi_min_towns, self.vi_min_sections, self.hierarchy_)
            classified = pd.concat([known, fresh[~fresh.index.isin(known.index)]])
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

    def _agglomeration(self, data, E, towns, edges) -> pd.DataFrame:
        ids = E.index.get_level_values("town_id")
        years = E.index.get_level_values("year").to_numpy()
        uniq = pd.Index(ids.unique())
        cores = self.cores_
        ct = towns.loc[towns.index.intersection(cores)]
        ot = towns.loc[uniq]
        D = _haversine(ot["lat"].to_numpy(float), ot["lon"].to_numpy(float), ct["lat"].to_numpy(float), ct["lon"].to_numpy(float))
        dist = pd.Series(D.min(axis=1), index=uniq)
        M = self._merged_masses(data, towns, years)
        have = M.notna().all(axis=1)
        if (~have).any():
            warnings.warn(f"{int((~have).sum())} municipality(ies) without any population are left out of market "
                          f"potentials, e.g. {list(M.index[~have][:5])}", FeatureWarning, stacklevel=3)
        M = M[have]
        dest = towns.loc[M.index]
        origins = ot[["lat", "lon"] + (["area_km2"] if "area_km2" in ot.columns else [])]
        mp = market_potential_from_coords(M, dest["lat"], dest["lon"], beta=self.mp_beta, decay=self.mp_decay,
                                          self_potential=self.self_potential, origins=origins,
                                          min_distance_km=self.min_distance_km)
        Mc = M.loc[M.index.intersection(cores)]
        ca = market_potential_from_coords(Mc, towns.loc[Mc.index, "lat"], towns.loc[Mc.index, "lon"],
                                          beta=self.mp_beta, decay=self.mp_decay, origins=origins,
                                          min_distance_km=self.min_distance_km)
        out = pd.DataFrame(index=E.index)
        out["dist_core_km"] = dist.reindex(ids).to_numpy()
        out["market_potential"] = _lookup(mp, ids, years)
        out["core_access"] = _lookup(ca, ids, years)
        out["core_links"] = self._core_links(E, edges)
        return out

    def _core_links(self, E: pd.DataFrame, edges) -> np.ndarray:
        if edges is None or not len(edges):
            return np.zeros(len(E)) if edges is not None else np.full(len(E), np.nan)
        e = edges[edges["source"] != edges["target"]]
        cores = set(self.cores_)
        a = e[e["source"].isin(cores)][["year", "target", "source"]].rename(columns={"target": "town_id", "source": "core"})
        b = e[e["target"].isin(cores)][["year", "source", "target"]].rename(columns={"source": "town_id", "target": "core"})
        pairs = pd.concat([a, b], ignore_index=True).drop_duplicates()
        n = pairs.groupby(["town_id", "year"])["core"].nunique()
        return n.reindex(E.index).fillna(0).to_numpy(dtype=float)

    def _town_village(self, data, E, towns, edges, total) -> pd.DataFrame:
        out = pd.DataFrame(index=E.index)
        kind = towns["kind"] if "kind" in towns.columns else pd.Series("town", index=towns.index)
        rural = set(kind.index[kind == "rural"])
        if edges is not None:
            e = edges[(edges["source"] != edges["target"]) & edges["target"].isin(rural)]
            reach = e.groupby(["source", "year"])["weight"].sum()
            reach.index = reach.index.set_names(["town_id", "year"])
            r = reach.reindex(E.index).fillna(0.0).to_numpy()
            den = total.to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                out["rural_reach"] = np.where(den > 0, r / np.where(den > 0, den, 1.0), np.nan)
        else:
            out["rural_reach"] = np.nan
        if self.links_ is not None:
            lk = self._links(data.links) if data.links is not None else self.links_
            lk = lk[lk["source"] != lk["target"]]
            a = lk[lk["target"].isin(rural)].drop(columns="target").rename(columns={"source": "town_id"})
            b = lk[lk["source"].isin(rural)].drop(columns="source").rename(columns={"target": "town_id"})
            both = pd.concat([a, b], ignore_index=True)
            if "year" in both.columns:
                s = both.groupby(["town_id", "year"])["weight"].sum()
                out["rural_links"] = s.reindex(E.index).fillna(0.0).to_numpy()
            else:
                s = both.groupby("town_id")["weight"].sum()
                out["rural_links"] = s.reindex(E.index.get_level_values("town_id")).fillna(0.0).to_numpy()
        return out

    def _network(self, data, E, towns, edges) -> pd.DataFrame:
        ids = E.index.get_level_values("town_id")
        years = E.index.get_level_values("year").to_numpy()
        frames = []
        lk = None
        if self.network_links and (data.links is not None or self.links_ is not None):
            lk = self._links(data.links) if data.links is not None else self.links_
        nodes = list(towns.index)
        for y in np.unique(years):  # one network per year; work inside is vectorized
            parts = []
            if edges is not None:
                parts.append(edges.loc[edges["year"] == y, ["source", "target", "weight"]])
            if lk is not None:
                sel = lk[lk["year"] == y] if "year" in lk.columns else lk
                parts.append(sel[["source", "target", "weight"]])
            ed = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["source", "target", "weight"])
            ed = ed[ed["weight"] > 0]
            c = ownership_centrality(ed, nodes=nodes)
            frames.append(c[["pagerank", "hub", "authority", "betweenness"]].assign(year=y))
        allc = pd.concat(frames).reset_index().set_index(["town_id", "year"])
        return allc.reindex(pd.MultiIndex.from_arrays([ids, years], names=["town_id", "year"])).set_axis(E.index)

    def _dynamics(self, data: TownData, E: pd.DataFrame, ent: pd.Series, total: pd.Series) -> pd.DataFrame:
        ids = E.index.get_level_values("town_id")
        years = E.index.get_level_values("year").to_numpy()
        own_base, own_base_E = self._base_values(data, E)
        known = own_base.index.isin(self.base_.index)
        base = pd.concat([self.base_, own_base[~known]])
        base_E = pd.concat([self.base_E_, own_base_E[~known]])
        b = base.reindex(ids)
        by = b["base_year"].to_numpy(dtype=float)
        dt = years - by
        pop = self._row_values(data, "population", E.index)
        wage = self._wages(data, E).to_numpy(dtype=float)
        out = pd.DataFrame(index=E.index)
        out["pop_growth"] = annualized_growth(b["population"].to_numpy(), pop, dt)
        out["emp_growth"] = annualized_growth(b["employment"].to_numpy(), total.to_numpy(), dt)
        out["wage_growth"] = annualized_growth(b["wage"].to_numpy(), wage, dt)
        out["entropy_change"] = np.where(dt > 0, ent.to_numpy() - b["entropy"].to_numpy(), np.nan)
        e0 = pd.DataFrame(base_E.reindex(ids).to_numpy(), index=E.index, columns=self.sectors_)
        ref_now = self._ref_year(years)
        ref_base = self._ref_year(by.astype("int64"))
        n0 = pd.DataFrame(self.national_.loc[ref_base].to_numpy(), index=E.index, columns=self.sectors_)
        n1 = pd.DataFrame(self.national_.loc[ref_now].to_numpy(), index=E.index, columns=self.sectors_)
        ss = shift_share(e0, E, n0, n1)
        be = b["employment"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where((be > 0) & (dt > 0), 1.0 / np.where(be > 0, be, 1.0), np.nan)
        out["ss_national_share"] = ss["national_share"].to_numpy() * scale
        out["ss_industry_mix"] = ss["industry_mix"].to_numpy() * scale
        out["ss_competitive"] = ss["competitive"].to_numpy() * scale
        nat_w = self.national_wage_
        nat_growth = annualized_growth(nat_w.reindex(ref_base).to_numpy(), nat_w.reindex(ref_now).to_numpy(), dt)
        out["status"] = _status(out["pop_growth"].to_numpy(), out["emp_growth"].to_numpy(),
                                out["wage_growth"].to_numpy(), nat_growth, out["ss_competitive"].to_numpy())
        return out


def _lookup(table: pd.DataFrame, ids, years) -> np.ndarray:
    """Values of a town x year table at (town, year) pairs, vectorized."""
    r = table.index.get_indexer(ids)
    c = table.columns.get_indexer(years)
    vals = table.to_numpy()
    ok = (r >= 0) & (c >= 0)
    res = np.full(len(r), np.nan)
    res[ok] = vals[r[ok], c[ok]]
    return res


def _status(pop_g, emp_g, wage_g, nat_wage_g, competitive):
    """Stagnation / modernization status (documented in the data dictionary and README).

    * ``stagnating``: population and employment both fall (annualized growth < 0);
    * ``modernizing``: not stagnating, the average wage grows faster than the national average
      wage over the same years, and the competitive shift-share component is >= 0;
    * ``intermediate``: otherwise; missing in the base year or where growth is undefined.
    """
    defined = ~np.isnan(emp_g) & (~np.isnan(pop_g) | ~np.isnan(wage_g))
    stagn = (pop_g < 0) & (emp_g < 0)
    modern = ~stagn & (wage_g > nat_wage_g) & (competitive >= 0)
    lab = np.where(stagn, "stagnating", np.where(modern, "modernizing", "intermediate")).astype(object)
    lab[~defined] = None
    return pd.array(lab, dtype="str")


def build_features(data: TownData, **params) -> pd.DataFrame:
    """All features of ``data`` in one call: ``FeatureBuilder(**params).fit_transform(data)``.

    Returns a DataFrame indexed by (``town_id``, ``year``); see :class:`FeatureBuilder` for the
    parameters and :func:`features.dictionary.data_dictionary` for the columns.
    """
    return FeatureBuilder(**params).fit_transform(data)
