"""Agglomeration group: distance and gravity access to agglomeration cores and to population.

Columns (:mod:`features.dictionary`): ``dist_core_km``, ``market_potential``, ``core_access``,
``core_links``. Requirements: at least one agglomeration core (``towns.is_core``, else a
population of ``core_population`` or more). Fitted reference: the population field of every
fitted municipality in every fitted year (``masses_``), the destinations of market potential
and core access; a scored town that is not in the reference is an origin only. Computation:
haversine distances to the cores, Harris market potential (:mod:`features.connectivity`), and
the cores tied to the town by ownership in the scored network.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..connectivity import (
    distance_decay,
    haversine_matrix,
    internal_distance_km,
    market_potential_from_coords,
)
from ..dictionary import group_columns
from ..errors import FeatureWarning
from ..panel import member, positions, row_positions
from .base import FeatureGroup, Scoring, lookup, nearest_year

__all__ = ["GROUP", "population_field"]

NAME = "agglomeration"
COLUMNS = group_columns(NAME)


def _unsupported(builder, data) -> str | None:
    if len(builder.cores_) == 0:
        return ("no agglomeration cores: the towns table has no is_core flag and no town "
                f"reaches core_population={builder.core_population:g}")
    return None


def population_field(data, towns: pd.DataFrame, years) -> pd.DataFrame:
    """Population of every municipality of ``towns`` in every year of ``years``: the year's
    value, else the nearest year's value of the same town (the earlier on ties), else the
    towns table's population."""
    years = np.asarray(years)
    M = pd.DataFrame(np.nan, index=towns.index, columns=pd.Index(years, name="year"))
    out = data.outcomes
    if out is not None and "population" in out.columns:
        p = out.dropna(subset=["population"])
        p = p[member(p["town_id"], towns.index)]
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


def _fit(builder, data, panel) -> None:
    builder.masses_ = population_field(data, builder.towns_, builder.years_)
    builder.towns_without_mass_ = list(builder.masses_.index[builder.masses_.isna().any(axis=1)])
    if builder.towns_without_mass_:
        warnings.warn(f"{len(builder.towns_without_mass_)} municipality(ies) have no population in any year and are "
                      "left out of the destinations of market potential and core access, e.g. "
                      f"{builder.towns_without_mass_[:5]}", FeatureWarning, stacklevel=4)


def _compute(builder, scoring: Scoring) -> dict[str, np.ndarray]:
    E, towns, edges = scoring.rows, scoring.towns, scoring.edges
    ids = E.index.get_level_values("town_id")
    years = E.index.get_level_values("year").to_numpy()
    uniq = pd.Index(ids.unique())
    ct = builder.towns_.loc[builder.cores_]
    ot = towns.loc[uniq]
    D = haversine_matrix(ot["lat"].to_numpy(float), ot["lon"].to_numpy(float),
                         ct["lat"].to_numpy(float), ct["lon"].to_numpy(float))
    out = {"dist_core_km": D.min(axis=1)[positions(uniq, ids)]}  # every id is in uniq
    cols = np.unique(years)
    ref = builder.masses_
    M = pd.DataFrame(ref[nearest_year(builder.years_, cols)].to_numpy(), index=ref.index,
                     columns=pd.Index(cols, name="year"))
    M = M[M.notna().all(axis=1)]
    if len(M) == 0:
        warnings.warn("no municipality has a population (towns.population or outcomes.population): "
                      "market_potential and core_access are missing", FeatureWarning, stacklevel=4)
        out["market_potential"] = np.full(len(E), np.nan)
        out["core_access"] = np.full(len(E), np.nan)
    else:
        dest = builder.towns_.loc[M.index]
        origins = ot[["lat", "lon"] + (["area_km2"] if "area_km2" in ot.columns else [])]
        mp = _market_potential(builder, M, dest, origins)
        if builder.self_potential:
            mp = mp + _self_term(builder, scoring.data, ot, cols)
        Mc = M.loc[M.index.intersection(builder.cores_)]
        ca = market_potential_from_coords(Mc, builder.towns_.loc[Mc.index, "lat"], builder.towns_.loc[Mc.index, "lon"],
                                          beta=builder.mp_beta, decay=builder.mp_decay, origins=origins,
                                          min_distance_km=builder.min_distance_km, n_jobs=builder.n_jobs)
        out["market_potential"] = lookup(mp, ids, years)
        out["core_access"] = lookup(ca, ids, years)
    out["core_links"] = _core_links(builder, E, edges)
    return out


