"""From a configuration dict (as read from TOML, or a manifest's resolved form) to the checked
tree: one function per section, all run by :func:`parse_config` before anything is computed.

Keys that mirror a library's parameters are read from its signature (the feature builder, the
typology estimator, ``PanelModelSpec``, ``fit_discrete_model``), so a parameter added there is a
key here without a change; a key of the shell has a rule in :mod:`._checks`. Old names keep
working (``OLD_NAMES``), so that every manifest written before a rename still reproduces.
"""

from __future__ import annotations

import dataclasses
import inspect
import zlib
from pathlib import Path

from ._checks import (
    MAX_REPLICATES,
    ConfigError,
    Where,
    boolean,
    choice,
    feature_rules,
    integer,
    level,
    n_jobs,
    optional,
    random_state,
    scheduler,
    show,
    spatial_rules,
    typology_rules,
)
from ._tree import (
    ComputeConfig,
    DataConfig,
    DiscreteModelConfig,
    EventStudyConfig,
    FeaturesConfig,
    LinearModelConfig,
    ReportConfig,
    RunConfig,
    SpatialConfig,
    SpatialModelConfig,
    TypologyConfig,
    freeze,
)

__all__ = ["DEFAULT_K_RANGE", "DEFAULT_TYPOLOGY_FEATURES", "DISCRETE_KINDS", "EVENT_COHORT_KEYS", "EVENT_KEYS",
           "MODEL_KINDS", "NON_NUMERIC_FEATURES", "OLD_NAMES", "SECTIONS", "SPATIAL_KEYS", "event_seed", "model_seed",
           "parse_config", "spatial_seed", "valid_keys"]

DEFAULT_TYPOLOGY_FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
DEFAULT_K_RANGE = (2, 10)  # k_range = "auto": 2 .. min(10, towns // 2 - 1), resolved on the data
MODEL_KINDS = ("linear", "logit", "probit", "mnlogit", "spatial")
DISCRETE_KINDS = ("logit", "probit", "mnlogit")
SPATIAL_MODEL_SHELL_KEYS = ("name", "kind", "formula", "model", "effects", "balance", "n_draws", "random_state")
BALANCE = ("require", "drop_towns")  # [[models]] kind = "spatial": an unbalanced panel refused, or its towns dropped
NON_NUMERIC_FEATURES = ("leading_sector", "status")  # text columns of the feature table
SEED_KEY_MODELS = 0x6D6F6465  # "mode": the models' branch of the run's seed tree
SEED_KEY_EVENTS = 0x65766E74  # "evnt": the event studies' branch
SEED_KEY_SPATIAL = 0x73706174  # "spat": the spatial statistics' branch

SECTIONS = ("data", "features", "typology", "models", "report", "compute", "event_studies", "spatial")
SPATIAL_KEYS = tuple(f.name for f in dataclasses.fields(SpatialConfig))
EVENT_KEYS = ("name", "outcome", "cohort", "methods", "control", "n_boot", "leads", "lags", "covariates", "cluster",
              "exit", "on_exit", "random_state")
EVENT_COHORT_KEYS = ("rule", "threshold", "min_years", "event", "missing", "denominator")
TYPOLOGY_SHELL_KEYS = ("features", "period", "sample")
REPORT_KEYS = ("title", "lang", "decimal_comma", "units")
COMPUTE_KEYS = ("n_jobs", "backend", "scheduler", "n_workers")
# old name -> where the key lives now; both names in one file are an error
OLD_NAMES = {("typology", "transform"): ("typology", "feature_transform"),
             ("typology", "n_jobs"): ("compute", "n_jobs")}


# ------------------------------------------------------------------------ signatures
def _builder_params() -> dict:
    from features import FeatureBuilder

    return FeatureBuilder().get_params()


def _estimator_params() -> dict:
    from ...estimator.typology import TownTypology

    sig = inspect.signature(TownTypology.__init__)
    return {k: (None if p.default is inspect.Parameter.empty else p.default)
            for k, p in sig.parameters.items() if k != "self"}


def _estimator_names() -> dict[str, str]:
    """Configuration name -> the estimator's parameter, where they differ: ``feature_transform``
    is ``transform`` in an estimator that still calls it so."""
    params = _estimator_params()
    return {"feature_transform": "transform"} if "transform" in params and "feature_transform" not in params else {}


