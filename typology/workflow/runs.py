"""Run folders: written atomically, verified by hashes, reproduced and used for scoring.

A run folder holds ``manifest.json`` (resolved configuration, sha256 of every input file,
package versions, seed, sha256 of every output), the tables of every stage, the fitted objects
(``model.nordtowns``: JSON and arrays, checked against the manifest before it is decoded, see
:mod:`typology.persist`) and the report. It is written into a temporary
folder beside its destination and renamed at the end, so an interrupted run leaves nothing
that looks finished; ``--overwrite`` replaces only a run folder, two runs never write the same
folder at once, and what killed runs left behind is removed (:mod:`typology.folders`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import io
import json
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.io import (
    BOUNDARIES,
    dataset_files,
    read_dataset,
    read_dataset_hashed,
    sha256_file,
    write_dataset,
)
from ..folders import output_folder, refuse_inputs
from .config import ConfigError, RunConfig, embedded_config, parse_config
from .manifest import (
    BUNDLE,
    FORMAT,
    MANIFEST,
    CheckFailed,
    RunFolderError,
    check_run_folder,
    load_bundle,
    load_manifest,
    output_hashes,
    verify_run,
    write_manifest,
)
from .pipeline import PipelineResult, run_pipeline, sample_towns, typology_input
from .progress import Progress
from .report import write_report

__all__ = ["fit_run", "load_manifest", "manifest_config", "reproduce_run", "run_demo", "score_run", "verify_run",
           "write_embedded_dataset"]

TOL = 1e-10


def input_hashes(path: Path, firms: Path | None = None) -> dict:
    """sha256 of a dataset folder's files (a registry folder: of its Parquet files), as
    ``read_dataset_hashed`` records them; ``firms``: a registry folder kept elsewhere."""
    from ..data.registry import sha256_registry

    out = {name: {"file": f"{f.name}/", "sha256": sha256_registry(f)} if f.is_dir()  # a registry folder
           else {"file": f.name, "sha256": sha256_file(f)} for name, f in dataset_files(path).items()}
    if firms is not None and Path(firms).is_dir():
        out["firms"] = {"file": str(firms), "sha256": sha256_registry(firms)}
    return out


# ------------------------------------------------------------------------ writing
def coefficients_table(models: dict) -> pd.DataFrame:
    """One row per (model, term): estimate, standard error, t, p-value and interval."""
    rows = []
    for name, r in models.items():
        f = r.to_frame().copy()
        f.insert(0, "model", name)
        f.index.name = "term"
        rows.append(f.reset_index())
    return pd.concat(rows, ignore_index=True)


def iv_tests_table(models: dict) -> pd.DataFrame | None:
    """The instrumental-variables diagnostics of the IV models (``result.iv_tests``), one row per
    (model, test); ``None`` without an IV model."""
    rows = []
    for name, r in models.items():
        t = getattr(r, "iv_tests", None)
        if t is not None:
            t = t.reset_index()
            t.insert(0, "model", name)
            rows.append(t)
    return pd.concat(rows, ignore_index=True) if rows else None


def _write_tables(res: PipelineResult, d: Path) -> None:
    from models import compare

    res.features.to_parquet(d / "features.parquet")
    res.typology_input.to_csv(d / "typology_input.csv")
    types = res.assignments.copy()
    types.index.name = "town_id"
    types.to_csv(d / "types.csv")
    res.left_out.to_csv(d / "left_out.csv")
    typ = res.typology
    for attr, fname in (("selection_", "selection.csv"), ("stability_", "stability.csv")):
        val = getattr(typ, attr, None)
        if isinstance(val, pd.DataFrame):
            val.to_csv(d / fname)
    _write_profiles(typ, d)
    if res.transitions is not None:
        _write_transitions(res.transitions, d)
    if res.models:
        coefficients_table(res.models).to_csv(d / "coefficients.csv", index=False)
        table = compare(list(res.models.values()), names=list(res.models))
        (d / "regression_table.md").write_text(table.to_markdown(), encoding="utf-8")
        (d / "regression_table.html").write_text(table.to_html(), encoding="utf-8")
        (d / "regression_table.tex").write_text(table.to_latex(), encoding="utf-8")
        (d / "regression_table.txt").write_text(table.to_text(), encoding="utf-8")
        (d / "regression_table.csv").write_text(table.to_csv(), encoding="utf-8")
        iv = iv_tests_table(res.models)
        if iv is not None:
            iv.to_csv(d / "iv_tests.csv", index=False)
    from .pipeline import discrete_tables

    for stem, frame in discrete_tables(res.discrete).items():  # [[models]] of kind logit, probit, mnlogit
        frame.to_csv(d / f"{stem}.csv", index=False)
    from .events import event_tables

    for stem, frame in event_tables(res.event_studies).items():  # [[event_studies]]
        frame.to_csv(d / f"{stem}.csv", index=False)
    from .spatial import spatial_tables

    for stem, frame in spatial_tables(res.spatial).items():  # [spatial]
        frame.to_csv(d / f"{stem}.csv", index=False)
    st = []
    for name, t in res.spec_tests.items():
        f = t.copy()
        f.insert(0, "model", name)
        f.index.name = "test_name"
        st.append(f.reset_index())
    if st:
        pd.concat(st, ignore_index=True).to_csv(d / "spec_tests.csv", index=False)


def _write_profiles(typ, d: Path) -> None:
    prof = typ.profiles_
    for k in ("summary", "mean", "median", "reference", "z", "tests", "typical", "atypical"):
        v = getattr(prof, k, None)
        if isinstance(v, pd.DataFrame):
            v.to_csv(d / f"profile_{k}.csv")
    sur = typ.surrogate_
    sur.rules.drop(columns=[c for c in ("conditions",) if c in sur.rules.columns]).to_csv(d / "surrogate_rules.csv", index=False)


def _write_transitions(tr, d: Path) -> None:
    for k in ("counts", "matrix", "lower", "upper", "stay"):
        getattr(tr, k).to_csv(d / f"transitions_{k}.csv")
    tr.switchers.to_csv(d / "transitions_switchers.csv", index=False)
    tr.assignments.to_csv(d / "transitions_assignments.csv")


def _towns_table(data, builder) -> pd.DataFrame:
    t = data.towns.set_index("town_id")
    keep = [c for c in ("name", "region", "lat", "lon", "kind", "municipal_type", "population") if c in t.columns]
    out = t[keep].copy()
    out["is_core"] = out.index.isin(builder.cores_)
    return out


def _truth_check(res: PipelineResult, data_path: Path) -> dict | None:
    """When the input is a synthetic dataset (truth.json beside it): recovery of types and effects
    (panel models and binary discrete models named as an equation of ``truth.json``; event
    studies of ``entry_year`` against ``events.effects``)."""
    f = data_path / "truth.json"
    if not f.is_file():
        return None
    from sklearn.metrics import adjusted_rand_score

    truth = json.loads(f.read_text(encoding="utf-8"))
    tt = pd.Series(truth.get("town_types", {}))
    lab = res.typology.labels_
    common = lab.index.intersection(tt.index)
    out: dict = {"n_true_types": truth.get("n_types"), "n_types_found": int(res.typology.n_types_)}
    if len(common):
        out["adjusted_rand"] = float(adjusted_rand_score(tt[common].to_numpy(), lab[common].to_numpy()))
        ct = pd.crosstab(tt[common].rename("true type"), lab[common].rename("type"))
        out["crosstab"] = {str(k): {str(c): int(v) for c, v in row.items()} for k, row in ct.iterrows()}
    eqs = truth.get("equations", {})
    cov = {}
    fitted = {**res.models, **{n: r for n, r in res.discrete.items() if isinstance(r.params, pd.Series)}}
    for name, r in fitted.items():  # panel models, and binary discrete ones (the stagnation logit)
        eq = eqs.get(name)
        if not eq:
            continue
        ci = r.conf_int()
        rows = {}
        for term, true in eq["coefficients"].items():
            if term in r.params.index:
                lo, hi = float(ci.loc[term].iloc[0]), float(ci.loc[term].iloc[1])
                rows[term] = {"true": true, "estimate": float(r.params[term]), "ci_lower": lo, "ci_upper": hi,
                              "covered": bool(lo <= true <= hi)}
        cov[name] = rows
    out["coefficients"] = cov
    if truth.get("events") and res.event_studies:
        from .events import truth_comparison

        out["event_studies"] = truth_comparison(res.event_studies, truth["events"])
    return out


@contextmanager
def compute_context(cfg: RunConfig, progress: Progress):
    """The run's ``[compute]`` backend around a block: for ``backend = "dask"`` the cluster is
    reached (or started) first, and a progress line names it (``dask scheduler tcp://... with
    N workers``); a local run leaves the ambient backend as it is. Unreachable scheduler:
    :class:`models.ComputeBackendError`, before anything is read or written."""
    spec = cfg.compute.backend_spec()
    if spec is None:
        yield
        return
    from models.compute import compute_backend

    progress.step(f"connecting to the dask scheduler {spec.scheduler or '(LocalCluster)'} ...")
    with compute_backend(spec) as active:
        progress.step(active.describe())
        yield


def with_scheduler(cfg: RunConfig, address: str | None) -> RunConfig:
    """``cfg`` with its ``[compute]`` backend set to dask at ``address`` (the CLI's ``--scheduler``
    overrides the file; ``n_workers`` is kept for a remote scheduler, dropped for ``local:N``)."""
    if address is None:
        return cfg
    n = None if address.startswith("local:") else cfg.compute.n_workers
    compute = dataclasses.replace(cfg.compute, backend="dask", scheduler=address, n_workers=n)
    return dataclasses.replace(cfg, compute=compute)


def fit_run(cfg: RunConfig, out, overwrite: bool = False, quiet: bool = False, lang: str | None = None) -> Path:
    """Run the pipeline for ``cfg`` and write the run folder ``out`` atomically.

    ``out`` must not be, or contain, the dataset folder or the configuration file. With
    ``overwrite``, an existing run folder is replaced (see :func:`check_run_folder`); any other
    existing folder is refused. The folder is locked for the whole run: a second run writing
    the same ``out`` is refused (``typology.folders.FolderLockedError``). ``lang`` overrides
    ``[report] lang`` for the report written.
    """
    from ..persist import dump, versions

    dest = Path(out)
    data_path = cfg.data_path
    refuse_inputs(dest, {"dataset folder": data_path, "configuration file": cfg.path})
    progress = Progress(quiet=quiet)
    with compute_context(cfg, progress), output_folder(dest, overwrite=overwrite, check=check_run_folder,
                                                       what="run folder", marker=MANIFEST, note=progress.note) as tmp:
        data, hashes = read_dataset_hashed(data_path, progress.step, firms=cfg.data.firms)  # of the bytes analysed
        res = run_pipeline(cfg, data, progress)
        _write_tables(res, tmp)
        _towns_table(data, res.builder).to_csv(tmp / "towns.csv")
        if (Path(data_path) / BOUNDARIES).is_file():  # optional: the report's maps draw them
            shutil.copyfile(Path(data_path) / BOUNDARIES, tmp / BOUNDARIES)
        if cfg.path is not None and Path(cfg.path).is_file():
            shutil.copyfile(cfg.path, tmp / "config.toml")
        dump({"builder": res.builder, "typology": res.typology, "models": res.models, "config": cfg.resolved},
             tmp / BUNDLE, meta={"format": FORMAT})
        truth = _truth_check(res, data_path)
        manifest = {
            "format": FORMAT,
            "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "config": cfg.resolved,
            "config_file": str(cfg.path) if cfg.path else None,
            "data": {"path": str(data_path), "files": hashes, "tables": data.summary()["rows"].to_dict()},
            "seed": cfg.random_state,
            "packages": versions(),
            "summary": {
                "town_years": int(len(res.features)),
                "towns_typed": int(len(res.assignments)),
                "towns_left_out": int(len(res.left_out)),
                "n_types": int(res.typology.n_types_),
                "type_names": {str(k): str(v) for k, v in dict(res.typology.type_names_).items()},
                "models": {n: {"nobs": int(r.nobs)} for n, r in res.models.items()},
                "truth": truth,
            },
            "notes": list(res.notes),
            "outputs": {},
        }
        manifest["outputs"] = output_hashes(tmp)
        write_manifest(tmp, manifest)
        write_report(tmp, lang=lang)
    return dest


# ------------------------------------------------------------------------ checking
def _plain(v) -> str:
    """A value as a user reads it: numbers plainly (``0.25``, never ``np.float64(0.25)``), text
    quoted, a row label of several levels as ``(a, b)``."""
    if isinstance(v, tuple):
        return "(" + ", ".join(_plain(x) for x in v) + ")"
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        return repr(str(v))
    if v is None or v is pd.NA:
        return "missing"
    return repr(v) if isinstance(v, float) else str(v)


def _compare_frames(name: str, a: pd.DataFrame, b: pd.DataFrame, exact_cols=(), tol=TOL) -> list[str]:
    diffs = []
    if not a.index.equals(b.index):
        only_a = a.index.difference(b.index)
        only_b = b.index.difference(a.index)
        diffs.append(f"{name}: rows differ ({len(only_a)} only in the run folder, {len(only_b)} only in the reproduction)")
        common = a.index.intersection(b.index)
        a, b = a.loc[common], b.loc[common]
    if list(a.columns) != list(b.columns):
        diffs.append(f"{name}: columns differ ({sorted(set(a.columns) ^ set(b.columns))})")
    for c in [c for c in a.columns if c in b.columns]:
        x, y = a[c], b[c]
        if c in exact_cols or not (pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y)):
            xs, ys = x.astype("string").fillna(""), y.astype("string").fillna("")  # CSV writes NA as ""
            bad = (xs != ys).to_numpy()
            if bad.any():
                i = np.flatnonzero(bad)[0]
                diffs.append(f"{name}: column {c!r} differs in {int(bad.sum())} row(s), e.g. {_plain(a.index[i])}: "
                             f"{_plain(xs.iloc[i])} vs {_plain(ys.iloc[i])}")
            continue
        xv, yv = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
        both_nan = np.isnan(xv) & np.isnan(yv)
        with np.errstate(invalid="ignore"):
            bad = ~both_nan & (xv != yv) & ~(np.abs(xv - yv) <= tol)  # inf == inf is no difference
        if bad.any():
            i = np.flatnonzero(bad)[0]
            diffs.append(f"{name}: column {c!r} differs beyond {tol:g} in {int(bad.sum())} row(s), e.g. {_plain(a.index[i])}: "
                         f"{_plain(xv[i])} vs {_plain(yv[i])}")
    return diffs


def _model_file_differences(d: Path, m: dict, res: PipelineResult | None) -> list[str]:
    """The model file checked against the manifest and decoded (never run: see
    :mod:`typology.persist`); when it was written with the package versions installed now,
    its fitted state must equal the reproduction's bit for bit."""
    from ..persist import fingerprint, read_header, versions

    try:
        old = load_bundle(d, m)
    except RunFolderError as exc:
        return [f"model file: {exc}"]
    if res is None or read_header(d / BUNDLE).get("versions") != versions():
        return []
    new = {"builder": res.builder, "typology": res.typology, "models": res.models}
    return [f"model file: the fitted {k} differs from the reproduction" for k, v in new.items()
            if fingerprint(old.get(k)) != fingerprint(v)]


