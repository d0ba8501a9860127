"""The whole analysis in memory: features -> typology -> models, from a checked configuration.

``run_pipeline`` is what ``typology fit`` and ``typology reproduce`` run; it writes nothing.
Every row a stage leaves out is counted and named in ``notes`` and ``left_out``.

Before any computation, :func:`check_config_against_data` checks what the configuration asks
of the dataset: the feature groups it can support, the variables of the models (features of
the groups built, outcome columns), the number of towns of the sample against ``n_types``,
``k_range`` and ``ood_neighbors``. ``k_range = "auto"`` (the default) becomes
``2 .. min(10, towns // 2 - 1)`` on the towns that have every typology feature.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features import FeatureBuilder, TownData
from features.validation import DataValidationError

from .config import DEFAULT_K_RANGE, ConfigError, LinearModelConfig, RunConfig, TypologyConfig
from .progress import Progress

__all__ = ["DataPlan", "PipelineResult", "check_config_against_data", "discrete_tables", "feature_plan",
           "model_frame", "run_pipeline", "typology_input"]


@dataclass(frozen=True)
class PipelineResult:
    config: dict
    builder: FeatureBuilder
    features: pd.DataFrame
    typology_input: pd.DataFrame
    typology: object
    assignments: pd.DataFrame
    left_out: pd.DataFrame
    transitions: object
    model_data: pd.DataFrame
    models: dict
    spec_tests: dict
    notes: tuple = field(default_factory=tuple)
    discrete: dict = field(default_factory=dict)  # name -> models.DiscreteModelResult ([[models]] kind logit...)
    event_studies: dict = field(default_factory=dict)  # name -> events.EventStudyFit ([[event_studies]])
    spatial: object = None  # spatial.SpatialResult ([spatial]) or None


def capture_warnings(fn, notes: list[str], *args, **kwargs):
    """``fn(*args, **kwargs)``, its warnings appended to ``notes`` (once each; deprecation and
    future warnings of libraries left out) instead of printed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    for w in caught:
        if issubclass(w.category, DeprecationWarning | FutureWarning):
            continue
        msg = str(w.message)
        if msg not in notes:
            notes.append(msg)
    return out


def typology_params(typ: TypologyConfig, n_towns: int | None = None, n_jobs: int | None = None) -> dict:
    """TownTypology parameters of a ``[typology]`` section (``n_jobs`` from ``[compute]``);
    ``k_range = "auto"`` becomes ``(2, min(10, n_towns // 2 - 1))`` (``(2, 10)`` when
    ``n_towns`` is not given)."""
    k_range = None
    if typ.params["k_range"] == "auto":
        lo, hi = DEFAULT_K_RANGE
        k_range = (lo, hi if n_towns is None else max(lo, min(hi, max_types(n_towns))))
    return typ.kwargs(k_range=k_range, n_jobs=n_jobs)


