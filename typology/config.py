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
    random_state = 0
    ...                            # any TownTypology parameter

    [[models]]
    name = "wages"
    formula = "log(avg_wage) ~ corp_share + core_control_share + corp_share:core_control_share"
    estimator = "within"
    effects = "twoway"
    cov_type = "clustered"
    cluster = "entity"

Unknown sections and keys are errors that list the valid ones; the resolved configuration
(every default filled in) is what the run folder's manifest records.
"""

from __future__ import annotations

import copy
import inspect
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ConfigError", "RunConfig", "embedded_config", "load_config", "parse_config", "starter_config"]


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and what was expected."""


DEFAULT_TYPOLOGY_FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]

_SECTIONS = ("data", "features", "typology", "models", "report")
_DATA_KEYS = {"path": str}
_TYPOLOGY_SHELL_KEYS = {"features": list, "period": (str, int, list), "sample": str}
_REPORT_KEYS = {"title": str}


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

    return {f.name for f in dataclasses.fields(PanelModelSpec)} | {"name"}


@dataclass(frozen=True)
class RunConfig:
    """A checked configuration. ``resolved`` is the JSON-ready dict with every default filled in."""

    resolved: dict
    path: Path | None

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


def _unknown(section: str, got: dict, valid, where: str) -> None:
    bad = sorted(set(got) - set(valid))
    if bad:
        raise ConfigError(f"{where}: unknown key(s) {bad} in [{section}]; valid keys are {sorted(valid)}")


def parse_config(raw: dict, base_dir: Path | None = None, where: str = "config") -> RunConfig:
    """Check a configuration dict (as from TOML) and fill in the defaults."""
    bad = sorted(set(raw) - set(_SECTIONS))
    if bad:
        raise ConfigError(f"{where}: unknown section(s) {bad}; valid sections are {list(_SECTIONS)}")
    data = raw.get("data")
    if not isinstance(data, dict) or "path" not in data:
        raise ConfigError(f"{where}: [data] must give path = \"<dataset folder>\"")
    _unknown("data", data, _DATA_KEYS, where)
    p = Path(str(data["path"]))
    if not p.is_absolute() and base_dir is not None:
        p = (base_dir / p).resolve()
    out: dict = {"data": {"path": str(p)}}

    feats = dict(raw.get("features", {}))
    params = _builder_params()
    _unknown("features", feats, params, where)
    fres = {**params, **feats}
    if fres.get("groups") is not None and not isinstance(fres["groups"], list):
        raise ConfigError(f"{where}: [features] groups must be a list of group names")
    out["features"] = fres

    typ = dict(raw.get("typology", {}))
    tparams = _typology_params()
    _unknown("typology", typ, set(tparams) | set(_TYPOLOGY_SHELL_KEYS), where)
    tres = {"features": list(DEFAULT_TYPOLOGY_FEATURES), "period": "last", "sample": "towns"}
    tres.update({k: v for k, v in tparams.items()})
    tres.update(typ)
    if "random_state" not in typ:
        tres["random_state"] = 0
    if isinstance(tres.get("k_range"), list):
        tres["k_range"] = list(tres["k_range"])
    if not isinstance(tres["features"], list) or not all(isinstance(c, str) for c in tres["features"]):
        raise ConfigError(f"{where}: [typology] features must be a list of feature names")
    per = tres["period"]
    if not (per == "last" or isinstance(per, int) or (isinstance(per, list) and len(per) == 2 and all(isinstance(y, int) for y in per))):
        raise ConfigError(f"{where}: [typology] period must be \"last\", a year, or [first, last]; got {per!r}")
    if tres["sample"] not in ("towns", "all"):
        raise ConfigError(f"{where}: [typology] sample must be \"towns\" or \"all\"; got {tres['sample']!r}")
    out["typology"] = tres

    models = raw.get("models", [])
    if isinstance(models, dict):
        models = [models]
    if not isinstance(models, list):
        raise ConfigError(f"{where}: [[models]] must be an array of tables")
    mkeys = _model_keys()
    names = []
    mres = []
    for i, m in enumerate(models):
        if not isinstance(m, dict):
            raise ConfigError(f"{where}: [[models]] entry {i + 1} is not a table")
        _unknown(f"[models] entry {i + 1}", m, mkeys, where)
        if "formula" not in m:
            raise ConfigError(f"{where}: [[models]] entry {i + 1} needs formula = \"y ~ x1 + x2\"")
        name = str(m.get("name", f"model{i + 1}"))
        if name in names:
            raise ConfigError(f"{where}: two [[models]] are named {name!r}; names must be unique")
        names.append(name)
        spec = _check_spec(m, where, i)
        mres.append({"name": name, **spec})
    out["models"] = mres
    rep = dict(raw.get("report", {}))
    _unknown("report", rep, _REPORT_KEYS, where)
    out["report"] = {"title": "Town typology report", **rep}
    return RunConfig(out, None)