def manifest_config(manifest: dict, data_path: Path, where: str) -> RunConfig:
    """The configuration of a run folder, rebuilt from the resolved form its manifest records
    and pointed at ``data_path``.

    Compatibility rule: the resolved form is itself a configuration, read by
    :func:`~typology.workflow.config.parse_config` with every old key name it accepts, so a
    manifest of an earlier version reproduces; one that this version cannot read is a
    :class:`RunFolderError` saying which key and which versions.
    """
    resolved = json.loads(json.dumps(manifest.get("config")))
    if isinstance(resolved, dict):
        data = resolved.get("data") if isinstance(resolved.get("data"), dict) else {}
        resolved["data"] = {**data, "path": str(Path(data_path).resolve())}
    try:
        return parse_config(resolved, where=where)
    except ConfigError as exc:
        from ..persist import versions

        written = (manifest.get("packages") or {}).get("nordtowns", "an unknown version")
        raise RunFolderError(f"the configuration recorded in the manifest cannot be used by nordtowns "
                             f"{versions()['nordtowns']} (the run folder was written by nordtowns {written}), so the "
                             f"run cannot be reproduced with it: {exc}") from None


def reproduce_run(run, data=None, quiet: bool = False) -> list[str]:
    """Re-run a run folder from its manifest; return the differences (empty = identical).

    Compared: the input files' sha256, the feature table (1e-10), the type of every town and
    the type names (exactly), the other assignment columns (1e-10), every coefficient and
    standard error (1e-10), the event studies (estimates, intervals, bands, overall effects and
    pre-trend tests, 1e-10), and the model file (checked against the manifest and decoded;
    written with the package versions installed now, its fitted state bit for bit).
    """
    d = Path(run)
    m = load_manifest(d)
    diffs = [f"run folder: {p}" for p in verify_run(d)]
    data_path = Path(data) if data else Path(m["data"]["path"])
    firms = (m.get("config") or {}).get("data", {}).get("firms")  # a registry kept elsewhere
    firms = Path(firms) if firms else None
    now = input_hashes(data_path, firms) if data_path.is_dir() else {}
    if not data_path.is_dir():
        return [*diffs, f"input: dataset folder {data_path} not found (pass --data)"]
    for name, rec in m["data"]["files"].items():
        if name not in now:
            diffs.append(f"input: {rec['file']} is missing from {data_path}")
        elif now[name]["sha256"] != rec["sha256"]:
            diffs.append(f"input: {now[name]['file']} changed since the run (sha256 differs)")
    for name in set(now) - set(m["data"]["files"]):
        diffs.append(f"input: {now[name]['file']} is new since the run")
    # [compute] is recorded as information: the reproduction runs on the ambient backend (local
    # unless the caller set another), never on the scheduler the run used
    cfg = manifest_config(m, data_path, where=str(d / MANIFEST))
    try:
        res = run_pipeline(cfg, read_dataset(data_path, firms=firms), Progress(quiet=quiet))
    except Exception as exc:  # a reproduction that cannot run is a difference, reported as such
        return [*diffs, *_model_file_differences(d, m, None), f"reproduction failed: {type(exc).__name__}: {exc}"]
    diffs += _model_file_differences(d, m, res)
    old_f = pd.read_parquet(d / "features.parquet")
    diffs += _compare_frames("features", old_f, res.features)
    old_t = pd.read_csv(d / "types.csv", index_col=0, dtype={"town_id": str})
    old_t.index = old_t.index.astype(str)
    new_t = res.assignments.copy()
    new_t.index.name = "town_id"
    new_t = new_t.reset_index().set_index("town_id")
    new_t.index = new_t.index.astype(str)
    exact = [c for c in ("type", "type_name", "runner_up", "atypical", "ood") if c in new_t.columns]
    diffs += _compare_frames("types", old_t, new_t[old_t.columns.intersection(new_t.columns)], exact_cols=exact)
    if (d / "coefficients.csv").is_file():
        old_c = pd.read_csv(d / "coefficients.csv").set_index(["model", "term"])
        new_c = coefficients_table(res.models).set_index(["model", "term"]) if res.models else old_c.iloc[0:0]
        diffs += _compare_frames("coefficients", old_c, new_c)
    diffs += _discrete_differences(d, res)
    diffs += _event_differences(d, res)
    diffs += _spatial_differences(d, res)
    return diffs