def _typology_params() -> dict:
    """The estimator's parameters under the configuration's names, in its order, without
    ``n_jobs`` and ``backend`` (``[compute]`` says where a run computes)."""
    back = {v: k for k, v in _estimator_names().items()}
    return {back.get(k, k): v for k, v in _estimator_params().items() if k not in ("n_jobs", "backend")}


def _model_keys() -> set[str]:
    from models import PanelModelSpec

    return {f.name for f in dataclasses.fields(PanelModelSpec)} | {"name", "kind"}


def _discrete_params() -> dict:
    """Keyword options of ``models.fit_discrete_model`` with their defaults (read from its
    signature, so options added to it are accepted here without a change)."""
    from models import fit_discrete_model

    sig = inspect.signature(fit_discrete_model)
    return {k: (None if p.default is inspect.Parameter.empty else p.default)
            for k, p in sig.parameters.items() if k not in ("data", "model", "name")  # name: the table's own
            and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}


def _spatial_model_params() -> dict:
    """Keyword options of ``models.fit_spatial_panel`` besides the data, formula, weights, model and
    effects, with their defaults (read from its signature)."""
    from models import fit_spatial_panel

    sig = inspect.signature(fit_spatial_panel)
    return {k: p.default for k, p in sig.parameters.items() if p.kind == inspect.Parameter.KEYWORD_ONLY}


def valid_keys() -> dict:
    """The keys each section accepts: ``data``, ``features``, ``typology``, ``report``,
    ``compute``, ``models.linear`` (``kind = "linear"``), ``models.discrete`` (logit,
    probit, mnlogit), ``models.spatial`` (``kind = "spatial"``), ``event_studies`` and ``event_studies.cohort`` (a registry rule). ``old_names``: keys accepted under an earlier name, as
    ``"section.old"`` -> ``"section.key"``."""
    return {
        "data": ["path", "firms"],
        "features": sorted(_builder_params()),
        "typology": sorted(set(_typology_params()) | set(TYPOLOGY_SHELL_KEYS)),
        "report": list(REPORT_KEYS),
        "compute": list(COMPUTE_KEYS),
        "models.linear": sorted(_model_keys()),
        "models.discrete": sorted(set(_discrete_params()) | {"name", "kind"}),
        "models.spatial": sorted(set(_spatial_model_params()) | set(SPATIAL_MODEL_SHELL_KEYS)),
        "event_studies": list(EVENT_KEYS),
        "event_studies.cohort": list(EVENT_COHORT_KEYS),
        "spatial": list(SPATIAL_KEYS),
        "old_names": {".".join(old): ".".join(new) for old, new in OLD_NAMES.items()},
    }


def model_seed(seed: int, name: str) -> int:
    """Default ``random_state`` of the model ``name`` in a run with seed ``seed``.

    ``numpy.random.SeedSequence(seed, spawn_key=(0x6D6F6465, crc32(name))).generate_state(1)[0] >> 1``
    (a 31-bit integer; ``crc32`` of the UTF-8 name, :func:`zlib.crc32`): a fixed child of the
    run's seed, the same whatever the order of the models.
    """
    from ...estimator.parallel import int_seed

    return int_seed(int(seed), SEED_KEY_MODELS, zlib.crc32(str(name).encode("utf-8")))


def event_seed(seed: int, name: str) -> int:
    """Default ``random_state`` of the event study ``name`` in a run with seed ``seed``: as
    :func:`model_seed`, on the event studies' branch (``spawn_key=(0x65766E74, crc32(name))``)."""
    from ...estimator.parallel import int_seed

    return int_seed(int(seed), SEED_KEY_EVENTS, zlib.crc32(str(name).encode("utf-8")))


def spatial_seed(seed: int) -> int:
    """Default ``[spatial] random_state`` of a run with seed ``seed``: as :func:`model_seed`, on the
    spatial statistics' branch (``spawn_key=(0x73706174, 0)``)."""
    from ...estimator.parallel import int_seed

    return int_seed(int(seed), SEED_KEY_SPATIAL, 0)