def max_types(n_towns: int) -> int:
    """Largest number of types ``n`` towns allow: each half of the towns (prediction strength)
    must hold more towns than types, ``max(2, n // 2 - 1)`` (as ``TownTypology``)."""
    return max(2, n_towns // 2 - 1)


# ------------------------------------------------------------------------ checks against the data
@dataclass(frozen=True)
class DataPlan:
    """What a dataset supports under a configuration: the feature groups that will be built,
    why the others cannot be, the agglomeration cores and the towns of the typology sample
    that have employment (an upper bound of the towns typed)."""

    groups: tuple
    unsupported: dict
    cores: pd.Index
    n_sample: int
    columns: tuple  # columns of the model frame: features of the groups built, outcomes, town attributes


def feature_plan(params: dict, data: TownData) -> tuple[list[str], dict[str, str], pd.Index]:
    """Groups ``data`` can support with the ``[features]`` parameters ``params``, the reason
    for each group it cannot support, and the agglomeration cores; nothing is computed.

    The decision is the feature builder's own (its group plan, with ``groups=None``), so the
    check and the computation cannot disagree.
    """
    plan = FeatureBuilder(**params).plan(data)
    return plan.groups, plan.skipped, plan.cores


def _sample_size(data: TownData, sample: str, cores: pd.Index) -> tuple[int, int]:
    """Towns of the sample with employment rows, and the agglomeration cores left out of it."""
    towns = data.towns
    ids = towns["town_id"]
    keep = ids.isin(pd.Index(data.employment["town_id"].unique()))
    n_cores = 0
    if sample == "towns":
        kind = towns["kind"] if "kind" in towns.columns else pd.Series("town", index=towns.index)
        keep &= kind == "town"
        core = ids.isin(cores)
        n_cores = int((keep & core).sum())
        keep &= ~core
    return int(keep.sum()), n_cores


def check_typology_size(typ: TypologyConfig, n: int, where: str, counted: str, keys: str = "sample") -> None:
    """``ConfigError`` when ``n`` towns cannot hold the typology ``typ`` asks for;
    ``counted`` says which towns were counted, ``keys`` which keys decided them."""
    kmax = max_types(n)
    halves = "each half of the towns must hold more towns than types"
    if n < 8:
        raise ConfigError(f"{where}: [typology] {keys}: a typology needs at least 8 towns; found {counted} "
                          "(change the sample, the typology features or the period, or use more data)")
    nt = typ.params["n_types"]
    if not isinstance(nt, str) and nt > kmax:
        raise ConfigError(f"{where}: [typology] n_types: expected at most {kmax} types ({halves}); found {nt}, "
                          f"with {counted}")
    kr = typ.params["k_range"]
    if nt == "auto" and kr != "auto" and kr[1] > kmax:
        kr = list(kr)
        raise ConfigError(f"{where}: [typology] k_range: expected at most {kmax} types ({halves}); found {kr}, "
                          f"with {counted}; use k_range = [{min(kr[0], kmax)}, {kmax}] or leave k_range out (the "
                          "default considers 2 .. min(10, towns // 2 - 1))")
    nb = typ.params["ood_neighbors"]
    if nb >= n:
        raise ConfigError(f"{where}: [typology] ood_neighbors: expected fewer neighbours than towns; found {nb}, "
                          f"with {counted}")


def _check_period(period, data: TownData, where: str) -> None:
    """A base year must be a year of the employment table; [first, last] must hold one."""
    years = np.unique(data.employment["year"].to_numpy(dtype=np.int64))
    if period == "last" or not len(years):
        return
    first, last = (period, period) if isinstance(period, int) else period
    if not ((years >= first) & (years <= last)).any():
        span = f"{years[0]}..{years[-1]}"
        shown = list(period) if isinstance(period, tuple) else period  # as the file writes it
        raise ConfigError(f"{where}: [typology] period: expected a year of the data ({span}) or a range "
                          f"[first, last] holding one; found {shown!r}")


def _model_variables(m) -> list[tuple[str, str, str]]:
    """(column, key, value) triples a model reads: its formula's variables and its cluster columns."""
    from models import parse_formula

    names = [(v, "formula", m.formula) for v in parse_formula(m.formula).variables]
    spec = getattr(m, "spec", None)
    if spec is not None:  # absorbed effects, endogenous regressors and instruments given as keys
        names += [(c.strip(), "absorb", e) for e in spec.absorb for c in e.split("^")]
        names += [(v, key, t) for key in ("endog", "instruments") for t in getattr(spec, key)
                  for v in parse_formula(f"_ ~ {t}").variables[1:]]
        if spec.cov_type == "conley":
            names += [(c, "coordinates", list(spec.coordinates)) for c in spec.coordinates]
    if m.cluster is not None:
        dims = [p.strip() for p in str(m.cluster).split("+")]
        names += [(d, "cluster", m.cluster) for d in dims if d not in ("entity", "time")]
    return names


def check_config_against_data(cfg: RunConfig, data: TownData) -> DataPlan:
    """Check what ``cfg`` asks of ``data`` before anything is computed (``ConfigError`` naming
    the file, section and key): feature groups the data cannot support, typology features of
    groups that are not built, model variables that are neither features nor columns of the
    data, and a sample too small for ``n_types`` / ``k_range`` / ``ood_neighbors``."""
    from features import data_dictionary

    where = cfg.where
    fcfg, tcfg = cfg.features.params, cfg.typology
    supported, unsupported, cores = feature_plan(cfg.features.kwargs(), data)
    asked = cfg.features.groups
    if asked is not None:
        cannot = [g for g in asked if g in unsupported]
        if cannot:
            why = "; ".join(f"{g!r} {unsupported[g]}" for g in cannot)
            raise ConfigError(f"{where}: [features] groups: the dataset {cfg.data_path} cannot support {why}; "
                              f"remove {'them' if len(cannot) > 1 else 'it'} from groups (or add the missing data)")
        built = [g for g in asked if g in supported]
    else:
        built = supported
    dd = data_dictionary()
    group_of = dd["group"]

    def why_not(col: str) -> str:
        g = group_of[col]
        if g in unsupported:
            return f"{col} needs the feature group {g!r}, which the dataset cannot support ({unsupported[g]})"
        return f"{col} needs the feature group {g!r}, which [features] groups leaves out"

    absent = [c for c in tcfg.features if group_of[c] not in (*built, "quality")]
    if absent:
        raise ConfigError(f"{where}: [typology] features: " + "; ".join(why_not(c) for c in absent)
                          + "; choose features the data supports (`typology features --list`)")
    feats = [c for c in dd.index if group_of[c] in (*built, "quality")]
    outcomes = [c for c in (data.outcomes.columns if data.outcomes is not None else ())
                if c not in ("town_id", "year") and c not in feats]
    extra = ["region", *(["kind"] if "kind" in data.towns.columns else []), "lat", "lon", "type", "type_name"]
    columns = (*feats, *outcomes, *extra)
    known = {*columns, "town_id", "year"}
    for m in cfg.models:
        missing = [(v, key, value) for v, key, value in _model_variables(m) if v not in known]
        if missing:
            v, key, value = missing[0]
            text = why_not(v) if v in group_of.index else (
                f"{v!r} is neither a feature nor a column of the dataset; outcome columns: {outcomes}; "
                f"town columns: {extra}")
            raise ConfigError(f"{where}: [[models]] {m.name!r} {key} {value!r}: {text}")
    _check_period(tcfg.period, data, where)
    if fcfg.get("missing") == "raise" and data.employment["employment"].isna().any():
        raise ConfigError(f"{where}: [features] missing: \"raise\" refuses suppressed cells, and employment has "
                          f"{int(data.employment['employment'].isna().sum())} (empty = not published); use "
                          "missing = \"omit\" (shares over the published sectors)")
    n, n_cores = _sample_size(data, tcfg.sample, cores)
    counted = f"at most {n} towns in the sample (sample = {tcfg.sample!r}, towns with employment rows"
    if n_cores:
        rule = ("towns.is_core" if "is_core" in data.towns.columns else
                f"towns with population >= [features] core_population = {fcfg['core_population']:g}")
        counted += f"; {n_cores} agglomeration cores left out, the cores being {rule}"
    check_typology_size(tcfg, n, where, counted + ")")
    if cfg.event_studies:
        from .events import check_event_studies

        check_event_studies(cfg, data, columns)
    if cfg.spatial is not None:
        _check_spatial(cfg, data, feats, outcomes, why_not, group_of)
    return DataPlan(tuple(built), unsupported, cores, n, columns)


def _check_spatial(cfg: RunConfig, data: TownData, feats, outcomes, why_not, group_of) -> None:
    """``[spatial]`` against the data: its variables are features of the groups built or outcome
    columns, ``weights = "links"`` needs the links table and ``"network"`` the firm registry."""
    where, sp = cfg.where, cfg.spatial
    for v in sp.variables:
        if v not in feats and v not in outcomes:
            text = why_not(v) if v in group_of.index else (
                f"{v!r} is neither a feature nor an outcome column of the dataset; outcome columns: {outcomes}")
            raise ConfigError(f"{where}: [spatial] variables: {text}")
    if sp.weights == "links" and data.links is None:
        raise ConfigError(f"{where}: [spatial] weights: \"links\" needs the links table, which the dataset "
                          f"{cfg.data_path} does not have; use weights = \"knn\" (coordinates) or add links.csv")
    if sp.weights == "network" and (not data.has_firms or data.groups is None):
        raise ConfigError(f"{where}: [spatial] weights: \"network\" needs the firms and groups tables (the ownership "
                          f"network), which the dataset {cfg.data_path} does not have; use weights = \"knn\"")


def sample_towns(builder: FeatureBuilder, data: TownData, sample: str, F: pd.DataFrame) -> pd.Index:
    """Towns the typology is about, among the municipalities with feature rows (those without
    employment are already reported by validation and the feature builder): ``"towns"`` =
    kind town without agglomeration cores, ``"all"`` = every municipality."""
    towns = data.towns.set_index("town_id")
    have = towns.index.isin(F.index.get_level_values("town_id"))
    if sample == "all":
        return pd.Index(towns.index[have], name="town_id")
    kind = towns["kind"] if "kind" in towns.columns else pd.Series("town", index=towns.index)
    keep = (kind == "town").to_numpy() & ~towns.index.isin(builder.cores_) & have
    return pd.Index(towns.index[keep], name="town_id")


def typology_input(F: pd.DataFrame, features, period, towns: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per town of the sample with the typology ``features`` in ``period`` (``"last"``,
    a year, or first and last years), and the towns left out (with why)."""
    from ..estimator.period import town_rows

    cols = list(features)
    missing = [c for c in cols if c not in F.columns]
    if missing:
        numeric = [c for c in F.columns if pd.api.types.is_numeric_dtype(F[c])]
        raise ConfigError(f"[typology] features {missing} are not in the feature table; available: {numeric}")
    per = list(period) if isinstance(period, list | tuple) else period  # as the message shows it
    rows = town_rows(F[cols], period=tuple(period) if isinstance(period, list | tuple) else period, sample=towns)
    X = rows.reindex(pd.Index(towns, name="town_id"))
    no_row = ~X.index.isin(rows.index)
    gaps = X[(X.isna().any(axis=1) & ~no_row).to_numpy()].isna()
    missing = gaps.astype(object).dot(pd.Index([f"{c}, " for c in cols])).str.removesuffix(", ")
    left = pd.concat([
        pd.Series(f"no feature row for period {per!r} (no employment data in it)", index=X.index[no_row], dtype=str),
        "missing " + missing.astype(str),
    ]).rename("reason").rename_axis("town_id").to_frame()
    return X.dropna(how="any"), left


def model_frame(F: pd.DataFrame, data: TownData, labels: pd.Series | None, type_names=None) -> pd.DataFrame:
    """Features joined with outcomes, the town's region, kind and coordinates (``lat``, ``lon``:
    Conley errors), and its type (``type``, ``type_name``) for heterogeneity by type; indexed by
    (town_id, year)."""
    frame = F.copy()
    out = data.outcomes
    if out is not None:
        o = out.set_index(["town_id", "year"])
        clash = [c for c in o.columns if c in frame.columns]
        o = o.drop(columns=clash)
        frame = frame.join(o, how="left")
    towns = data.towns.set_index("town_id")
    ids = frame.index.get_level_values("town_id")
    frame["region"] = towns["region"].reindex(ids).to_numpy()
    if "kind" in towns.columns:
        frame["kind"] = towns["kind"].reindex(ids).to_numpy()
    for c in ("lat", "lon"):  # the coordinates of Conley errors (PanelModelSpec coordinates)
        if c in towns.columns and c not in frame.columns:
            frame[c] = towns[c].reindex(ids).to_numpy(dtype=float)
    if labels is not None:
        lab = labels.reindex(ids)
        frame["type"] = pd.array(lab.to_numpy(), dtype="Int64")
        if type_names is not None:
            names = pd.Series(type_names)
            frame["type_name"] = lab.map(names).to_numpy()
    return frame


def run_pipeline(cfg: RunConfig, data: TownData, progress: Progress | None = None) -> PipelineResult:
    """Run features, typology and models for ``cfg`` on ``data``.

    The configuration is checked against the data first (:func:`check_config_against_data`);
    every problem a configuration value causes later is a :class:`ConfigError` naming the file
    and the section or model.
    """
    progress = progress or Progress(quiet=True)
    progress.total = 2 + len(cfg.models) + len(cfg.event_studies) + (cfg.spatial is not None)
    check_config_against_data(cfg, data)
    notes: list[str] = list(data.notes)
    with progress.stage("features"):
        builder, F = _features_stage(cfg, data, notes)
    with progress.stage("typology"):
        X, left, typ, assignments, trans = _typology_stage(cfg, builder, data, F, notes)
    frame = model_frame(F, data, typ.labels_, typ.type_names_)
    results, discrete, spec_tests, spatial_fits = _models_stage(cfg, frame, notes, progress, data, builder)
    events = {}
    if cfg.event_studies:
        from .events import fit_event_studies

        events = fit_event_studies(cfg, frame, data, notes, progress)
    spatial = None
    if cfg.spatial is not None:
        from .spatial import run_spatial

        with progress.stage("spatial statistics"):
            spatial = run_spatial(cfg, data, builder, frame, assignments, results, typ.type_names_, notes,
                                  spatial_models=spatial_fits)
    return PipelineResult(config=cfg.resolved, builder=builder, features=F, typology_input=X, typology=typ,
                          assignments=assignments, left_out=left, transitions=trans, model_data=frame,
                          models=results, spec_tests=spec_tests, notes=tuple(notes), discrete=discrete,
                          event_studies=events, spatial=spatial)


def _features_stage(cfg: RunConfig, data: TownData, notes: list[str]) -> tuple[FeatureBuilder, pd.DataFrame]:
    builder = FeatureBuilder(**cfg.features.kwargs())
    try:
        F = capture_warnings(builder.fit_transform, notes, data)  # one pass: fit's panel and registry are reused
    except DataValidationError:
        raise
    except ValueError as exc:
        raise ConfigError(f"{cfg.where}: [features]: the features cannot be computed: {exc}") from None
    return builder, F


def _typology_stage(cfg: RunConfig, builder: FeatureBuilder, data: TownData, F: pd.DataFrame, notes: list[str]):
    """The typology input, the towns left out, the fitted typology, its assignments and the transitions."""
    from ..estimator.transitions import transitions
    from ..estimator.typology import TownTypology

    where, tcfg = cfg.where, cfg.typology
    period = tcfg.to_dict()["period"]  # as the file writes it
    towns = sample_towns(builder, data, tcfg.sample, F)
    X, left = capture_warnings(typology_input, notes, F, tcfg.features, tcfg.period, towns)
    if len(left):
        notes.append(f"{len(left)} town(s) of the sample left out of the typology (see left_out.csv)")
    counted = f"{len(X)} towns of the sample with every typology feature in period = {period!r}"
    if len(left):
        top = left["reason"].value_counts()
        counted += f" ({len(left)} left out, most for: {top.index[0]} ({int(top.iloc[0])}))"
    check_typology_size(tcfg, len(X), where, counted, keys="features, period and sample")
    params = typology_params(tcfg, len(X), cfg.compute.n_jobs)
    auto = tcfg.params["k_range"] == "auto" and tcfg.params["n_types"] == "auto"
    if auto and params["k_range"] != DEFAULT_K_RANGE:
        notes.append(f"k_range: {len(X)} towns allow at most {params['k_range'][1]} types (each half of the "
                     f"towns must hold more towns than types), so k = {params['k_range'][0]}.."
                     f"{params['k_range'][1]} were considered instead of the default "
                     f"{DEFAULT_K_RANGE[0]}..{DEFAULT_K_RANGE[1]}")
    try:
        typ = capture_warnings(TownTypology(**params).fit, notes, X)
    except ValueError as exc:
        raise ConfigError(f"{where}: [typology]: the typology cannot be fitted: {exc}") from None
    assignments = typ.assign(X)
    if getattr(typ, "confidence_", None) is not None:
        assignments["confidence"] = typ.confidence_.reindex(assignments.index)
    # town-years lacking a feature are left out (and listed) by transitions itself
    panel = F.loc[F.index.get_level_values("town_id").isin(X.index), list(tcfg.features)]
    trans = capture_warnings(transitions, notes, typ, panel, random_state=tcfg.random_state)
    return X, left, typ, assignments, trans


def _models_stage(cfg: RunConfig, frame: pd.DataFrame, notes: list[str], progress: Progress, data=None,
                  builder=None):
    """Every ``[[models]]`` table fitted on ``frame``: linear results, discrete results, the
    specification tests of the linear models, and the spatial models (kind ``spatial``, on the
    ``[spatial]`` weights; the linear models' ``W(x)`` terms on the weights among every town of
    the frame)."""
    from models import fit_panel_model, specification_tests
    from models.estimators import ESTIMATORS

    from .spatial import fit_spatial_model, model_weights

    results: dict = {}
    discrete: dict = {}
    spec_tests: dict = {}
    spatial: dict = {}
    weights = None
    for m in cfg.models:
        name = m.name
        with progress.stage(f"model {name}"):
            if m.kind == "spatial":
                spatial[name] = fit_spatial_model(m, cfg, data, builder, frame, notes)
                continue
            if not isinstance(m, LinearModelConfig):
                discrete[name] = _fit_discrete(frame, m, notes, cfg.where)
                continue
            spec = m.spec  # built once, when the configuration was checked
            if weights is None and cfg.spatial is not None and "W(" in spec.formula.replace(" ", ""):
                weights = model_weights(cfg, data, builder, frame, notes)
            try:
                res = capture_warnings(fit_panel_model, notes, frame, spec,
                                       **({"weights": weights} if weights is not None else {}))
            except (KeyError, ValueError, np.linalg.LinAlgError) as exc:
                raise ConfigError(f"{cfg.where}: [[models]] {name!r}: {exc}") from None
            results[name] = res
            if spec.absorb or spec.endog or not ESTIMATORS[spec.estimator].linear:
                notes.append(f"specification tests of model {name!r} not computed: they compare town-effects models "
                             "(within, random, pooled) and are not defined for absorbed effects, instruments or "
                             "PPML")
                continue
            effects = spec.effects if spec.effects in ("entity", "twoway") else "entity"
            cluster = spec.cluster if spec.cov_type in ("clustered", "wild_bootstrap") else "entity"
            try:
                spec_tests[name] = capture_warnings(specification_tests, notes, frame, spec.formula, effects=effects,
                                                    cluster=cluster, cluster_small_sample=spec.cluster_small_sample)
            except (ValueError, np.linalg.LinAlgError) as exc:
                notes.append(f"specification tests of model {name!r} not computed: {exc}")
    return results, discrete, spec_tests, spatial


def _fit_discrete(frame: pd.DataFrame, m, notes: list[str], where: str):
    """Fit a ``[[models]]`` table of kind logit / probit / mnlogit with ``models.fit_discrete_model``."""
    from models import fit_discrete_model

    try:
        return capture_warnings(fit_discrete_model, notes, frame, m.formula, model=m.kind, name=m.name, **m.kwargs())
    except (KeyError, ValueError, TypeError, np.linalg.LinAlgError) as exc:
        raise ConfigError(f"{where}: [[models]] {m.name!r} (kind = {m.kind!r}): {exc}") from None


def discrete_tables(results: dict) -> dict[str, pd.DataFrame]:
    """The tables of the discrete-choice models of a run, by file stem.

    ``discrete_models``: one row per model (kind, formula, outcome levels, observations,
    log-likelihood, pseudo R-squared, errors); ``discrete_coefficients``: one row per (model,
    outcome level, term) with ``estimate``, ``std_error``, ``pvalue`` (binary models: the level
    coded 1; multinomial logit: each level against the reference); ``marginal_effects``: the
    average marginal effects as ``models.fit_discrete_model`` reports them, one row per (model,
    outcome level, term). Empty dict when there are no discrete models.
    """
    if not results:
        return {}
    summary, coefs, ames = [], [], []
    for name, r in results.items():
        levels = [str(v) for v in r.levels]
        summary.append({"model": name, "kind": r.model, "formula": r.formula,
                        "levels": "; ".join(levels), "nobs": int(r.nobs), "llf": float(r.llf),
                        "pseudo_rsquared": float(r.pseudo_rsquared), "cov_type": r.cov_type,
                        "notes": " | ".join(map(str, r.notes))})
        parts = {"estimate": r.params, "std_error": r.std_errors, "pvalue": r.pvalues}
        if isinstance(r.params, pd.DataFrame):  # terms x outcome levels (multinomial)
            long = pd.concat({k: v.rename_axis(index="term", columns="outcome").stack() for k, v in parts.items()},
                             axis=1).reorder_levels(["outcome", "term"])
            long = long.reindex(pd.MultiIndex.from_product([list(r.params.columns), list(r.params.index)],
                                                           names=["outcome", "term"]))
        else:
            long = pd.concat(parts, axis=1).rename_axis("term")
            long = pd.concat({levels[-1]: long}, names=["outcome"])
        long = long.reset_index()
        long.insert(0, "kind", r.model)
        long.insert(0, "model", name)
        coefs.append(long)
        me = r.marginal_effects.rename(columns={"kind": "effect"})  # derivative or discrete change
        if isinstance(me.index, pd.MultiIndex):
            me = me.rename_axis(["outcome", "term"]).reset_index()
        else:
            me = me.rename_axis("term").reset_index()
            me.insert(0, "outcome", levels[-1])
        me.insert(0, "kind", r.model)
        me.insert(0, "model", name)
        ames.append(me)
    return {"discrete_models": pd.DataFrame(summary), "discrete_coefficients": pd.concat(coefs, ignore_index=True),
            "marginal_effects": pd.concat(ames, ignore_index=True)}