#: the spatial tables and their keys (``typology reproduce`` compares them at 1e-10, labels exactly)
SPATIAL_KEYS = {"spatial_autocorrelation": ["variable"], "lisa": ["variable", "town_id"], "type_joins": ["type"],
                "residual_moran": ["model", "year"], "spatial_models": ["model", "term"],
                "spatial_impacts": ["model", "term"]}


def _spatial_differences(d: Path, res: PipelineResult) -> list[str]:
    """Differences of the spatial tables ([spatial]): statistics and p-values (1e-10), cluster labels exactly."""
    from .spatial import spatial_tables

    new_tabs = spatial_tables(res.spatial)
    diffs = []
    for stem, keys in SPATIAL_KEYS.items():
        f = d / f"{stem}.csv"
        if not f.is_file() and stem not in new_tabs:
            continue
        if not f.is_file() or stem not in new_tabs:
            where = ("reproduction", "run folder") if stem in new_tabs else ("run folder", "reproduction")
            diffs.append(f"{stem}: the {where[0]} has the table, the {where[1]} does not")
            continue
        text = {k: str for k in ("variable", "town_id", "type", "model", "term", "kind", "cluster", "type_name",
                                 "weights", "spatial_model", "effects")}
        old = pd.read_csv(f, dtype=text, keep_default_na=False, na_values=[""])
        new = pd.read_csv(io.StringIO(new_tabs[stem].to_csv(index=False)), dtype=text, keep_default_na=False,
                          na_values=[""])  # as written, so text columns compare alike
        exact = [c for c in ("cluster", "type_name", "weights", "spatial_model", "effects") if c in old.columns]
        diffs += _compare_frames(stem, old.set_index(keys), new.set_index(keys), exact_cols=exact)
    return diffs