# ------------------------------------------------------------------------ the whole file
def parse_config(raw: dict, base_dir: Path | None = None, where: str = "config") -> RunConfig:
    """Check a configuration dict (as from TOML, or a manifest's resolved form) and fill in the
    defaults: the :class:`RunConfig` tree.

    Every key is checked before anything is computed; a problem is a :class:`ConfigError`
    naming ``where`` (the file), the section and key, what was expected and what was found.
    """
    w = Where(where)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a TOML document of tables; found {show(raw)}")
    bad = sorted(set(raw) - set(SECTIONS), key=str)
    if bad:
        raise ConfigError(f"{where}: unknown section(s) {bad}; valid sections are {list(SECTIONS)}")
    data = _data_section(raw, base_dir, w)
    features = _features_section(raw.get("features", {}), w)
    typ = w.table("typology", raw.get("typology", {}))
    compute = _compute_section(raw.get("compute", {}), typ, w)
    typology = _typology_section(typ, features, compute, w)
    models = _models_section(raw.get("models", []), typology.random_state, w)
    report = _report_section(raw.get("report", {}), w)
    events = _event_studies_section(raw.get("event_studies", []), typology.random_state, w)
    spatial = _spatial_section(raw["spatial"], typology.random_state, w) if "spatial" in raw else None
    _check_model_weights(models, spatial, w)
    return RunConfig(data, features, typology, models, report, compute, path=None, label=where,
                     event_studies=events, spatial=spatial)


def _data_section(raw: dict, base_dir: Path | None, w: Where) -> DataConfig:
    data = raw.get("data")
    if not isinstance(data, dict) or "path" not in data:
        raise w.error("data", "path", 'missing: the configuration must give the dataset folder, '
                      '[data] path = "<folder>"')
    w.unknown("data", data, ("path", "firms"))
    if not isinstance(data["path"], str) or not data["path"].strip():
        raise w.bad("data", "path", "the dataset folder as a non-empty string", data["path"])
    if "firms" in data and (not isinstance(data["firms"], str) or not data["firms"].strip()):
        raise w.bad("data", "firms", "the firm registry's folder of Parquet files as a non-empty string",
                    data["firms"])

    def resolved(value: str) -> Path:
        p = Path(value)
        return (base_dir / p).resolve() if not p.is_absolute() and base_dir is not None else p

    return DataConfig(resolved(data["path"]), resolved(data["firms"]) if "firms" in data else None)


def _features_section(value, w: Where) -> FeaturesConfig:
    feats = w.table("features", value)
    params = _builder_params()
    w.unknown("features", feats, params)
    w.apply("features", feats, feature_rules())
    fres = {**params, **feats}
    # the builder's own checks, without data (the rules above give the clearer message first)
    from features import FeatureBuilder

    try:
        FeatureBuilder(**fres).check_params()
    except (TypeError, ValueError) as exc:
        raise w.error("features", None, str(exc)) from None
    return FeaturesConfig(freeze(fres))


def _compute_section(value, typ: dict, w: Where) -> ComputeConfig:
    """``[compute]``, with the old ``[typology] n_jobs`` moved here. ``backend`` is ``"dask"``
    when a ``scheduler`` is given without it; ``"local"`` with a scheduler, and a ``local:N``
    scheduler with another ``n_workers``, are errors."""
    comp = w.table("compute", value)
    w.unknown("compute", comp, COMPUTE_KEYS)
    w.apply("compute", comp, {"n_jobs": n_jobs, "backend": choice("local", "dask"), "scheduler": scheduler,
                              "n_workers": integer(1)})
    if "scheduler" in comp:
        if comp.get("backend", "dask") != "dask":
            raise w.error("compute", "scheduler", f"a scheduler address ({comp['scheduler']!r}) is for backend = "
                          '"dask"; the file gives backend = "local" (remove the scheduler, or set backend = "dask")')
        comp["backend"] = "dask"
        n_local = comp["scheduler"].removeprefix("local:")
        if n_local.isdigit() and comp.get("n_workers", int(n_local)) != int(n_local):
            raise w.error("compute", "n_workers", f"is {comp['n_workers']} but scheduler = {comp['scheduler']!r} "
                          f"starts {n_local} workers; give one of them")
    if "n_jobs" in typ:
        w.apply("typology", {"n_jobs": typ["n_jobs"]}, {"n_jobs": n_jobs})
        if "n_jobs" in comp:
            raise w.error("typology", "n_jobs", "is the old name of [compute] n_jobs, which the file gives "
                          "too; keep [compute] n_jobs only")
        comp["n_jobs"] = typ["n_jobs"]
    return ComputeConfig(**comp)


