"""Run configuration: a TOML file read with the standard library, checked key by key.

Sections (every key optional except ``data.path``)::

    [data]
    path = "data/northern_towns"   # dataset folder, relative to the config file

    [features]
    groups = ["specialization", "diversification", "corporate", "agglomeration", "network", "dynamics"]
    core_population = 250000       # agglomeration cores when towns.is_core is absent
    ...                            # any FeatureBuilder parameter

    [typology]
    features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
    period = "last"                # "last", a base year, or [first, last] averaged
    sample = "towns"               # "towns" (kind town, cores left out) or "all"
    n_types = "auto"
    random_state = 0               # the run's seed (an integer >= 0)
    ...                            # any TownTypology parameter

    [[models]]                     # a linear panel model (kind = "linear", the default)
    name = "wages"
    formula = "log(avg_wage) ~ corp_share + core_control_share + corp_share:core_control_share"
    estimator = "within"
    effects = "twoway"
    cov_type = "clustered"
    cluster = "entity"

    [[models]]                     # a discrete-choice model on the same town-year frame
    name = "stagnation"
    kind = "logit"                 # "logit", "probit" or "mnlogit" (models.fit_discrete_model)
    formula = "status ~ corp_share + core_control_share + dist_core_km"
    outcome_level = "stagnating"

    [report]
    title = "Town typology report"

Checks happen in two steps, both before any computation. :func:`parse_config` checks every
key of every section on its own (type, range, choices; feature names against the data
dictionary; formulas parsed): a bad value is a :class:`ConfigError` naming the file, the
section and key, what was expected and what was found. What depends on the data (the feature
groups it can support, the outcome columns, the number of towns) is checked by
:func:`typology.workflow.pipeline.check_config_against_data` right after the dataset is read. Unknown
sections and keys are errors that list the valid ones; the resolved configuration (every
default filled in) is what the run folder's manifest records.

Seeds. ``[typology] random_state`` is the run's seed (default 0; it must be an integer, so
every run can be reproduced). The typology and the bootstrap of the transitions draw from it
directly; a model without its own ``random_state`` gets :func:`model_seed` of the run seed and
its name, written into the resolved configuration. Deriving from the name (not the position)
keeps a model's draws when models are added, removed or reordered.
"""

from __future__ import annotations