def _event_differences(d: Path, res: PipelineResult) -> list[str]:
    """Differences of the event studies: estimates, standard errors, intervals and bands by event
    time, overall effects and pre-trend tests (1e-10)."""
    from .events import event_tables

    new_tabs = event_tables(res.event_studies)
    diffs = []
    for stem, keys in (("event_studies", ["study", "method", "event_time"]), ("event_overall", ["study", "method"])):
        f = d / f"{stem}.csv"
        if not f.is_file() and stem not in new_tabs:
            continue
        if not f.is_file() or stem not in new_tabs:
            diffs.append(f"{stem}: the {'reproduction' if stem in new_tabs else 'run folder'} has event studies the "
                         f"{'run folder' if stem in new_tabs else 'reproduction'} does not")
            continue
        old = pd.read_csv(f, dtype={"study": str, "method": str}, keep_default_na=False, na_values=[""])
        new = pd.read_csv(io.StringIO(new_tabs[stem].to_csv(index=False)), dtype={"study": str, "method": str},
                          keep_default_na=False, na_values=[""])  # as written, so text columns compare alike
        diffs += _compare_frames(stem, old.set_index(keys), new.set_index(keys))
    return diffs


def _discrete_differences(d: Path, res: PipelineResult) -> list[str]:
    """Differences of the discrete-choice models' coefficients and marginal effects (1e-10)."""
    from .pipeline import discrete_tables

    new_tabs = discrete_tables(res.discrete)
    diffs = []
    for stem in ("discrete_coefficients", "marginal_effects"):
        f = d / f"{stem}.csv"
        if not f.is_file() and stem not in new_tabs:
            continue
        if not f.is_file():
            diffs.append(f"{stem}: the reproduction has discrete models the run folder does not")
            continue
        keys = ["model", "outcome", "term"]
        old = pd.read_csv(f, dtype={"outcome": str, "term": str}).set_index(keys)
        new = (new_tabs[stem].astype({"outcome": str, "term": str}).set_index(keys) if stem in new_tabs
               else old.iloc[0:0])
        diffs += _compare_frames(stem, old, new)
    return diffs