def _renamed(section: str, table: dict, w: Where) -> tuple[dict, dict]:
    """``table`` with every old name of ``section`` (within it) replaced by its new one, and
    new name -> the name the file used (for messages)."""
    out, used = dict(table), {}
    for (sec, old), (new_sec, new) in OLD_NAMES.items():
        if sec != section or new_sec != section or old not in out:
            continue
        if new in out:
            raise w.error(section, old, f"is the old name of {new}, which the file gives too; keep {new} only")
        out = {(new if k == old else k): v for k, v in out.items()}
        used[new] = old
    return out, used


def _typology_section(typ: dict, features: FeaturesConfig, compute: ComputeConfig, w: Where) -> TypologyConfig:
    tparams = _typology_params()
    old = {o for (s, o) in OLD_NAMES if s == "typology"}
    w.unknown("typology", typ, set(tparams) | set(TYPOLOGY_SHELL_KEYS) | old,
              listed=set(tparams) | set(TYPOLOGY_SHELL_KEYS))
    w.apply("typology", typ, typology_rules())
    typ, used = _renamed("typology", typ, w)
    typ.pop("n_jobs", None)  # moved to [compute]
    tres = {"features": list(DEFAULT_TYPOLOGY_FEATURES), "period": "last", "sample": "towns"}
    tres.update(tparams)
    tres.update({"k_range": "auto", "random_state": 0})
    tres.update(typ)
    for k in ("feature_transform", "scale"):
        if tres.get(k) == "none":
            tres[k] = None  # TOML has no null
    tres["features"] = _typology_features(tres["features"], features.groups, w)
    ft = tres.get("feature_transform")
    if isinstance(ft, dict):
        extra = sorted(set(ft) - set(tres["features"]))
        if extra:
            raise w.bad("typology", used.get("feature_transform", "feature_transform"),
                        f"a table whose keys are typology features {tres['features']}", ft)
    shell = {k: tres.pop(k) for k in TYPOLOGY_SHELL_KEYS}
    out = TypologyConfig(features=tuple(shell["features"]), period=freeze(shell["period"]), sample=shell["sample"],
                         params=freeze(tres), estimator_names=freeze(_estimator_names()))
    # the estimator's own parameter checks, without data (n large: the data-dependent bounds are
    # checked once the number of towns is known)
    from ...estimator.typology import TownTypology

    kr = tres["k_range"]
    try:
        TownTypology(**out.kwargs(DEFAULT_K_RANGE if kr == "auto" else tuple(kr), compute.n_jobs)).check_params(10**9)
    except (TypeError, ValueError) as exc:
        raise w.error("typology", None, str(exc)) from None
    return out


def _typology_features(feats, groups, w: Where) -> list[str]:
    from features import data_dictionary

    if not isinstance(feats, list) or not feats or not all(isinstance(c, str) for c in feats):
        raise w.bad("typology", "features", "a non-empty list of feature names (see `typology features --list`)",
                    feats)
    dd = data_dictionary()
    unknown = [c for c in feats if c not in dd.index]
    if unknown:
        raise w.bad("typology", "features", f"names of the data dictionary (`typology features --list`); "
                    f"unknown: {unknown}", feats)
    text = [c for c in feats if c in NON_NUMERIC_FEATURES]
    if text:
        raise w.bad("typology", "features", f"numeric features ({text} hold text)", feats)
    dup = sorted({c for c in feats if feats.count(c) > 1})
    if dup:
        raise w.bad("typology", "features", f"each feature once (repeated: {dup})", feats)
    if groups is not None:
        groups = list(groups)
        outside = {c: dd.loc[c, "group"] for c in feats if dd.loc[c, "group"] not in (*groups, "quality")}
        if outside:
            raise w.error("typology", "features", f"{sorted(outside)} belong to the feature group(s) "
                          f"{sorted(set(outside.values()))}, which [features] groups = {groups} leaves out; "
                          "add the group(s) or choose other features")
    return list(feats)


