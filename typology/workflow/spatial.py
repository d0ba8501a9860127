"""The spatial structure of a run (``[spatial]``): weights, Moran's I, Geary's C, LISA, join counts.

What a run computes when its configuration has a ``[spatial]`` section (nothing otherwise):

* **weights** among the towns of the typology (the towns typed, from ``towns.lat`` / ``lon``;
  ``links`` from the links table, ``network`` from the ownership network of the period's last
  year), :func:`build_weights`;
* for every configured variable (a feature or an outcome column): global Moran's I and Geary's
  C with permutation inference (``spatial_autocorrelation.csv``) and local Moran with cluster
  labels and Benjamini-Hochberg q-values (``lisa.csv``, with ``z`` the standardized value and
  ``lag`` its spatial lag ``W z``, the axes of the Moran scatter plot), on **one value per town for the
  typology's period** (``[typology] period``: ``"last"``, a base year or ``[first, last]``
  averaged), the same rows the typology is built from, so the LISA map and the map of types
  show the same towns;
* join counts of the types (``type_joins.csv``): are towns of the same type neighbours more
  often than chance (non-free sampling and permutations)?
* Moran's I of the residuals of every linear ``[[models]]`` entry (``residual_moran.csv``),
  **per year**: a within (fixed-effects) residual has a zero mean in each town, so averaging it
  over a town's years would erase it; each year's residuals are tested on the weights among the
  towns of that year's rows (built as above on their coordinates). ``I_mean`` in the report is
  the mean over the years.

Seeds: ``[spatial] random_state`` (default :func:`typology.workflow.config.spatial_seed` of the
run's seed); each statistic of each variable draws its permutations from
``int_seed(random_state, crc32(variable), k)`` (``k`` = 0 Moran, 1 Geary, 2 LISA, 3 joins,
4 residuals, plus the year), so adding a variable changes no other number.

Spatial models (``[[models]]`` of kind ``spatial``, :func:`fit_spatial_model`): the model
stage fits them with :func:`models.fit_spatial_panel` on the ``[spatial]`` weights among the
towns of a balanced panel (``balance``), with their impacts; :func:`spatial_model_rows` and
:func:`spatial_impact_rows` turn them into ``spatial_models.csv`` (coefficients, ``rho`` or
``lambda`` among them) and ``spatial_impacts.csv`` (direct, indirect, total effects with
simulated standard errors). The linear models' ``W(x)`` terms use :func:`model_weights`, the
``[spatial]`` weights among every town of the model frame.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features import spatial as sp

__all__ = ["SpatialModelFit", "SpatialResult", "build_weights", "fit_spatial_model", "model_weights",
           "residual_moran_table", "run_spatial", "spatial_impact_rows", "spatial_model_rows", "spatial_tables"]

_MORAN, _GEARY, _LISA, _JOINS, _RESID = range(5)


def _seed(random_state: int, name: str, k: int, year: int = 0) -> int:
    from ..estimator.parallel import int_seed

    return int_seed(int(random_state), zlib.crc32(str(name).encode("utf-8")), k, int(year))


def build_weights(scfg, towns: pd.DataFrame, ids, builder=None, data=None, year=None) -> sp.SpatialWeights:
    """The weights of ``[spatial]`` (``scfg``) among the towns ``ids``.

    ``towns``: indexed by ``town_id`` with ``lat``, ``lon``. ``knn``: ``k`` nearest towns;
    ``distance_band``: neighbours within ``km``; ``inverse_distance``: ``d^-power`` within ``km``;
    ``kernel``: ``kernel`` of ``d / bandwidth`` (fixed, km) or adaptive (``k``-th neighbour);
    ``links``: the links table (``data.links``); ``network``: the ownership network of ``year``
    (``builder.edges_``). Then ``transform``. Islands keep a zero row (a warning names them).
    """
    ids = pd.Index(ids, name="town_id")
    kind = scfg.weights
    if kind in ("links", "network"):
        if kind == "links":
            if data is None or data.links is None:
                raise ValueError("[spatial] weights = \"links\": the dataset has no links table")
            return sp.links_weights(data.links, ids=ids, transform=scfg.transform)
        edges = getattr(builder, "edges_", None)
        if edges is None or not len(edges):
            raise ValueError("[spatial] weights = \"network\": the run has no ownership network (no firms with groups)")
        yrs = sorted(int(y) for y in edges["year"].unique()) if "year" in edges.columns else []
        before = [y for y in yrs if year is None or y <= year]
        pick = (before[-1] if before else yrs[0]) if yrs else None
        return sp.network_weights(edges, year=pick, ids=ids, ties=scfg.ties, transform=scfg.transform)
    lat, lon = towns["lat"].reindex(ids), towns["lon"].reindex(ids)
    if kind == "knn":
        return sp.knn_weights(lat, lon, k=min(scfg.k, len(ids) - 1), transform=scfg.transform)
    if kind == "distance_band":
        return sp.distance_band_weights(lat, lon, km=scfg.km, transform=scfg.transform)
    if kind == "inverse_distance":
        return sp.inverse_distance_weights(lat, lon, km=scfg.km, power=scfg.power, transform=scfg.transform)
    return sp.kernel_weights(lat, lon, bandwidth_km=scfg.bandwidth, k=None if scfg.bandwidth else scfg.k,
                             kernel=scfg.kernel, transform=scfg.transform)


def _quiet(fn, notes: list[str], *args, **kwargs):
    """``fn(...)`` with its spatial warnings (islands, towns without a value) kept as notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sp.SpatialWeightsWarning)
        warnings.simplefilter("always", UserWarning)
        out = fn(*args, **kwargs)
    for w in caught:
        msg = f"spatial: {w.message}"
        if msg not in notes:
            notes.append(msg)
    return out