def score_run(run, data, quiet: bool = False) -> pd.DataFrame:
    """Type the towns of a new dataset with a run folder's fitted reference and typology.

    Refuses a run folder whose files fail their hashes. The features of the new towns are
    computed against the fitted reference (national shares, cores, masses, network), never
    against the new towns alone.
    """
    d = Path(run)
    problems = verify_run(d)
    if problems:
        raise CheckFailed(f"{d}: run folder fails its manifest hashes, refusing to score:\n" + "\n".join(f"  - {p}" for p in problems))
    bundle = load_bundle(d, load_manifest(d))
    builder, typ, resolved = bundle["builder"], bundle["typology"], bundle["config"]
    progress = Progress(quiet=quiet, total=2)
    new = read_dataset(data)
    notes: list[str] = []
    with progress.stage("features against the fitted reference"):
        from .pipeline import capture_warnings

        F = capture_warnings(builder.transform, notes, new)
    with progress.stage("assign types"):
        ids = sample_towns(builder, new, resolved["typology"]["sample"], F)
        X, left = typology_input(F, resolved["typology"]["features"], resolved["typology"]["period"], ids)
        table = typ.assign(X) if len(X) else pd.DataFrame(columns=["type", "type_name"])
    table.index.name = "town_id"
    if len(left):
        lo = pd.DataFrame(index=left.index)
        lo["not_scored"] = left["reason"]
        table = pd.concat([table, lo])
    for n in notes:
        progress.say(f"note: {n}")
    return table