def _market_potential(builder, M: pd.DataFrame, dest: pd.DataFrame, origins: pd.DataFrame) -> pd.DataFrame:
    """Market potential of the origins against the reference population field ``M``.

    When the origins are reference municipalities at their reference coordinates (always
    so in ``fit_transform``) and they are many, every reference municipality is computed
    at once with each pair of towns visited once (municipalities without population weigh
    0); otherwise the origins are computed against the destinations block by block.
    """
    ref = builder.towns_
    known = member(origins.index, ref.index)
    n_all = len(ref)
    if known.all() and len(origins) * len(M) > n_all * n_all / 2:
        same = (ref.loc[origins.index, ["lat", "lon"]].to_numpy() == origins[["lat", "lon"]].to_numpy()).all()
        if same:
            full = M.reindex(ref.index).fillna(0.0)  # no population: not a destination
            mp = market_potential_from_coords(full, ref["lat"], ref["lon"], beta=builder.mp_beta,
                                              decay=builder.mp_decay, min_distance_km=builder.min_distance_km,
                                              n_jobs=builder.n_jobs)
            return mp.loc[origins.index]
    return market_potential_from_coords(M, dest["lat"], dest["lon"], beta=builder.mp_beta, decay=builder.mp_decay,
                                        origins=origins, min_distance_km=builder.min_distance_km,
                                        n_jobs=builder.n_jobs)


def _self_term(builder, data, origins: pd.DataFrame, cols: np.ndarray) -> pd.DataFrame:
    """``mass_i f(d_ii)`` with ``d_ii = (2/3) sqrt(area_i / pi)``: the origin's own population
    (the reference's for a fitted town, the scored data's for a new one)."""
    ref = builder.masses_
    own = pd.DataFrame(ref[nearest_year(builder.years_, cols)].to_numpy(), index=ref.index,
                       columns=cols).reindex(origins.index)
    new = population_field(data, data.towns.set_index("town_id"), cols).reindex(origins.index)
    own = own.fillna(new)
    if own.isna().to_numpy().any():
        bad = list(own.index[own.isna().any(axis=1)][:5])
        raise ValueError(f"self potential needs the population of every town; missing for {bad}")
    area = origins["area_km2"] if "area_km2" in origins.columns else None
    f = distance_decay(internal_distance_km(area, origins.index), builder.mp_beta, builder.mp_decay)
    return own * f[:, None]


def _core_links(builder, E: pd.DataFrame, edges) -> np.ndarray:
    """Number of cores tied to each town-year by ownership, either direction (each core once)."""
    if edges is None:
        return np.full(len(E), np.nan)
    if not len(edges):
        return np.zeros(len(E))
    cores = builder.cores_
    source, target = edges["source"], edges["target"]
    year = edges["year"].to_numpy()
    other = (source != target).to_numpy()
    from_core = other & member(source, cores)
    to_core = other & member(target, cores)
    # (row of the town-year, core) pairs in either direction, each counted once
    rows = np.r_[row_positions(E.index, target[from_core], year[from_core]),
                 row_positions(E.index, source[to_core], year[to_core])]
    core = positions(cores, pd.concat([source[from_core], target[to_core]]))
    ok = rows >= 0
    pairs = pd.unique(rows[ok] * max(len(cores), 1) + core[ok])
    return np.bincount(pairs // max(len(cores), 1), minlength=len(E)).astype(float)


GROUP = FeatureGroup(NAME, _compute, needs=frozenset({"firms", "edges"}), unsupported=_unsupported,
                     fitted=(("masses_", None), ("towns_without_mass_", [])), fit=_fit)
