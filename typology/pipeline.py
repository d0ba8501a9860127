"""The whole analysis in memory: features -> typology -> models, from a checked configuration.

``run_pipeline`` is what ``typology fit`` and ``typology reproduce`` run; it writes nothing.
Every row a stage leaves out is counted and named in ``notes`` and ``left_out``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features import FeatureBuilder, TownData

from .config import ConfigError, RunConfig
from .progress import Progress

__all__ = ["PipelineResult", "model_frame", "run_pipeline", "typology_input"]

SHELL_TYPOLOGY_KEYS = ("features", "period", "sample")


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


def _capture(fn, notes: list[str], *args, **kwargs):
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


def typology_params(typ_cfg: dict) -> dict:
    params = {k: v for k, v in typ_cfg.items() if k not in SHELL_TYPOLOGY_KEYS}
    if isinstance(params.get("k_range"), list):
        params["k_range"] = tuple(params["k_range"])
    return params


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


def typology_input(F: pd.DataFrame, typ_cfg: dict, towns: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per town of the sample with the typology features, and the towns left out (with why)."""
    from .period import town_rows

    cols = list(typ_cfg["features"])
    missing = [c for c in cols if c not in F.columns]
    if missing:
        numeric = [c for c in F.columns if pd.api.types.is_numeric_dtype(F[c])]
        raise ConfigError(f"[typology] features {missing} are not in the feature table; available: {numeric}")
    per = typ_cfg["period"]
    period = tuple(per) if isinstance(per, list) else per
    rows = town_rows(F[cols], period=period, sample=towns)
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
    """Features joined with outcomes, the town's region and kind, and its type (``type``,
    ``type_name``) for heterogeneity by type; indexed by (town_id, year)."""
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
    if labels is not None:
        lab = labels.reindex(ids)
        frame["type"] = pd.array(lab.to_numpy(), dtype="Int64")
        if type_names is not None:
            names = pd.Series(type_names)
            frame["type_name"] = lab.map(names).to_numpy()
    return frame


def run_pipeline(cfg: RunConfig, data: TownData, progress: Progress | None = None) -> PipelineResult:
    """Run features, typology and models for ``cfg`` on ``data``."""
    from models import PanelModelSpec, fit_panel_model, specification_tests

    from .estimator import TownTypology
    from .transitions import transitions

    progress = progress or Progress(quiet=True)
    progress.total = 2 + len(cfg.models)
    notes: list[str] = list(data.notes)
    with progress.stage("features"):
        builder = FeatureBuilder(**cfg.features)
        F = _capture(builder.fit_transform, notes, data)  # one pass: fit's panel and registry are reused
    with progress.stage("typology"):
        typ_cfg = cfg.typology
        towns = sample_towns(builder, data, typ_cfg["sample"], F)
        X, left = _capture(typology_input, notes, F, typ_cfg, towns)
        if len(left):
            notes.append(f"{len(left)} town(s) of the sample left out of the typology (see left_out.csv)")
        if len(X) < 4:
            raise ConfigError(f"only {len(X)} town(s) have every typology feature; a typology needs more")
        typ = _capture(TownTypology(**typology_params(typ_cfg)).fit, notes, X)
        assignments = typ.assign(X)
        if getattr(typ, "confidence_", None) is not None:
            assignments["confidence"] = typ.confidence_.reindex(assignments.index)
        # town-years lacking a feature are left out (and listed) by transitions itself
        panel = F.loc[F.index.get_level_values("town_id").isin(X.index), list(typ_cfg["features"])]
        trans = _capture(transitions, notes, typ, panel, random_state=typ_cfg.get("random_state"))
    frame = model_frame(F, data, typ.labels_, typ.type_names_)
    results: dict = {}
    spec_tests: dict = {}
    for m in cfg.models:
        name = m["name"]
        with progress.stage(f"model {name}"):
            fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in m.items() if k != "name"}
            spec = PanelModelSpec(**fields)
            try:
                res = _capture(fit_panel_model, notes, frame, spec)
            except (KeyError, ValueError) as exc:
                raise ConfigError(f"[[models]] {name!r}: {exc}") from None
            results[name] = res
            effects = spec.effects if spec.effects in ("entity", "twoway") else "entity"
            cluster = spec.cluster if spec.cov_type in ("clustered", "wild_bootstrap") else "entity"
            try:
                spec_tests[name] = _capture(specification_tests, notes, frame, spec.formula, effects=effects,
                                            cluster=cluster, cluster_small_sample=spec.cluster_small_sample)
            except (ValueError, np.linalg.LinAlgError) as exc:
                notes.append(f"specification tests of model {name!r} not computed: {exc}")
    return PipelineResult(config=cfg.resolved, builder=builder, features=F, typology_input=X, typology=typ,
                          assignments=assignments, left_out=left, transitions=trans, model_data=frame,
                          models=results, spec_tests=spec_tests, notes=tuple(notes))