# ------------------------------------------------------------------------ demo
def run_demo(out="runs/demo", data_dir="data/northern_towns", quiet: bool = False, scheduler: str | None = None) -> Path:
    """Generate the embedded synthetic dataset (unless an identical one is there) and fit it.

    The dataset folder is written only where there is none, or over a dataset folder that the
    toolkit wrote; the run folder only over a run folder (see :func:`fit_run`). ``scheduler``:
    a dask scheduler address (or ``local:N``) for the resamplings (:func:`with_scheduler`).
    """
    data_dir = Path(data_dir)
    write_embedded_dataset(data_dir, Progress(quiet=quiet))
    return fit_run(with_scheduler(embedded_config("demo", data_dir), scheduler), out, overwrite=True, quiet=quiet)


def write_embedded_dataset(data_dir, progress: Progress) -> None:
    """Write the embedded synthetic dataset (:func:`typology.data.synth.generate` with its
    defaults) to ``data_dir`` unless an identical one is there."""
    from ..data.synth import generate

    data_dir = Path(data_dir)
    ds = generate()
    truth_file = data_dir / "truth.json"
    try:
        same = truth_file.is_file() and json.loads(truth_file.read_text(encoding="utf-8")).get("params") == ds.truth["params"]
    except (ValueError, AttributeError):  # not JSON, or not an object: not the embedded dataset
        same = False
    if not same:
        progress.say(f"writing the embedded synthetic dataset to {data_dir}")
        write_dataset(ds.data, data_dir, truth=ds.truth, extra={"truth_regressors": ds.regressors}, overwrite=True)