def _report_section(value, w: Where) -> ReportConfig:
    rep = w.table("report", value)
    w.unknown("report", rep, REPORT_KEYS)
    if "title" in rep and not isinstance(rep["title"], str):
        raise w.bad("report", "title", "a string", rep["title"])
    if "lang" in rep and rep["lang"] not in ("en", "ru"):
        raise w.bad("report", "lang", '"en" or "ru"', rep["lang"])
    if "decimal_comma" in rep and not isinstance(rep["decimal_comma"], bool):
        raise w.bad("report", "decimal_comma", "true or false", rep["decimal_comma"])
    if "units" in rep and rep["units"] not in ("towns", "districts", "municipalities"):
        raise w.bad("report", "units", '"towns", "districts" or "municipalities"', rep["units"])
    return ReportConfig(**rep)


# ------------------------------------------------------------------------ [[models]]
def _models_section(models, seed: int, w: Where) -> tuple:
    if isinstance(models, dict):
        models = [models]
    if not isinstance(models, list):
        raise w.error("[[models]]", None, f"expected an array of tables; found {show(models)}")
    names: list[str] = []
    out = []
    for i, m in enumerate(models):
        label = f"[[models]] entry {i + 1}"
        if not isinstance(m, dict):
            raise w.error(label, None, f"expected a table; found {show(m)}")
        name = m.get("name", f"model{i + 1}")
        if not isinstance(name, str) or not name.strip():
            raise w.bad(label, "name", "a non-empty string", name)
        label = f"[[models]] entry {i + 1} ({name!r})"
        if name in names:
            raise w.error(label, "name", f"two [[models]] are named {name!r}; names must be unique")
        names.append(name)
        kind = m.get("kind", "linear")
        if not isinstance(kind, str) or kind not in MODEL_KINDS:
            raise w.bad(label, "kind", "one of " + ", ".join(f'"{k}"' for k in MODEL_KINDS), kind)
        if "formula" not in m:
            raise w.error(label, "formula", 'missing: every model needs formula = "y ~ x1 + x2"')
        _check_formula(m["formula"], label, w)
        seed_of = model_seed(seed, name)
        if kind == "spatial":
            out.append(_spatial_model(m, name, seed_of, label, w))
        else:
            out.append(_linear_model(m, name, seed_of, label, w) if kind == "linear"
                       else _discrete_model(m, name, kind, seed_of, label, w))
    return tuple(out)


def _uses_weights(m) -> bool:
    """A model that needs the run's spatial weights: kind ``spatial``, or ``W(x)`` in a linear formula."""
    import re

    return m.kind == "spatial" or (m.kind == "linear" and re.search(r"\bW\s*\(", m.formula) is not None)


def _check_model_weights(models: tuple, spatial: SpatialConfig | None, w: Where) -> None:
    """Spatial models and ``W(x)`` need ``[spatial]``; two-way effects with the Lee-Yu correction need
    row-standardized weights."""
    for i, m in enumerate(models):
        label = f"[[models]] entry {i + 1} ({m.name!r})"
        if not _uses_weights(m):
            continue
        key, what = ("kind", 'kind = "spatial"') if m.kind == "spatial" else ("formula", f"W(x) in {m.formula!r}")
        if spatial is None:
            raise w.error(label, key, f"{what} needs the run's spatial weights, which come from the [spatial] "
                          'section; add one (e.g. [spatial] weights = "knn", k = 6)')
        if m.kind == "spatial" and m.effects == "twoway" and m.options.get("bias_correction") \
                and spatial.transform != "r":
            raise w.error(label, "effects", f'"twoway" with bias_correction = true needs row-standardized weights '
                          f'([spatial] transform = "r"); found transform = "{spatial.transform}"; use transform = '
                          '"r", effects = "entity" or bias_correction = false')


def _spatial_model(m: dict, name: str, seed: int, label: str, w: Where) -> SpatialModelConfig:
    """Check a spatial panel model (``models.fit_spatial_panel`` on the ``[spatial]`` weights)."""
    from models import parse_formula

    from ._checks import spatial_model_rules

    params = _spatial_model_params()
    w.unknown(f'{label} of kind "spatial"', m, set(params) | set(SPATIAL_MODEL_SHELL_KEYS))
    w.apply(label, m, spatial_model_rules(BALANCE))

    form = parse_formula(m["formula"])
    if form.absorb or form.endog:
        raise w.error(label, "formula", "the spatial panel models take no '|' parts (absorbed effects, instruments); "
                      'the effects are given by effects = "twoway" or "entity"')
    options = {**params, **{k: v for k, v in m.items() if k in params}}
    rs = m.get("random_state")
    return SpatialModelConfig(name=name, formula=m["formula"], model=m.get("model", "lag"),
                              effects=m.get("effects", "twoway"), balance=m.get("balance", "require"),
                              n_draws=m.get("n_draws", 1000), random_state=seed if rs is None else rs,
                              options=freeze(options))