def _global_row(variable: str, values: pd.Series, w, perms: int, seed: int, notes: list[str]) -> dict:
    m = _quiet(sp.moran, notes, values, w, permutations=perms, random_state=_seed(seed, variable, _MORAN))
    g = _quiet(sp.geary, notes, values, w, permutations=perms, random_state=_seed(seed, variable, _GEARY))
    return {"variable": variable, "n": m.n, "I": m.I, "expected": m.expected, "z": m.z, "p_norm": m.p_norm,
            "p_sim": m.p_sim, "C": g.C, "C_z": g.z, "C_p_norm": g.p_norm, "C_p_sim": g.p_sim,
            "permutations": perms, "weights": w.kind}


def _lisa_rows(variable: str, values: pd.Series, w, scfg, seed: int, notes: list[str]) -> pd.DataFrame:
    lo = _quiet(sp.local_moran, notes, values, w, permutations=scfg.permutations,
                random_state=_seed(seed, variable, _LISA), fdr=scfg.fdr)
    out = lo[["Is", "p_sim", "q_value", "cluster"]].copy()
    v = values.reindex(out.index).astype(float)
    z = (v - v.mean()) / v.std(ddof=0)  # the Moran scatter plot's axes: z and its lag W z
    out["z"] = z
    out["lag"] = w.reindex(out.index, warn=False).lag(z) if len(out) != w.n else w.lag(z)
    out.insert(0, "variable", variable)
    out.index.name = "town_id"
    return out.reset_index()


def residual_moran_table(models: Mapping, frame: pd.DataFrame, towns: pd.DataFrame, scfg, seed: int,
                         notes: list[str], builder=None, data=None) -> pd.DataFrame:
    """Moran's I of the residuals of each linear model, per year (see the module docstring).

    The residuals are ``yt - Xt b`` of the fitted regression (the within residuals of a
    fixed-effects model), labelled with the rows of ``frame`` the model kept (the frame's rows
    without ``result.dropped``, in the frame's order). A model whose rows cannot be labelled so
    is named in ``notes`` and left out.
    """
    rows = []
    for name, r in models.items():
        fd = getattr(r, "fit_data", None)
        if fd is None or fd.Xt is None:
            continue
        dropped = r.dropped
        kept = frame.index if dropped is None or not len(dropped) else frame.index.drop(dropped.index, errors="ignore")
        resid = np.asarray(fd.yt, dtype=float) - np.asarray(fd.Xt, dtype=float) @ r.params.reindex(list(fd.names)).to_numpy()
        if len(kept) != len(resid):
            notes.append(f"spatial: residuals of model {name!r} left out: {len(resid)} residuals for {len(kept)} rows")
            continue
        e = pd.Series(resid, index=kept)
        for year, g in e.groupby(level="year"):
            v = g.droplevel("year")
            v = v[~v.index.duplicated()]
            if len(v) < 4 or float(v.std()) == 0.0:
                continue
            w = _quiet(build_weights, notes, scfg, towns, v.index, builder=builder, data=data, year=int(year))
            m = _quiet(sp.moran, notes, v, w, permutations=scfg.permutations,
                       random_state=_seed(seed, name, _RESID, int(year)))
            rows.append({"model": name, "year": int(year), "n": m.n, "I": m.I, "expected": m.expected, "z": m.z,
                         "p_norm": m.p_norm, "p_sim": m.p_sim})
    return pd.DataFrame(rows, columns=["model", "year", "n", "I", "expected", "z", "p_norm", "p_sim"])


