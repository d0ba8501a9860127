"""The checked configuration: a tree of frozen dataclasses, one per section.

::

    RunConfig
    ├── data      DataConfig        path (the dataset folder, absolute)
    ├── features  FeaturesConfig    params: keyword arguments of features.FeatureBuilder
    ├── typology  TypologyConfig    features, period, sample; params: of typology.TownTypology
    ├── models    (LinearModelConfig | DiscreteModelConfig, ...)
    │             linear:   name, spec (the models.PanelModelSpec, built once)
    │             discrete: name, kind, formula, options (of models.fit_discrete_model)
    │             spatial:  name, formula, model, effects, balance, n_draws, random_state, options
    │                       (of models.fit_spatial_panel), on the [spatial] weights
    ├── report    ReportConfig      title, lang, decimal_comma, units
    ├── compute   ComputeConfig     n_jobs (the typology's parallel workers), backend, scheduler, n_workers
    ├── spatial   SpatialConfig     weights, k, km, bandwidth, kernel, power, transform, ties, variables,
    │                               permutations, fdr, joins, residuals, random_state (None: no [spatial])
    └── event_studies (EventStudyConfig, ...)
                  name, outcome, cohort (a column or a registry rule), methods, control, n_boot,
                  leads, lags, covariates, cluster, exit, on_exit, random_state

Every value is checked when the tree is built (:func:`typology.workflow.config.parse_config`),
and the tree holds only frozen values (tuples, read-only mappings), so no stage can change it.
``to_dict()`` is the resolved form (JSON-ready, every default filled in) that the manifest of a
run folder records; it is itself a valid configuration, and ``parse_config(cfg.to_dict())``
gives back ``cfg``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["ComputeConfig", "DataConfig", "DiscreteModelConfig", "EventStudyConfig", "FeaturesConfig",
           "LinearModelConfig", "ReportConfig", "RunConfig", "SpatialConfig", "SpatialModelConfig", "TypologyConfig", "freeze",
           "thaw"]


def freeze(v):
    """A JSON-like value made read-only: lists become tuples, tables read-only mappings."""
    if isinstance(v, Mapping):
        return MappingProxyType({k: freeze(x) for k, x in v.items()})
    if isinstance(v, list | tuple):
        return tuple(freeze(x) for x in v)
    return v


def thaw(v):
    """The JSON form of a frozen value: tuples become lists, mappings dicts (what the manifest
    records and what the estimators were always given)."""
    if isinstance(v, Mapping):
        return {k: thaw(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [thaw(x) for x in v]
    return v


@dataclass(frozen=True)
class DataConfig:
    """``[data]``: the dataset folder (absolute; a relative path is taken from the configuration
    file's folder) and, optionally, ``firms``: a firm registry kept elsewhere as a folder of
    Parquet files, read out of core (``typology.aggregate_registry``)."""

    path: Path
    firms: Path | None = None

    def to_dict(self) -> dict:
        return {"path": str(self.path)} | ({"firms": str(self.firms)} if self.firms is not None else {})


@dataclass(frozen=True)
class FeaturesConfig:
    """``[features]``: the keyword arguments of :class:`features.FeatureBuilder`, every default
    filled in (read from the builder's ``get_params``: a parameter added to the builder is a key
    of this section)."""

    params: Mapping[str, Any]

    @property
    def groups(self) -> tuple[str, ...] | None:
        return self.params["groups"]

    def kwargs(self) -> dict:
        """``FeatureBuilder(**cfg.features.kwargs())``."""
        return thaw(self.params)

    def to_dict(self) -> dict:
        return thaw(self.params)


@dataclass(frozen=True)
class TypologyConfig:
    """``[typology]``: what the typology is about (``features``, ``period``, ``sample``) and the
    parameters of :class:`typology.TownTypology` (``params``, every default filled in, under the
    configuration's names: ``feature_transform``; ``k_range`` is ``"auto"`` or ``(lo, hi)``).

    ``estimator_names`` maps a configuration name to the estimator's parameter where they
    differ (``feature_transform`` -> ``transform`` for an estimator that still calls it so).
    """

    features: tuple[str, ...]
    period: str | int | tuple[int, int]
    sample: str
    params: Mapping[str, Any]
    estimator_names: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    @property
    def random_state(self) -> int:
        return self.params["random_state"]

    def kwargs(self, k_range: tuple[int, int] | None = None, n_jobs: int | None = None) -> dict:
        """Keyword arguments of ``TownTypology``: ``k_range`` replaces ``"auto"`` (it is left
        as configured when None), ``n_jobs`` from ``[compute]``, ``backend`` None (the run's
        ``[compute]`` backend is the ambient one, set around the whole run)."""
        out = {self.estimator_names.get(k, k): thaw(v) for k, v in self.params.items()}
        kr = self.params["k_range"] if k_range is None else k_range
        out["k_range"] = tuple(kr) if isinstance(kr, list | tuple) else kr
        out["n_jobs"] = n_jobs
        out["backend"] = None
        return out

    def to_dict(self) -> dict:
        return {"features": list(self.features), "period": thaw(self.period), "sample": self.sample,
                **thaw(self.params)}


@dataclass(frozen=True)
class LinearModelConfig:
    """A ``[[models]]`` table of kind ``linear``: its name and the :class:`models.PanelModelSpec`
    built (once) from its keys, ``random_state`` filled in (:func:`model_seed`)."""

    name: str
    spec: Any  # models.PanelModelSpec
    kind = "linear"

    @property
    def formula(self) -> str:
        return self.spec.formula

    @property
    def cluster(self) -> str:
        return self.spec.cluster

    def to_dict(self) -> dict:
        fields = dataclasses.asdict(self.spec)
        fields.pop("name", None)  # the table's name is the model's
        # the keys of absorbed effects, instruments and Conley errors are recorded when used, so that a run
        # without them records what runs recorded before they existed
        defaults = {f.name: f.default for f in dataclasses.fields(self.spec) if f.name in _RECORDED_WHEN_SET}
        for key, default in defaults.items():
            if fields[key] == default:
                del fields[key]
        return {"name": self.name, "kind": self.kind, **thaw(fields)}


#: PanelModelSpec fields written to the resolved configuration only when they differ from the default
_RECORDED_WHEN_SET = ("absorb", "endog", "instruments", "fe_tol", "fe_maxiter", "fe_dof", "conley_km", "conley_kernel",
                      "conley_lags", "coordinates")


@dataclass(frozen=True)
class DiscreteModelConfig:
    """A ``[[models]]`` table of kind ``logit``, ``probit`` or ``mnlogit``: the formula and the
    other keyword arguments of :func:`models.fit_discrete_model` (``options``, read from its
    signature, every default filled in)."""

    name: str
    kind: str
    formula: str
    options: Mapping[str, Any]

    @property
    def cluster(self) -> str | None:
        return self.options.get("cluster")

    def kwargs(self) -> dict:
        """``fit_discrete_model(frame, m.formula, model=m.kind, name=m.name, **m.kwargs())``."""
        return thaw(self.options)

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "formula": self.formula, **thaw(self.options)}


@dataclass(frozen=True)
class SpatialModelConfig:
    """A ``[[models]]`` table of kind ``spatial``: :func:`models.fit_spatial_panel` on the weights of
    the run's ``[spatial]`` section.

    ``model``: ``"lag"`` (SAR), ``"error"`` (SEM) or ``"durbin"`` (SDM); ``effects``: ``"twoway"``,
    ``"entity"`` or ``"none"``; ``balance``: ``"require"`` (the panel of the model's rows must be
    balanced, else an error) or ``"drop_towns"`` (keep the towns observed with every variable in
    every year, and with neighbours among them); ``n_draws`` and ``random_state`` of the
    simulated standard errors of ``impacts()`` (:func:`model_seed` of the run's seed and the name
    when the file gives none); ``options``: the other keyword arguments of ``fit_spatial_panel``
    (``bias_correction``, ``method``, ``tol``; read from its signature, every default filled in)."""

    name: str
    formula: str
    model: str
    effects: str
    balance: str
    n_draws: int
    random_state: int
    options: Mapping[str, Any]
    kind = "spatial"
    cluster = None  # no clustered errors: the information matrix of the likelihood

    def kwargs(self) -> dict:
        """``fit_spatial_panel(frame, m.formula, W, model=m.model, effects=m.effects, **m.kwargs())``."""
        return thaw(self.options)

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "formula": self.formula, "model": self.model,
                "effects": self.effects, "balance": self.balance, **thaw(self.options), "n_draws": self.n_draws,
                "random_state": self.random_state}


@dataclass(frozen=True)
class ReportConfig:
    """``[report]``: the report's title; its language ``lang`` (``"en"`` or ``"ru"``); the
    decimal mark (``decimal_comma``; None: a comma in Russian); the word for the units
    (``"towns"``, ``"districts"`` or ``"municipalities"``; None: from the units' ``kind``)."""

    title: str = "Town typology report"
    lang: str = "en"
    decimal_comma: bool | None = None
    units: str | None = None

    def to_dict(self) -> dict:
        out = {"title": self.title}  # the other keys only when set: older manifests stay as they were
        out.update({k: v for k, v in (("lang", None if self.lang == "en" else self.lang),
                                      ("decimal_comma", self.decimal_comma), ("units", self.units)) if v is not None})
        return out


@dataclass(frozen=True)
class ComputeConfig:
    """``[compute]``: how the work is spread, never what it computes. ``n_jobs``: parallel
    workers of the typology (bootstrap, references, restarts; results do not depend on it;
    None or 1 sequential, -1 every core). Formerly ``[typology] n_jobs``, still accepted.

    ``backend``: ``"local"`` (joblib, ``n_jobs``) or ``"dask"`` (every resampling of the run on a
    dask.distributed cluster, :mod:`models.compute`); ``scheduler``: ``"tcp://host:port"``,
    ``"tls://host:port"`` or ``"local:N"`` (a LocalCluster of N workers started for the run;
    None with dask: a LocalCluster of ``n_workers``, default one per core); ``n_workers``: the
    workers to wait for at a remote scheduler, or to start. The results are the same on every
    backend: the manifest records these keys as information (only when set, so a local run
    records what it always did) and ``typology reproduce`` ignores them (it runs locally)."""

    n_jobs: int | None = None
    backend: str = "local"
    scheduler: str | None = None
    n_workers: int | None = None

    def backend_spec(self):
        """The :class:`models.ComputeBackend` of a dask run; None for a local one (the ambient
        backend, local unless the caller set another)."""
        if self.backend != "dask":
            return None
        from models.compute import ComputeBackend

        return ComputeBackend("dask", self.scheduler, self.n_workers)

    def to_dict(self) -> dict:
        out = {"n_jobs": self.n_jobs}
        out.update({k: v for k, v in (("backend", None if self.backend == "local" else self.backend),
                                      ("scheduler", self.scheduler), ("n_workers", self.n_workers)) if v is not None})
        return out


@dataclass(frozen=True)
class EventStudyConfig:
    """An ``[[event_studies]]`` table: one outcome, one cohort, several estimators side by side.

    ``outcome``: a column of the model frame or ``log(column)``; ``cohort``: a column of the
    outcomes table (each town's first treated year, 0 never) or a read-only table
    ``{rule, threshold, min_years, event, missing, denominator}`` from which
    :func:`features.corporate_events` derives it from the firm registry. ``exit``: the column of
    the year the treatment switches off (None: none, or the registry's when the cohort is a rule);
    ``on_exit``: ``"censor"`` (drop each town's years from then on) or ``"refuse"``.
    ``random_state``: the study's seed (:func:`event_seed` of the run's seed and the name when
    the file gives none)."""

    name: str
    outcome: str
    cohort: Any  # str | Mapping
    methods: tuple[str, ...]
    control: str
    n_boot: int
    leads: int | None
    lags: int | None
    covariates: tuple[str, ...]
    cluster: str
    exit: str | None
    on_exit: str
    random_state: int

    @property
    def rule(self) -> Mapping | None:
        """The registry rule of the cohort, None when the cohort is a column."""
        return self.cohort if isinstance(self.cohort, Mapping) else None

    @property
    def log_outcome(self) -> tuple[str, bool]:
        """``(column, logged)`` of ``outcome``."""
        o = self.outcome.strip()
        return (o[4:-1].strip(), True) if o.startswith("log(") and o.endswith(")") else (o, False)

    def to_dict(self) -> dict:
        return {f.name: thaw(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class SpatialConfig:
    """``[spatial]``: the weights among the towns of the run and the spatial statistics it computes
    (:mod:`typology.workflow.spatial`).

    ``weights``: ``"knn"`` (``k``), ``"distance_band"`` (``km``), ``"inverse_distance"`` (``km``,
    ``power``), ``"kernel"`` (``bandwidth`` km, or adaptive on the ``k``-th neighbour; ``kernel``),
    ``"links"`` (the links table) or ``"network"`` (the ownership network, ``ties``); then
    ``transform``. ``variables``: features or outcome columns whose Moran's I, Geary's C and
    LISA are computed; ``permutations``, ``fdr`` (LISA's Benjamini-Hochberg level); ``joins``:
    join counts of the types; ``residuals``: Moran's I of the linear models' residuals;
    ``random_state``: the stage's seed (:func:`spatial_seed` of the run's seed when not given)."""

    weights: str = "knn"
    k: int = 6
    km: float | None = None
    bandwidth: float | None = None
    kernel: str = "triangular"
    power: float = 1.0
    transform: str = "r"
    ties: str = "control"
    variables: tuple[str, ...] = ()
    permutations: int = 999
    fdr: float = 0.05
    joins: bool = True
    residuals: bool = True
    random_state: int = 0

    def to_dict(self) -> dict:
        out = {f.name: thaw(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return {k: v for k, v in out.items() if v is not None}  # TOML has no null: unset keys are left out


@dataclass(frozen=True)
class RunConfig:
    """A checked configuration (see the module docstring for the tree). ``path``: the
    configuration file it was read from, ``label``: how messages name it otherwise."""

    data: DataConfig
    features: FeaturesConfig
    typology: TypologyConfig
    models: tuple[LinearModelConfig | DiscreteModelConfig | SpatialModelConfig, ...]
    report: ReportConfig
    compute: ComputeConfig
    path: Path | None = None
    label: str | None = None
    event_studies: tuple[EventStudyConfig, ...] = ()
    spatial: SpatialConfig | None = None

    @property
    def data_path(self) -> Path:
        return self.data.path

    @property
    def random_state(self) -> int:
        """The run's seed (``[typology] random_state``)."""
        return self.typology.random_state

    @property
    def where(self) -> str:
        """How messages name this configuration: its file, or ``config``."""
        return str(self.path) if self.path is not None else (self.label or "config")

    def to_dict(self) -> dict:
        """The resolved form: JSON-ready, every default filled in; what the manifest records
        (``event_studies`` only when there are some, so a run without them records what it always did)."""
        out = {"data": self.data.to_dict(), "features": self.features.to_dict(),
               "typology": self.typology.to_dict(), "models": [m.to_dict() for m in self.models],
               "report": self.report.to_dict(), "compute": self.compute.to_dict()}
        if self.event_studies:
            out["event_studies"] = [e.to_dict() for e in self.event_studies]
        if self.spatial is not None:  # only when configured: a run without it records what it always did
            out["spatial"] = self.spatial.to_dict()
        return out

    @property
    def resolved(self) -> dict:
        """``to_dict()`` (a new dict at every call)."""
        return self.to_dict()