def _check_formula(formula, label: str, w: Where) -> None:
    from models import parse_formula

    if not isinstance(formula, str):
        raise w.bad(label, "formula", 'a formula string "y ~ x1 + x2"', formula)
    try:
        parse_formula(formula)
    except Exception as exc:
        raise w.error(label, "formula", f"cannot be parsed: {exc}") from None


def _linear_model(m: dict, name: str, seed: int, label: str, w: Where) -> LinearModelConfig:
    """Build the model's PanelModelSpec, once: it checks the values and is the spec fitted."""
    from models import PanelModelSpec

    w.unknown(f'{label} of kind "linear"', m, _model_keys())
    w.apply(label, m, {"random_state": optional(random_state), "mundlak": boolean,
                       "bootstrap_reps": integer(19, MAX_REPLICATES), "dk_lags": optional(integer(0))})
    fields = {k: v for k, v in m.items() if k not in ("name", "kind")}
    if isinstance(fields.get("effects"), str) and fields["effects"].lower() == "none":
        fields["effects"] = None  # TOML has no null: effects = "none"
    if fields.get("random_state") is None:
        fields["random_state"] = seed
    try:
        spec = PanelModelSpec(**fields)  # the spec's own name stays unset: the table's name labels the model
    except (TypeError, ValueError) as exc:
        raise w.error(label, None, str(exc)) from None
    return LinearModelConfig(name, spec)


def _discrete_model(m: dict, name: str, kind: str, seed: int, label: str, w: Where) -> DiscreteModelConfig:
    """Check a discrete-choice model (``models.fit_discrete_model`` options)."""
    params = _discrete_params()
    w.unknown(f'{label} of kind "{kind}"', m, set(params) | {"name", "kind"})
    rules = {"outcome_level": optional(level), "reference": optional(level),
             "cov_type": choice("clustered", "robust", "unadjusted"),
             "cluster": lambda v: None if isinstance(v, str) and v.strip() else '"entity", "time" or a column name',
             "random_state": optional(random_state)}
    w.apply(label, m, {k: r for k, r in rules.items() if k in params})
    if kind == "mnlogit" and m.get("outcome_level") is not None:
        raise w.error(label, "outcome_level", 'is for the binary kinds "logit" and "probit"; a multinomial '
                      'logit models every level (choose the base level with reference)')
    if kind != "mnlogit" and m.get("reference") is not None:
        raise w.error(label, "reference", 'is the base level of kind = "mnlogit"; a binary model takes '
                      "outcome_level (the level coded 1)")
    res = {**params, **{k: v for k, v in m.items() if k not in ("name", "kind")}}
    if "random_state" in res and res["random_state"] is None:
        res["random_state"] = seed
    formula = res.pop("formula")
    return DiscreteModelConfig(name, kind, formula, freeze(res))


# ------------------------------------------------------------------------ [[event_studies]]
def _event_studies_section(studies, seed: int, w: Where) -> tuple:
    if isinstance(studies, dict):
        studies = [studies]
    if not isinstance(studies, list):
        raise w.error("[[event_studies]]", None, f"expected an array of tables; found {show(studies)}")
    out: list[EventStudyConfig] = []
    for i, e in enumerate(studies):
        label = f"[[event_studies]] entry {i + 1}"
        if not isinstance(e, dict):
            raise w.error(label, None, f"expected a table; found {show(e)}")
        name = e.get("name", f"event_study{i + 1}")
        if not isinstance(name, str) or not name.strip():
            raise w.bad(label, "name", "a non-empty string", name)
        label = f"[[event_studies]] entry {i + 1} ({name!r})"
        if any(s.name == name for s in out):
            raise w.error(label, "name", f"two [[event_studies]] are named {name!r}; names must be unique")
        out.append(_event_study(e, name, seed, label, w))
    return tuple(out)