def model_weights(cfg, data, builder, frame: pd.DataFrame, notes: list[str]) -> sp.SpatialWeights:
    """The ``[spatial]`` weights among every town of the model frame (the ``W(x)`` terms of the
    linear ``[[models]]``; the network weights of the frame's last year). A town-year whose
    neighbour has no value of ``x`` that year (absent, or missing) has no ``W(x)``: the model
    drops the row and counts it."""
    towns = data.towns.set_index("town_id")
    ids = pd.Index(pd.unique(frame.index.get_level_values("town_id")), name="town_id")
    last = int(frame.index.get_level_values("year").max())
    return _quiet(build_weights, notes, cfg.spatial, towns, ids, builder=builder, data=data, year=last)


@dataclass(frozen=True)
class SpatialModelFit:
    """A fitted ``[[models]]`` table of kind ``spatial``: the :class:`models.SpatialPanelResult`,
    its impacts (``impacts(n_draws, random_state)`` of the configuration), and the towns the
    balanced panel left out (``balance = "drop_towns"``)."""

    result: object
    impacts: pd.DataFrame
    dropped: pd.Index

    @property
    def params(self) -> pd.Series:
        return self.result.params

    @property
    def std_errors(self) -> pd.Series:
        return self.result.std_errors


def _balanced_towns(m, frame: pd.DataFrame, where: str) -> tuple[pd.Index, pd.Index, pd.Series]:
    """(towns observed with every variable of ``m.formula`` in every year of the frame, the other
    towns, the rows with every variable); ``balance = "require"`` refuses other towns."""
    from models import parse_formula

    from .config import ConfigError

    cols = [v for v in parse_formula(m.formula).variables if v in frame.columns]
    ok = frame[cols].notna().all(axis=1)
    years = frame.index.get_level_values("year")
    n_years = int(years.nunique())
    per_town = ok.groupby(level="town_id", sort=False).sum()
    full, short = per_town.index[per_town.to_numpy() == n_years], per_town.index[per_town.to_numpy() < n_years]
    span = f"{int(years.min())}..{int(years.max())}"
    if len(short) and m.balance == "require":
        raise ConfigError(
            f"{where}: [[models]] {m.name!r} balance: the spatial panel models need a balanced panel (every town in "
            f"every year {span} with every variable of the formula); {len(short)} of {len(per_town)} towns are not "
            f"({list(short[:5])}{' ...' if len(short) > 5 else ''}); set balance = \"drop_towns\" to keep the "
            f"{len(full)} towns observed in every year")
    return pd.Index(full, name="town_id"), pd.Index(short, name="town_id"), ok