import copy
import inspect
import math
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DISCRETE_KINDS", "MODEL_KINDS", "ConfigError", "RunConfig", "embedded_config", "load_config",
           "model_seed", "parse_config", "starter_config", "valid_keys"]


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and what was expected."""


DEFAULT_TYPOLOGY_FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
DEFAULT_K_RANGE = (2, 10)  # k_range = "auto": 2 .. min(10, towns // 2 - 1), resolved on the data
MODEL_KINDS = ("linear", "logit", "probit", "mnlogit")
DISCRETE_KINDS = MODEL_KINDS[1:]
NON_NUMERIC_FEATURES = ("leading_sector", "status")  # text columns of the feature table
MAX_REPLICATES = 1_000_000  # bootstrap samples, references, halvings, restarts: beyond this a run never ends
SEED_KEY_MODELS = 0x6D6F6465  # "mode": the models' branch of the run's seed tree

_SECTIONS = ("data", "features", "typology", "models", "report")
_TYPOLOGY_SHELL_KEYS = ("features", "period", "sample")
_REPORT_KEYS = ("title",)


def _builder_params() -> dict:
    from features import FeatureBuilder

    return FeatureBuilder().get_params()


def _typology_params() -> dict:
    from typology.estimator import TownTypology

    sig = inspect.signature(TownTypology.__init__)
    return {k: (None if p.default is inspect.Parameter.empty else p.default)
            for k, p in sig.parameters.items() if k != "self"}


def _model_keys() -> set[str]:
    import dataclasses

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


def valid_keys() -> dict[str, list[str]]:
    """The keys each section accepts: ``data``, ``features``, ``typology``, ``report``,
    ``models.linear`` (``kind = "linear"``) and ``models.discrete`` (logit, probit, mnlogit)."""
    return {
        "data": ["path"],
        "features": sorted(_builder_params()),
        "typology": sorted(set(_typology_params()) | set(_TYPOLOGY_SHELL_KEYS)),
        "report": list(_REPORT_KEYS),
        "models.linear": sorted(_model_keys()),
        "models.discrete": sorted(set(_discrete_params()) | {"name", "kind"}),
    }


def model_seed(seed: int, name: str) -> int:
    """Default ``random_state`` of the model ``name`` in a run with seed ``seed``.

    ``numpy.random.SeedSequence(seed, spawn_key=(0x6D6F6465, crc32(name))).generate_state(1)[0] >> 1``
    (a 31-bit integer; ``crc32`` of the UTF-8 name, :func:`zlib.crc32`): a fixed child of the
    run's seed, the same whatever the order of the models.
    """
    from ..estimator.parallel import int_seed

    return int_seed(int(seed), SEED_KEY_MODELS, zlib.crc32(str(name).encode("utf-8")))


@dataclass(frozen=True)
class RunConfig:
    """A checked configuration. ``resolved`` is the JSON-ready dict with every default filled in."""

    resolved: dict
    path: Path | None
    label: str | None = None

    @property
    def data_path(self) -> Path:
        return Path(self.resolved["data"]["path"])

    @property
    def features(self) -> dict:
        return self.resolved["features"]

    @property
    def typology(self) -> dict:
        return self.resolved["typology"]

    @property
    def models(self) -> list[dict]:
        return self.resolved["models"]

    @property
    def random_state(self):
        return self.resolved["typology"].get("random_state")

    @property
    def where(self) -> str:
        """How messages name this configuration: its file, or ``config``."""
        return str(self.path) if self.path is not None else (self.label or "config")


# ------------------------------------------------------------------------ value checks
def _show(v) -> str:
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "..."


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _int(lo: int, hi: int | None = None):
    text = f"an integer >= {lo}" if hi is None else f"an integer in {lo}..{hi:,}"
    return lambda v: None if _is_int(v) and v >= lo and (hi is None or v <= hi) else text


def _num(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False):
    if lo is not None and hi is not None:
        text = f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    elif lo is not None:
        text = f"a number {'>' if lo_open else '>='} {lo:g}"
    else:
        text = "a finite number"

    def rule(v):
        if not _is_num(v):
            return text
        if lo is not None and (v < lo or (lo_open and v == lo)):
            return text
        if hi is not None and (v > hi or (hi_open and v == hi)):
            return text
        return None
    return rule


def _choice(*values):
    text = "one of " + ", ".join(f'"{v}"' if isinstance(v, str) else repr(v) for v in values)
    return lambda v: None if isinstance(v, str) and v in values else text


def _bool(v):
    return None if isinstance(v, bool) else "true or false"


def _n_jobs(v):
    return None if v is None or (_is_int(v) and (v == -1 or v >= 1)) else "a positive integer or -1 (every core)"


def _log_base(v):
    return None if _is_num(v) and v > 0 and v != 1 else "a positive number other than 1 (logarithm base)"


def _optional(rule):
    return lambda v: None if v is None else rule(v)


def _groups(v):
    from features.dictionary import GROUPS

    if v is None:
        return None
    if not isinstance(v, list) or not v or not all(isinstance(g, str) for g in v):
        return f"a non-empty list of feature group names among {list(GROUPS)}"
    unknown = [g for g in v if g not in GROUPS]
    if unknown:
        return f"group names among {list(GROUPS)} (unknown: {unknown})"
    return None


_FEATURE_RULES = {
    "groups": _groups,
    "core_population": _num(0, lo_open=True),
    "base": _log_base,
    "missing": _choice("omit", "raise"),
    "mp_beta": _num(0, lo_open=True),
    "mp_decay": _choice("power", "exponential"),
    "self_potential": _bool,
    "min_distance_km": _optional(_num(0, lo_open=True)),
    "vi_min_towns": _int(1),
    "vi_min_sections": _int(1),
    "network_links": _bool,
    "n_jobs": _n_jobs,
}


def _n_types(v):
    return None if (v == "auto" and isinstance(v, str)) or (_is_int(v) and v >= 2) else '"auto" or an integer >= 2'


def _k_range(v):
    ok = v == "auto" or (isinstance(v, list | tuple) and len(v) == 2 and all(_is_int(x) for x in v)
                         and 2 <= v[0] <= v[1])
    return None if ok else '"auto" or a pair [smallest, largest] of integers with 2 <= smallest <= largest'


def _n_init(v):
    return None if v == "auto" or (_is_int(v) and 1 <= v <= MAX_REPLICATES) else \
        f'"auto" or an integer in 1..{MAX_REPLICATES:,}'


def _transform(v):
    from ..estimator.transforms import TRANSFORMS

    if v is None or v in ("auto", "none"):
        return None
    if isinstance(v, dict) and all(isinstance(t, str) and t in TRANSFORMS for t in v.values()):
        return None
    return f'"auto", "none" or a table {{feature = transform}} with transforms among {list(TRANSFORMS)}'


def _scale(v):
    return None if v is None or v in ("standard", "robust", "none") else '"standard", "robust" or "none"'


def _period(v):
    if v == "last" or _is_int(v):
        return None
    if isinstance(v, list) and len(v) == 2 and all(_is_int(y) for y in v) and v[0] <= v[1]:
        return None
    return '"last", a year (integer), or [first, last] years with first <= last'


def _random_state(v):
    return None if _is_int(v) and v >= 0 else \
        "an integer >= 0 (the run's seed; a run must be reproducible, so it cannot be left to chance)"


def _typology_rules() -> dict:
    from ..estimator.clustering import METHODS

    reps = _int(0, MAX_REPLICATES)
    return {
        "period": _period,
        "sample": _choice("towns", "all"),
        "n_types": _n_types,
        "k_range": _k_range,
        "method": _choice(*METHODS),
        "transform": _transform,
        "scale": _scale,
        "share_eps": _num(0, 0.5, lo_open=True, hi_open=True),
        "covariance_type": _choice("full", "tied", "diag", "spherical"),
        "n_init": _n_init,
        "n_boot": reps,
        "n_ref": reps,
        "n_ps": reps,
        "min_jaccard": _num(0, 1),
        "min_prediction_strength": _num(0, 1),
        "atypical_alpha": _num(0, 1, lo_open=True, hi_open=True),
        "ood_alpha": _num(0, 1, lo_open=True, hi_open=True),
        "alpha": _num(0, 1, lo_open=True, hi_open=True),
        "ood_neighbors": _int(1),
        "ood_margin": _num(0, 1000),  # reference standard deviations
        "name_min_z": _num(0),
        "name_terms": _int(1),
        "surrogate_depth": _int(1),
        "missing": _choice("raise", "drop"),
        "random_state": _random_state,
        "n_jobs": _n_jobs,
    }


class _Where:
    """Builds the messages: ``FILE: [section] key: expected ...; found ...``."""

    def __init__(self, where: str):
        self.where = where

    def error(self, section: str, key: str | None, text: str) -> ConfigError:
        at = f"[{section}]" if section != "models" and not section.startswith("[") else section
        return ConfigError(f"{self.where}: {at}{' ' + key if key else ''}: {text}")

    def bad(self, section: str, key: str, expected: str, found) -> ConfigError:
        return self.error(section, key, f"expected {expected}; found {_show(found)}")

    def table(self, section: str, value) -> dict:
        if not isinstance(value, dict):
            raise self.error(section, None, f"expected a table of keys; found {_show(value)}")
        return dict(value)

    def unknown(self, section: str, got: dict, valid) -> None:
        bad = sorted(set(got) - set(valid), key=str)
        if bad:
            at = f"[{section}]" if not section.startswith("[") else section
            raise ConfigError(f"{self.where}: unknown key(s) {bad} in {at}; valid keys are {sorted(valid)}")

    def apply(self, section: str, values: dict, rules: dict) -> None:
        for key, rule in rules.items():
            if key in values:
                expected = rule(values[key])
                if expected is not None:
                    raise self.bad(section, key, expected, values[key])


# ------------------------------------------------------------------------ sections
def parse_config(raw: dict, base_dir: Path | None = None, where: str = "config") -> RunConfig:
    """Check a configuration dict (as from TOML) and fill in the defaults.

    Every key is checked on its own before anything is computed; a problem is a
    :class:`ConfigError` naming ``where`` (the file), the section and key, what was expected
    and what was found.
    """
    w = _Where(where)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a TOML document of tables; found {_show(raw)}")
    bad = sorted(set(raw) - set(_SECTIONS), key=str)
    if bad:
        raise ConfigError(f"{where}: unknown section(s) {bad}; valid sections are {list(_SECTIONS)}")
    out: dict = {"data": _data_section(raw, base_dir, w)}
    out["features"] = _features_section(raw.get("features", {}), w)
    out["typology"] = _typology_section(raw.get("typology", {}), out["features"], w)
    out["models"] = _models_section(raw.get("models", []), out["typology"]["random_state"], w)
    rep = w.table("report", raw.get("report", {}))
    w.unknown("report", rep, _REPORT_KEYS)
    if "title" in rep and not isinstance(rep["title"], str):
        raise w.bad("report", "title", "a string", rep["title"])
    out["report"] = {"title": "Town typology report", **rep}
    return RunConfig(out, None, where)


def _data_section(raw: dict, base_dir: Path | None, w: _Where) -> dict:
    data = raw.get("data")
    if not isinstance(data, dict) or "path" not in data:
        raise w.error("data", "path", 'missing: the configuration must give the dataset folder, '
                      '[data] path = "<folder>"')
    w.unknown("data", data, ("path",))
    if not isinstance(data["path"], str) or not data["path"].strip():
        raise w.bad("data", "path", "the dataset folder as a non-empty string", data["path"])
    p = Path(data["path"])
    if not p.is_absolute() and base_dir is not None:
        p = (base_dir / p).resolve()
    return {"path": str(p)}


def _features_section(value, w: _Where) -> dict:
    feats = w.table("features", value)
    params = _builder_params()
    w.unknown("features", feats, params)
    w.apply("features", feats, _FEATURE_RULES)
    fres = {**params, **feats}
    # the builder's own checks, without data (the rules above give the clearer message first)
    from features import FeatureBuilder

    try:
        FeatureBuilder(**fres)._check_params()
    except (TypeError, ValueError) as exc:
        raise w.error("features", None, str(exc)) from None
    return fres


def _typology_section(value, fres: dict, w: _Where) -> dict:
    typ = w.table("typology", value)
    tparams = _typology_params()
    w.unknown("typology", typ, set(tparams) | set(_TYPOLOGY_SHELL_KEYS))
    w.apply("typology", typ, _typology_rules())
    tres = {"features": list(DEFAULT_TYPOLOGY_FEATURES), "period": "last", "sample": "towns"}
    tres.update(tparams)
    tres.update({"k_range": "auto", "random_state": 0})
    tres.update(typ)
    if isinstance(tres["k_range"], tuple):
        tres["k_range"] = list(tres["k_range"])
    for k in ("transform", "scale"):
        if tres[k] == "none":
            tres[k] = None  # TOML has no null
    tres["features"] = _typology_features(tres["features"], fres.get("groups"), w)
    if isinstance(tres["transform"], dict):
        extra = sorted(set(tres["transform"]) - set(tres["features"]))
        if extra:
            raise w.bad("typology", "transform", f"a table whose keys are typology features {tres['features']}",
                        tres["transform"])
    # the estimator's own parameter checks, without data (n large: the data-dependent bounds are
    # checked once the number of towns is known)
    from ..estimator.typology import TownTypology

    params = {k: v for k, v in tres.items() if k not in _TYPOLOGY_SHELL_KEYS}
    params["k_range"] = DEFAULT_K_RANGE if params["k_range"] == "auto" else tuple(params["k_range"])
    try:
        TownTypology(**params)._check_params(10**9)
    except (TypeError, ValueError) as exc:
        raise w.error("typology", None, str(exc)) from None
    return tres


def _typology_features(feats, groups, w: _Where) -> list[str]:
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
        outside = {c: dd.loc[c, "group"] for c in feats if dd.loc[c, "group"] not in (*groups, "quality")}
        if outside:
            raise w.error("typology", "features", f"{sorted(outside)} belong to the feature group(s) "
                          f"{sorted(set(outside.values()))}, which [features] groups = {groups} leaves out; "
                          "add the group(s) or choose other features")
    return list(feats)


def _models_section(models, seed: int, w: _Where) -> list[dict]:
    if isinstance(models, dict):
        models = [models]
    if not isinstance(models, list):
        raise w.error("[[models]]", None, f"expected an array of tables; found {_show(models)}")
    names: list[str] = []
    out = []
    for i, m in enumerate(models):
        label = f"[[models]] entry {i + 1}"
        if not isinstance(m, dict):
            raise w.error(label, None, f"expected a table; found {_show(m)}")
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
        if kind == "linear":
            spec = _check_spec(m, label, w)
        else:
            spec = _check_discrete(m, kind, label, w)
        if "random_state" in spec and spec["random_state"] is None:
            spec["random_state"] = model_seed(seed, name)
        out.append({"name": name, "kind": kind, **spec})
    return out


def _check_formula(formula, label: str, w: _Where) -> None:
    from models import parse_formula

    if not isinstance(formula, str):
        raise w.bad(label, "formula", 'a formula string "y ~ x1 + x2"', formula)
    try:
        parse_formula(formula)
    except Exception as exc:
        raise w.error(label, "formula", f"cannot be parsed: {exc}") from None


def _check_spec(m: dict, label: str, w: _Where) -> dict:
    """Build the PanelModelSpec once to check the values; return the resolved fields."""
    import dataclasses

    from models import PanelModelSpec

    w.unknown(f'{label} of kind "linear"', m, _model_keys())
    w.apply(label, m, {"random_state": _optional(_random_state), "mundlak": _bool,
                       "bootstrap_reps": _int(19, MAX_REPLICATES), "dk_lags": _optional(_int(0))})
    fields = {k: v for k, v in m.items() if k not in ("name", "kind")}
    if isinstance(fields.get("effects"), str) and fields["effects"].lower() == "none":
        fields["effects"] = None  # TOML has no null: effects = "none"
    if "name" in {f.name for f in dataclasses.fields(PanelModelSpec)}:
        fields["name"] = m.get("name")
    try:
        spec = PanelModelSpec(**fields)
    except (TypeError, ValueError) as exc:
        raise w.error(label, None, str(exc)) from None
    res = dataclasses.asdict(spec)
    res.pop("name", None)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in res.items()}


def _scalar(v):
    return None if isinstance(v, str | int) and not isinstance(v, bool) else "a level of the outcome (string or integer)"


def _check_discrete(m: dict, kind: str, label: str, w: _Where) -> dict:
    """Check a discrete-choice model (``models.fit_discrete_model`` options); return it resolved."""
    params = _discrete_params()
    w.unknown(f'{label} of kind "{kind}"', m, set(params) | {"name", "kind"})
    rules = {"outcome_level": _optional(_scalar), "reference": _optional(_scalar),
             "cov_type": _choice("clustered", "robust", "unadjusted"),
             "cluster": lambda v: None if isinstance(v, str) and v.strip() else '"entity", "time" or a column name',
             "random_state": _optional(_random_state)}
    w.apply(label, m, {k: r for k, r in rules.items() if k in params})
    if kind == "mnlogit" and m.get("outcome_level") is not None:
        raise w.error(label, "outcome_level", 'is for the binary kinds "logit" and "probit"; a multinomial '
                      'logit models every level (choose the base level with reference)')
    if kind != "mnlogit" and m.get("reference") is not None:
        raise w.error(label, "reference", 'is the base level of kind = "mnlogit"; a binary model takes '
                      "outcome_level (the level coded 1)")
    res = {**params, **{k: v for k, v in m.items() if k not in ("name", "kind")}}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in res.items()}


def load_config(path, check_data: bool = True) -> RunConfig:
    """Read and check a TOML configuration file (``ConfigError`` on any problem).

    ``check_data``: the dataset folder of ``[data] path`` must exist (relative paths are taken
    from the configuration file's folder); False when only the other sections are used.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such configuration file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    cfg = parse_config(raw, base_dir=p.parent.resolve(), where=str(p))
    data = Path(cfg.resolved["data"]["path"])
    if check_data and not data.is_dir():
        given = raw["data"]["path"]
        rel = "" if Path(given).is_absolute() else f" ({given!r} is taken from the configuration file's folder)"
        raise ConfigError(f"{p}: [data] path: expected a dataset folder; found "
                          f"{'a file' if data.exists() else 'no such folder'}: {data}{rel}")
    return RunConfig(copy.deepcopy(cfg.resolved), p)


def embedded_config(name: str, data_dir) -> RunConfig:
    """A configuration shipped with the package (``typology/resources/<name>.toml``) pointed at
    ``data_dir``: ``demo`` (the demo and the northern_towns experiment), ``russia_north_real``."""
    from importlib import resources

    text = resources.files("typology").joinpath(f"resources/{name}.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    raw["data"]["path"] = str(Path(data_dir).resolve())
    return parse_config(raw, where=f"embedded configuration {name}.toml")


def _starter_features(groups: list[str], has_population: bool) -> list[str]:
    """Typology features of a starter configuration: the study's defaults that ``groups`` supports,
    with specialization standing in for the corporate ties when there is no firm registry."""
    from features import data_dictionary

    group_of = data_dictionary()["group"]
    feats = [c for c in DEFAULT_TYPOLOGY_FEATURES if group_of[c] in groups
             and (c != "pop_growth" or has_population)]
    for extra in ("krugman", "lq_max", "hhi"):
        if "corporate" in groups and len(feats) >= 2:
            break
        if group_of[extra] in groups and extra not in feats and len(feats) < len(DEFAULT_TYPOLOGY_FEATURES) - 1:
            feats.append(extra)
    return feats


def _starter_formula(outcome: str, log: bool, groups: list[str]) -> str:
    lhs = f"log({outcome})" if log else outcome
    if "corporate" in groups and "agglomeration" in groups:
        rhs = "corp_share + core_control_share + corp_share:core_control_share"
    elif "corporate" in groups:
        rhs = "corp_share + external_control_share"
    else:
        rhs = "entropy + krugman"
    return f"{lhs} ~ {rhs}"


def starter_config(dataset: str, columns: list[str] | None = None, outcomes: list[str] | None = None,
                   groups: list[str] | None = None, unsupported: dict | None = None, has_population: bool = True,
                   log_outcome: dict | None = None) -> str:
    """A commented starter configuration for a dataset folder.

    ``groups``: the feature groups the dataset supports (default: all), ``unsupported``: the
    others with the reason (written as comments); the typology features are the study's
    defaults those groups support (``has_population``: outcomes.population is given, so
    ``pop_growth`` is meaningful). ``outcomes``: numeric outcome columns; the model uses
    ``avg_wage`` when present, else the first one (in logs when ``log_outcome[col]``, i.e. every
    value is positive); no outcome, no model.
    """
    import json

    from features.dictionary import GROUPS

    groups = list(GROUPS) if groups is None else list(groups)
    feats = _starter_features(groups, has_population)
    left = "".join(f"# left out: {g} ({why})\n" for g, why in (unsupported or {}).items())
    head = f'''# Town typology run configuration (TOML). Unknown keys are errors.
# Run it with:  typology fit THIS_FILE --out runs/my_run

[data]
# dataset folder (CSV or Parquet tables of the data contract), relative to this file
path = {json.dumps(str(dataset))}

[features]
# feature groups to build: those this dataset supports
{left}groups = {json.dumps(groups)}
# towns with at least this population are agglomeration cores when towns.is_core is absent
core_population = 250000
# market potential: sum_j pop_j * d_ij^-mp_beta (power) or exp(-mp_beta d_ij) (exponential)
mp_beta = 1.0
mp_decay = "power"

[typology]
# features that define the types (see `typology features --list`)
features = {json.dumps(feats)}
# one row per town: "last" (each town's latest year), a base year, or [first, last] averaged
period = "last"
# "towns": municipalities of kind town, agglomeration cores left out; "all": every municipality
sample = "towns"
# number of types: "auto" chooses it with evidence (see the report), or an integer
n_types = "auto"
# the run's seed: every random choice of the run (typology, bootstraps, models) derives from it
random_state = 0
'''
    outcomes = list(outcomes or [])
    if not outcomes:
        model = ("\n# no outcome columns in the dataset (outcomes table): no panel model. Add [[models]] tables\n"
                 "# once there are outcomes; see the README for their keys.\n")
    else:
        outcome = "avg_wage" if "avg_wage" in outcomes else outcomes[0]
        formula = _starter_formula(outcome, bool((log_outcome or {}).get(outcome, True)), groups)
        model = f'''
# panel regressions on features and outcomes; one [[models]] table per model
[[models]]
name = "main"
formula = {json.dumps(formula)}
estimator = "within"      # within, random, pooled, between, first_difference
effects = "twoway"        # entity, time, twoway or none
cov_type = "clustered"    # unadjusted, robust, clustered, driscoll_kraay, wild_bootstrap
cluster = "entity"        # entity, time, entity+time or a column name
'''
    if "dynamics" in groups:
        rhs = "corp_share + dist_core_km" if {"corporate", "agglomeration"} <= set(groups) else "entropy + krugman"
        model += f'''
# a discrete-choice model of the stagnation status (kind = "logit", "probit" or "mnlogit"):
# [[models]]
# name = "stagnation"
# kind = "logit"
# formula = "status ~ {rhs}"
# outcome_level = "stagnating"
'''
    return head + model