def _event_study(e: dict, name: str, seed: int, label: str, w: Where) -> EventStudyConfig:
    """Check one ``[[event_studies]]`` table and fill in its defaults."""
    from ._checks import event_rules

    w.unknown(label, e, EVENT_KEYS)
    for key in ("outcome", "cohort"):
        if key not in e:
            raise w.error(label, key, "missing: every event study needs outcome = \"column\" (or \"log(column)\") and "
                          "cohort = \"column\" (first treated year, 0 never) or cohort = {rule = \"anchor\"}")
    rules, defaults = event_rules()
    w.apply(label, e, rules)
    res = {**defaults, **{k: v for k, v in e.items() if k != "name"}}
    if isinstance(res["cohort"], dict):
        res["cohort"] = _event_cohort(res["cohort"], label, w)
        if e.get("exit") not in (None, "none"):
            raise w.error(label, "exit", "is for a cohort column; with a registry rule the year the treatment "
                          "switches off comes from the registry (exit_year after an entry, reentry_year after an exit)")
        res["exit"] = None
    elif "exit" not in e:
        res["exit"] = "exit_year" if res["cohort"] != "exit_year" else None
    if res["exit"] == "none":
        res["exit"] = None  # TOML has no null
    methods = list(res["methods"])
    if res["control"] == "last_treated" and methods != ["sun_abraham"]:
        raise w.error(label, "control", 'is "last_treated", the comparison of Sun and Abraham only; use it with '
                      'methods = ["sun_abraham"] (the other methods take "not_yet_treated" or "never_treated")')
    if res.get("random_state") is None:
        res["random_state"] = event_seed(seed, name)
    return EventStudyConfig(name=name, outcome=res["outcome"].strip(), cohort=freeze(res["cohort"]),
                            methods=tuple(methods), control=res["control"], n_boot=res["n_boot"],
                            leads=res["leads"], lags=res["lags"], covariates=tuple(res["covariates"]),
                            cluster=res["cluster"], exit=res["exit"], on_exit=res["on_exit"],
                            random_state=res["random_state"])


def _event_cohort(c: dict, label: str, w: Where) -> dict:
    """The registry rule of a cohort table, every default filled in (threshold for "share" only)."""
    from ._checks import cohort_rules

    at = f"{label} cohort"
    w.unknown(at, c, EVENT_COHORT_KEYS)
    if "rule" not in c:
        raise w.error(at, "rule", 'missing: a cohort table derives the cohort from the firm registry with '
                      'rule = "anchor" (the anchor firm\'s owner) or "share" (VI share of employment >= threshold)')
    w.apply(at, c, cohort_rules())
    if c["rule"] == "anchor" and c.get("threshold") is not None:
        raise w.error(at, "threshold", 'applies to rule = "share" (the VI share of employment); rule = "anchor" '
                      "follows the anchor firm's owner")
    out = {"rule": c["rule"], "min_years": 1, "event": "entry", "missing": "skip", "denominator": "employment"}
    if c["rule"] == "share":
        out["threshold"] = 0.5
    out.update({k: v for k, v in c.items() if v is not None})
    return out


# ------------------------------------------------------------------------ [spatial]
def _spatial_section(value, seed: int, w: Where) -> SpatialConfig:
    """``[spatial]``: every key checked, the defaults filled in, the seed derived from the run's."""
    sp = w.table("spatial", value)
    w.unknown("spatial", sp, SPATIAL_KEYS)
    w.apply("spatial", sp, spatial_rules())
    text = [x for x in sp.get("variables", ()) if x in NON_NUMERIC_FEATURES]
    if text:
        raise w.bad("spatial", "variables", f"numeric columns ({text} are text columns)", sp["variables"])
    kind = sp.get("weights", "knn")
    if kind in ("distance_band", "inverse_distance") and sp.get("km") is None:
        raise w.error("spatial", "km", f'missing: weights = "{kind}" needs the distance cut-off in km, e.g. km = 100')
    for key, kinds in (("km", ("distance_band", "inverse_distance")), ("bandwidth", ("kernel",)),
                       ("ties", ("network",)), ("power", ("inverse_distance",))):
        default = SpatialConfig.__dataclass_fields__[key].default  # the resolved form writes every default
        if key in sp and sp[key] != default and kind not in kinds:
            raise w.error("spatial", key, f'applies to weights = {" or ".join(repr(k) for k in kinds)}; '
                          f'found weights = "{kind}"')
    if sp.get("random_state") is None:
        sp["random_state"] = spatial_seed(seed)
    sp["variables"] = tuple(sp.get("variables", ()))
    return SpatialConfig(**sp)