def fit_spatial_model(m, cfg, data, builder, frame: pd.DataFrame, notes: list[str]) -> SpatialModelFit:
    """Fit a ``[[models]]`` table of kind ``spatial`` (``m``, a ``SpatialModelConfig``) on ``frame``.

    The panel: the towns observed with every variable of the formula in every year of the frame
    (``balance = "drop_towns"``; ``"require"`` refuses any other town), then, with links or
    network weights, the towns without a neighbour among them dropped too (repeatedly: dropping a
    town can leave another without neighbours). The weights: ``[spatial]``'s among those towns
    (:func:`build_weights`, the frame's last year for network weights). Impacts: ``m.n_draws``
    draws seeded by ``m.random_state``."""
    from models import fit_spatial_panel

    from .config import ConfigError

    where, label = cfg.where, f"[[models]] {m.name!r}"
    keep, short, ok = _balanced_towns(m, frame, where)
    towns = data.towns.set_index("town_id")
    last = int(frame.index.get_level_values("year").max())
    islands: list = []
    while len(keep) >= 3:
        w = _quiet(build_weights, notes, cfg.spatial, towns, keep, builder=builder, data=data, year=last)
        if not len(w.islands) or m.balance == "require":
            break
        islands += list(w.islands)
        keep = keep[~keep.isin(w.islands)]
    if len(keep) < 3:
        raise ConfigError(f"{where}: {label} balance: fewer than 3 towns are observed in every year with every "
                          f"variable of the formula (and have neighbours among them); {len(short)} dropped")
    if len(short) or islands:
        notes.append(f"spatial model {m.name!r}: {len(short) + len(islands)} of {len(keep) + len(short) + len(islands)}"
                     f" towns dropped (balance = \"drop_towns\"): {len(short)} not observed with every variable in "
                     f"every year, {len(islands)} without neighbours among the others; {len(keep)} towns fitted")
    rows = frame.index.get_level_values("town_id").isin(keep) & ok.to_numpy()
    try:
        r = fit_spatial_panel(frame.loc[rows], m.formula, w, model=m.model, effects=m.effects, **m.kwargs())
    except (KeyError, ValueError, np.linalg.LinAlgError) as exc:
        raise ConfigError(f"{where}: {label} (kind = \"spatial\"): {exc}") from None
    notes.extend(f"spatial model {m.name!r}: {n}" for n in r.notes)
    imp = r.impacts(n_draws=m.n_draws, random_state=m.random_state)
    return SpatialModelFit(result=r, impacts=imp, dropped=pd.Index([*short, *islands], name="town_id"))


_MODEL_COLUMNS = ["model", "term", "estimate", "std_error", "z", "pvalue", "ci_lower", "ci_upper", "spatial_model",
                  "effects", "nobs", "n_towns", "n_years", "towns_dropped", "loglik", "sigma2"]


def spatial_model_rows(fits: Mapping[str, object]) -> pd.DataFrame:
    """The rows of ``spatial_models.csv``: one per model and term (the regressors, ``W(x)`` terms,
    then ``rho`` or ``lambda``) with ``estimate``, ``std_error``, ``z``, ``pvalue`` and the 95 %
    interval, and the model's ``spatial_model`` (lag, error, durbin), ``effects``, ``nobs``,
    ``n_towns``, ``n_years``, ``towns_dropped``, ``loglik``, ``sigma2``.

    ``fits``: model name -> :class:`SpatialModelFit`, or any result with ``params`` and
    ``std_errors`` (the other columns are then missing)."""
    rows = []
    for name, fit in fits.items():
        r = getattr(fit, "result", fit)
        tab = r.to_frame() if hasattr(r, "to_frame") else pd.DataFrame(
            {"estimate": r.params, "std_error": getattr(r, "std_errors", pd.Series(dtype=float))})
        tab = tab.rename(columns={"tstat": "z"})
        dropped = getattr(fit, "dropped", None)
        info = {"spatial_model": getattr(r, "model", None), "effects": getattr(r, "effects", None),
                "nobs": getattr(r, "nobs", np.nan), "n_towns": getattr(r, "n_entities", np.nan),
                "n_years": getattr(r, "n_periods", np.nan), "towns_dropped": np.nan if dropped is None else len(dropped),
                "loglik": getattr(r, "loglik", np.nan), "sigma2": getattr(r, "sigma2", np.nan)}
        for term, row in tab.iterrows():
            rows.append({"model": name, "term": str(term), **row.to_dict(), **info})
    return pd.DataFrame(rows).reindex(columns=_MODEL_COLUMNS)


_IMPACT_COLUMNS = ["model", "term", "direct", "direct_se", "indirect", "indirect_se", "total", "total_se", "n_draws"]


def spatial_impact_rows(fits: Mapping[str, object]) -> pd.DataFrame:
    """The rows of ``spatial_impacts.csv``: direct, indirect and total effects (LeSage and Pace 2009)
    of each regressor of each model, with their simulated standard errors and the number of draws
    (``fits``: model name -> :class:`SpatialModelFit`)."""
    parts = []
    for name, fit in fits.items():
        imp = getattr(fit, "impacts", None)
        if not isinstance(imp, pd.DataFrame):
            continue
        t = imp.rename_axis("term").reset_index()
        t.insert(0, "model", name)
        t["n_draws"] = imp.attrs.get("n_draws", np.nan)
        parts.append(t)
    return pd.concat(parts, ignore_index=True).reindex(columns=_IMPACT_COLUMNS) if parts else \
        pd.DataFrame(columns=_IMPACT_COLUMNS)