def _check_spec(m: dict, where: str, i: int) -> dict:
    """Build the PanelModelSpec once to check the values; return the resolved fields."""
    import dataclasses

    from models import PanelModelSpec

    fields = {k: v for k, v in m.items() if k not in ("name",)}
    if isinstance(fields.get("effects"), str) and fields["effects"].lower() == "none":
        fields["effects"] = None  # TOML has no null: effects = "none"
    if "name" in {f.name for f in dataclasses.fields(PanelModelSpec)}:
        fields["name"] = m.get("name")
    try:
        spec = PanelModelSpec(**fields)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: [[models]] entry {i + 1}: {exc}") from None
    res = dataclasses.asdict(spec)
    res.pop("name", None)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in res.items()}


def load_config(path) -> RunConfig:
    """Read and check a TOML configuration file (``ConfigError`` on any problem)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such configuration file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not a UTF-8 text file") from None
    cfg = parse_config(raw, base_dir=p.parent.resolve(), where=str(p))
    return RunConfig(copy.deepcopy(cfg.resolved), p)


def embedded_config(name: str, data_dir) -> RunConfig:
    """A configuration shipped with the package (``typology/resources/<name>.toml``) pointed at
    ``data_dir``: ``demo`` (the demo and the northern_towns experiment), ``russia_north_real``."""
    from importlib import resources

    text = resources.files("typology").joinpath(f"resources/{name}.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    raw["data"]["path"] = str(Path(data_dir).resolve())
    return parse_config(raw, where=f"embedded configuration {name}.toml")


def starter_config(dataset: str, columns: list[str] | None = None, outcomes: list[str] | None = None) -> str:
    """A commented starter configuration for a dataset folder."""
    outcome = (outcomes or ["avg_wage"])[0]
    return f'''# Town typology run configuration (TOML). Unknown keys are errors.
# Run it with:  typology fit THIS_FILE --out runs/my_run

[data]
# dataset folder (CSV or Parquet tables of the data contract), relative to this file
path = "{dataset}"

[features]
# feature groups to build; leave out the ones your data cannot support
groups = ["specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics"]
# towns with at least this population are agglomeration cores when towns.is_core is absent
core_population = 250000
# market potential: sum_j pop_j * d_ij^-mp_beta (power) or exp(-mp_beta d_ij) (exponential)
mp_beta = 1.0
mp_decay = "power"

[typology]
# features that define the types (see `typology features --list`)
features = {DEFAULT_TYPOLOGY_FEATURES!r}
# one row per town: "last" (each town's latest year), a base year, or [first, last] averaged
period = "last"
# "towns": municipalities of kind town, agglomeration cores left out; "all": every municipality
sample = "towns"
# number of types: "auto" chooses it with evidence (see the report), or an integer
n_types = "auto"
random_state = 0

# panel regressions on features and outcomes; one [[models]] table per model
[[models]]
name = "main"
formula = "log({outcome}) ~ corp_share + core_control_share + corp_share:core_control_share"
estimator = "within"      # within, random, pooled, between, first_difference
effects = "twoway"        # entity, time, twoway or none
cov_type = "clustered"    # unadjusted, robust, clustered, driscoll_kraay, wild_bootstrap
cluster = "entity"        # entity, time, entity+time or a column name
'''