@dataclass(frozen=True)
class SpatialResult:
    """The spatial structure of a run (tables of :func:`spatial_tables`)."""

    weights: sp.SpatialWeights
    autocorrelation: pd.DataFrame
    lisa: pd.DataFrame
    joins: pd.DataFrame
    residuals: pd.DataFrame
    models: pd.DataFrame = field(default_factory=lambda: spatial_model_rows({}))
    impacts: pd.DataFrame = field(default_factory=lambda: spatial_impact_rows({}))


def _period_values(frame: pd.DataFrame, variables, period, ids: pd.Index) -> pd.DataFrame:
    from ..estimator.period import town_rows

    per = tuple(period) if isinstance(period, list | tuple) else period
    cols = list(variables)
    return town_rows(frame[cols], period=per, sample=ids).reindex(ids)


def _joins_table(labels: pd.Series, w, scfg, seed: int, notes: list[str], names: Mapping | None) -> pd.DataFrame:
    jc = _quiet(sp.join_counts, notes, labels, w.transformed("b"), permutations=scfg.permutations,
                random_state=_seed(seed, "type", _JOINS))
    t = jc.types.copy()
    t.index.name = "type"
    t = t.reset_index()
    t.insert(1, "type_name", [str((names or {}).get(int(k), "")) for k in t["type"]])
    extra = {"type": "different", "type_name": "joins of different types", "n_towns": jc.n, "joins": jc.different,
             "p_sim": jc.p_sim_different}
    return pd.concat([t, pd.DataFrame([extra])], ignore_index=True)


def run_spatial(cfg, data, builder, frame: pd.DataFrame, assignments: pd.DataFrame, models: Mapping,
                names: Mapping | None, notes: list[str], spatial_models: Mapping | None = None) -> SpatialResult | None:
    """The spatial stage of a run (see the module docstring); None without ``[spatial]``.
    ``spatial_models``: the fitted ``[[models]]`` of kind ``spatial`` (name -> :class:`SpatialModelFit`)."""
    scfg = cfg.spatial
    if scfg is None:
        return None
    towns = data.towns.set_index("town_id")
    ids = pd.Index(assignments.index.astype(str), name="town_id")
    seed = scfg.random_state
    w = _quiet(build_weights, notes, scfg, towns, ids, builder=builder, data=data,
               year=_last_year(cfg.typology.period, frame))
    values = _period_values(frame, scfg.variables, cfg.typology.period, ids)
    auto = pd.DataFrame([_global_row(v, values[v], w, scfg.permutations, seed, notes) for v in scfg.variables])
    lisa = pd.concat([_lisa_rows(v, values[v], w, scfg, seed, notes) for v in scfg.variables], ignore_index=True) \
        if scfg.variables else pd.DataFrame(columns=["town_id", "variable", "Is", "p_sim", "q_value", "cluster", "z",
                                                     "lag"])
    joins = _joins_table(assignments["type"].set_axis(ids), w, scfg, seed, notes, names) if scfg.joins \
        else pd.DataFrame()
    resid = residual_moran_table(models, frame, towns, scfg, seed, notes, builder=builder, data=data) \
        if scfg.residuals else residual_moran_table({}, frame, towns, scfg, seed, notes)
    fits = spatial_models or {}
    return SpatialResult(weights=w, autocorrelation=auto, lisa=lisa, joins=joins, residuals=resid,
                         models=spatial_model_rows(fits), impacts=spatial_impact_rows(fits))


def _last_year(period, frame: pd.DataFrame) -> int:
    if isinstance(period, list | tuple):
        return int(period[1])
    if isinstance(period, int):
        return int(period)
    return int(frame.index.get_level_values("year").max())


def spatial_tables(res: SpatialResult | None) -> dict[str, pd.DataFrame]:
    """File stem -> table of the run folder (nothing without ``[spatial]``)."""
    if res is None:
        return {}
    out = {"spatial_autocorrelation": res.autocorrelation, "lisa": res.lisa}
    if len(res.joins):
        out["type_joins"] = res.joins
    if len(res.residuals):
        out["residual_moran"] = res.residuals
    if len(res.models):
        out["spatial_models"] = res.models
    if len(res.impacts):
        out["spatial_impacts"] = res.impacts
    return out
