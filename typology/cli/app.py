"""The ``typology`` command-line tool.

Exit codes: 0 success, 1 bad data, bad configuration, a failed check, a refused or failed
write (one clear message naming the file, folder, column, rows and what was expected), 2 bad
usage (argparse).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from ..data.synth import DEFAULT_WORLD, WORLDS
from ..folders import OutputFolderError

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Arguments that argparse accepts but that do not make a valid call."""


def _err(msg: str) -> None:
    print(f"typology: {msg}", file=sys.stderr)


# --------------------------------------------------------------------------- commands
def cmd_validate(args) -> int:
    from ..data.io import read_dataset
    from ..workflow.progress import Progress

    progress = Progress(quiet=args.quiet)
    progress.say(f"reading {args.path}")
    data = read_dataset(args.path, progress=progress.step)
    print(f"{args.path}: valid")
    print(data.summary().to_string())
    for n in data.notes:
        print(f"note: {n}")
    return EXIT_OK


def _dataset_out(args) -> Path:
    """The dataset folder ``--out``: a non-empty folder is refused before the work (not after)
    unless ``--overwrite``, and then only if it is a dataset folder typology wrote."""
    from ..data.io import check_dataset_folder
    from ..folders import FolderExistsError

    out = Path(args.out)
    if out.is_dir() and not out.is_symlink() and any(out.iterdir()):
        if not args.overwrite:
            raise FolderExistsError(f"{out} exists and is not empty; choose another --out, or pass --overwrite to "
                                    "replace it (only a dataset folder written by typology is replaced)")
        check_dataset_folder(out)
    return out


def cmd_synth(args) -> int:
    from ..data.io import write_dataset
    from ..data.synth import check_arguments, generate
    from ..workflow.progress import Progress

    try:
        check_arguments(n_towns=args.towns, n_years=args.years, seed=args.seed, start_year=args.start_year,
                        world=args.world)
    except ValueError as exc:
        raise UsageError(f"synth: {exc}") from None
    out = _dataset_out(args)
    progress = Progress(quiet=args.quiet, total=2)
    with progress.stage(f"generate {args.towns} towns x {args.years} years"):
        ds = generate(n_towns=args.towns, n_years=args.years, seed=args.seed, start_year=args.start_year,
                      world=args.world)
    with progress.stage(f"write {out}"):
        write_dataset(ds.data, out, fmt=args.format, truth=ds.truth, extra={"truth_regressors": ds.regressors},
                      overwrite=args.overwrite, progress=progress.step)
    print(f"wrote {args.out}: {ds.data}")
    return EXIT_OK


def cmd_import(args) -> int:
    from ..data.importers import ImportDataError, import_dataset
    from ..workflow.progress import Progress

    sources = {k: getattr(args, k) for k in ("rosstat_wide", "bdmo_long", "sberindex", "spark", "kontur", "towns")}
    if not any(sources.values()):
        raise UsageError("import: give at least one source (--rosstat-wide, --bdmo-long, --sberindex, --spark, "
                         "--kontur, --towns)")
    if (args.mapping or args.sheet) and not (args.spark or args.kontur):
        raise UsageError("import: --mapping and --sheet apply to registry exports (--spark / --kontur)")
    if args.year_from is not None and args.year_to is not None and args.year_from > args.year_to:
        raise UsageError(f"import: --year-from {args.year_from} is after --year-to {args.year_to}")
    out = _dataset_out(args)
    progress = Progress(quiet=args.quiet)
    try:
        path, rep = import_dataset(out, mapping=args.mapping, sheet=args.sheet, year_from=args.year_from,
                                   year_to=args.year_to, overwrite=args.overwrite, progress=progress.say, **sources)
    except ImportDataError as exc:
        _err(str(exc))
        return EXIT_DATA
    print(f"wrote {path}: " + ", ".join(f"{k} {v:,} rows" for k, v in rep.counts.items()))
    print(f"report: {path / 'import_report.md'}")
    return EXIT_OK


def cmd_features(args) -> int:
    from features import build_features, data_dictionary

    if args.list:
        dd = data_dictionary()
        width = max(len(n) for n in dd.index)
        for group, block in dd.groupby("group", sort=False):
            print(f"[{group}]")
            for name, row in block.iterrows():
                print(f"  {name:<{width}}  {row['definition']}  ({row['source']})")
        return EXIT_OK
    if not args.dataset or not args.out:
        raise UsageError("features: give --list, or DATASET and --out FILE")
    from ..data.io import read_dataset

    params = {}
    if args.config:
        from ..workflow.config import load_config

        params = load_config(args.config, check_data=False).features.kwargs()  # the dataset is DATASET
    data = read_dataset(args.dataset)
    if args.config:
        _check_groups(params, data, args.config, args.dataset)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F = build_features(data, **params)
    for w in caught:
        print(f"note: {w.message}", file=sys.stderr)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        F.to_parquet(out)
    else:
        F.to_csv(out)
    print(f"wrote {out}: {F.shape[0]} town-years x {F.shape[1]} features")
    return EXIT_OK


def _check_groups(params: dict, data, config: str, dataset: str) -> None:
    """The [features] groups of ``config`` that ``data`` cannot support: a ConfigError before any work."""
    from ..workflow.config import ConfigError
    from ..workflow.pipeline import feature_plan

    groups = params.get("groups")
    if groups is None:
        return
    _, unsupported, _ = feature_plan(params, data)
    cannot = [g for g in groups if g in unsupported]
    if cannot:
        why = "; ".join(f"{g!r} {unsupported[g]}" for g in cannot)
        raise ConfigError(f"{config}: [features] groups: the dataset {dataset} cannot support {why}; remove "
                          f"{'them' if len(cannot) > 1 else 'it'} from groups (or add the missing data)")


def cmd_fit(args) -> int:
    from ..workflow.config import load_config
    from ..workflow.runs import fit_run, with_scheduler

    cfg = with_scheduler(load_config(args.config), args.scheduler)
    fit_run(cfg, args.out, overwrite=args.overwrite, quiet=args.quiet, lang=args.lang)
    print(f"wrote run folder {args.out}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from ..workflow.runs import run_demo

    out = run_demo(out=args.out, data_dir=args.data, quiet=args.quiet, scheduler=args.scheduler)
    print(f"demo run folder: {out} (report: {Path(out) / 'report.html'})")
    return EXIT_OK


def cmd_reproduce(args) -> int:
    from ..workflow.runs import CheckFailed, reproduce_run

    diffs = reproduce_run(args.run, data=args.data, quiet=args.quiet)
    if diffs:
        raise CheckFailed("reproduction differs from the run folder:\n" + "\n".join(f"  - {d}" for d in diffs))
    print(f"{args.run}: reproduced identically")
    return EXIT_OK


def _refuse_score_out(out: Path, run, data) -> None:
    """``score --out`` never writes into the run folder (its hashes) or over a table of the data."""
    from ..data.io import dataset_files
    from ..folders import FolderRefusedError

    o, r = out.resolve(), Path(run).resolve()
    if o == r or r in o.parents:
        raise FolderRefusedError(f"--out {out} lies in the run folder {run}: writing there would break its "
                                 "manifest hashes; choose a file outside it")
    if o in {f.resolve() for f in dataset_files(data).values()}:
        raise FolderRefusedError(f"--out {out} is a table of the dataset {data}: it is not replaced; choose another file")


def cmd_score(args) -> int:
    from ..folders import FolderExistsError, write_file_atomic
    from ..workflow.runs import score_run

    out = Path(args.out)
    _refuse_score_out(out, args.run, args.data)
    if os.path.lexists(out) and not args.overwrite:
        raise FolderExistsError(f"{out} exists; choose another --out, or pass --overwrite to replace it")
    table = score_run(args.run, args.data, quiet=args.quiet)
    write_file_atomic(out, table.to_csv, overwrite=args.overwrite, what="table of scores")
    n_ood = int(table["ood"].sum()) if "ood" in table else 0
    print(f"wrote {out}: {len(table)} towns scored, {n_ood} flagged out of distribution")
    return EXIT_OK


def cmd_report(args) -> int:
    from ..folders import folder_lock
    from ..workflow.progress import Progress
    from ..workflow.report import write_report
    from ..workflow.runs import load_manifest

    load_manifest(args.run)  # a clear message for a folder that is not a run folder, before locking
    progress = Progress(quiet=args.quiet)
    with folder_lock(args.run, note=progress.note), progress.stage(f"write the report of {args.run}"):
        paths = write_report(args.run, lang=args.lang)
    print("wrote " + ", ".join(str(p) for p in paths))
    return EXIT_OK


def cmd_init_config(args) -> int:
    from ..data.io import read_dataset
    from ..workflow.config import ConfigError, starter_config
    from ..workflow.pipeline import feature_plan

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise ConfigError(f"{out} exists; choose another file or pass --overwrite")
    data = read_dataset(args.dataset)
    groups, unsupported, _ = feature_plan({}, data)  # default [features] parameters, as the starter writes them
    outcomes = data.outcomes
    columns = [c for c in (outcomes.columns if outcomes is not None else []) if c not in ("town_id", "year")]
    has_population = "population" in columns and bool(outcomes["population"].notna().any())
    choice = [c for c in columns if c != "population" and bool(outcomes[c].notna().any())]
    positive = {c: bool((outcomes[c].dropna() > 0).all()) for c in choice}
    rel = Path(args.dataset).resolve()
    try:
        rel = rel.relative_to(out.resolve().parent)
    except ValueError:
        pass
    text = starter_config(rel.as_posix(), outcomes=choice, groups=groups, unsupported=unsupported,
                          has_population=has_population, log_outcome=positive)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    for g, why in unsupported.items():
        print(f"note: feature group {g!r} left out: {why}")
    return EXIT_OK


def _corporate_events(args) -> int:
    from ..workflow import experiments

    res = experiments.corporate_events(out=args.out or "runs/corporate_events.csv",
                                       data_dir=args.data or "data/northern_towns", reps=args.reps, jobs=args.jobs,
                                       seed=args.seed, quiet=args.quiet)
    print(f"run folder {res['run']}: event studies against truth.json")
    for name, t in res["truth"].items():
        for m, v in t["methods"].items():
            o = v["overall"]
            inside = "yes" if v["path_in_band"] else f"no ({v['n_outside_band']} of {v['n_event_times']} outside)"
            print(f"  {name} {m}: overall {o['estimate']:.4f} [{o['ci_lower']:.4f}, {o['ci_upper']:.4f}] "
                  f"(true {t['overall']:.4f}); true path inside the band: {inside}")
    if "monte_carlo" in res:
        print(experiments.monte_carlo_headlines(res["monte_carlo"]).round(4).to_string())
        print(f"wrote {res['monte_carlo_file']}")
    return EXIT_OK


def cmd_experiment(args) -> int:
    if args.scheduler is None:
        return _experiment(args)
    from models.compute import compute_backend

    from ..workflow.progress import Progress

    progress = Progress(quiet=args.quiet)
    progress.step(f"connecting to the dask scheduler {args.scheduler} ...")
    with compute_backend("dask", scheduler=args.scheduler) as active:
        progress.step(active.describe())
        return _experiment(args)


def _experiment(args) -> int:
    from ..workflow import experiments

    if args.name == "monte_carlo":
        from ..workflow.montecarlo import run_monte_carlo

        res = run_monte_carlo(n_reps=args.reps, seed=args.seed, n_jobs=args.jobs)
        print(res.to_string())
        out = Path(args.out or "runs/monte_carlo.csv")
        out.parent.mkdir(parents=True, exist_ok=True)
        res.to_csv(out)
        print(f"wrote {out}")
        return EXIT_OK
    if args.name == "corporate_events":
        return _corporate_events(args)
    if args.name == "northern_towns":
        res = experiments.northern_towns(out=args.out or "runs/northern_towns",
                                         data_dir=args.data or "data/northern_towns", quiet=args.quiet)
        t = res["truth"]
        print(f"run folder {res['run']}: {t['n_types_found']} types found ({t['n_true_types']} true), "
              f"adjusted Rand {t['adjusted_rand']:.3f}")
        for model, terms in t["coefficients"].items():
            for term, v in terms.items():
                print(f"  {model}: {term}: true {v['true']:g}, estimate {v['estimate']:.3f} "
                      f"[{v['ci_lower']:.3f}, {v['ci_upper']:.3f}]{'' if v['covered'] else '  NOT COVERED'}")
        return EXIT_OK
    shared = Path(args.shared)
    if args.name == "russia_all_real":
        return _russia_all_real(args, shared)
    if not shared.is_dir():
        raise UsageError(f"experiment russia_north_real needs the real data folder; {shared} does not exist "
                         "(give --shared PATH to shared/data)")
    res = experiments.russia_north_real(shared, out=args.out or "runs/russia_north_real",
                                        data_dir=args.data or "data/russia_north_real", quiet=args.quiet)
    ma = res["market_access"]
    print(f"market potential vs SberIndex market access: Spearman {ma['spearman_all']:.3f} over {ma['n']} municipalities")
    for col, v in res["types_vs_flags"].items():
        if "skipped" in v:
            print(f"types vs {col}: {v['skipped']}")
        else:
            print(f"types vs {col}: Cramer's V {v['cramers_v']:.3f}, ARI {v['ari']:.3f} (n = {v['n']})")
    print(f"checks written beside the run folder: {(args.out or 'runs/russia_north_real')}_checks/")
    return EXIT_OK


def _russia_all_real(args, shared: Path) -> int:
    from ..workflow import experiments

    if not shared.is_dir():
        raise UsageError(f"experiment russia_all_real needs the real data folder; {shared} does not exist "
                         "(give --shared PATH to shared/data)")
    out = args.out or "runs/russia_all_real"
    res = experiments.russia_all_real(shared, out=out, data_dir=args.data or "data/russia_all_real", quiet=args.quiet)
    d, ma = res["dataset"], res["market_access"]
    print(f"{d['municipalities_with_employment']:,} municipalities with employment, {res['towns_typed']:,} typed "
          f"into {res['n_types']} types")
    print(f"market potential vs SberIndex market access: Spearman {ma['spearman_all']:.3f} over {ma['n']:,} municipalities")
    for col, v in res["types_vs_flags"].items():
        if "skipped" not in v:
            print(f"types vs {col}: Cramer's V {v['cramers_v']:.3f}, ARI {v['ari']:.3f} (n = {v['n']})")
    print(f"checks written beside the run folder: {out}_checks/")
    return EXIT_OK


# --------------------------------------------------------------------------- parser
def _whole(lowest: int | None, why: str):
    """argparse type: a whole number, at least ``lowest`` (``why`` says why)."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if lowest is not None and v < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest} ({why}), got {v}")
        return v
    return parse


def _scheduler(text: str) -> str:
    """argparse type: a dask scheduler address or ``local:N``."""
    from models.compute import scheduler_problem

    problem = scheduler_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"expected {problem}; got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="typology", description="Indices, typologies and panel models of towns.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    s = sub.add_parser("demo", help="generate the embedded synthetic dataset, fit everything, write runs/demo/")
    s.add_argument("--out", default="runs/demo", help="run folder (default runs/demo)")
    s.add_argument("--data", default="data/northern_towns", help="where the synthetic dataset is written")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.add_argument("--scheduler", type=_scheduler, metavar="ADDRESS",
                   help="run every resampling on a dask cluster: tcp://host:port, tls://host:port, or local:N "
                        "(a LocalCluster of N workers); overrides [compute] (pip install nordtowns[dask])")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("synth", help="write a synthetic dataset with known truth (truth.json)")
    s.add_argument("--towns", type=_whole(8, "two towns of each of the four true types"), default=300,
                   help="small towns with a true type, at least 8 (default 300)")
    s.add_argument("--years", type=_whole(5, "ownership changes happen between the third and the last year"),
                   default=15, help="years, at least 5 (default 15)")
    s.add_argument("--seed", type=_whole(0, "a seed of numpy's generator"), default=0, help="seed, >= 0 (default 0)")
    s.add_argument("--start-year", type=_whole(None, ""), default=2010, help="first year (default 2010)")
    s.add_argument("--world", type=int, choices=sorted(WORLDS), default=DEFAULT_WORLD,
                   help=f"version of the generator: 1 static, 2 corporate entry and exit, 3 with a spatial wage "
                        f"spillover (default {DEFAULT_WORLD})")
    s.add_argument("--format", choices=["csv", "parquet"], default="csv",
                   help="file format of the tables (default csv)")
    s.add_argument("--out", required=True, help="dataset folder to write")
    s.add_argument("--overwrite", action="store_true", help="replace a dataset folder written by typology")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.set_defaults(func=cmd_synth)

    s = sub.add_parser("import", help="combine Rosstat, SberIndex, SPARK / Contour.Focus files into a dataset folder")
    s.add_argument("--out", required=True, help="dataset folder to write (with import_report.md)")
    s.add_argument("--rosstat-wide", metavar="FILE", help="tochno.st wide extract of БД ПМО (oktmo, oktmo_stable, "
                   "year, emp_A .., wage_total)")
    s.add_argument("--bdmo-long", metavar="FILE", help="БД ПМО long format (indicator, territory, year, period, "
                   "OKVED, value), .csv/.parquet/.xlsx")
    s.add_argument("--sberindex", metavar="DIR", help="SberIndex folder: dictionary, market access, population")
    s.add_argument("--spark", metavar="FILE", help="SPARK export (.xlsx or .csv) -> firms and groups")
    s.add_argument("--kontur", metavar="FILE", help="Contour.Focus export (.xlsx or .csv) -> firms and groups")
    s.add_argument("--towns", metavar="FILE", help="towns file (town_id, name, region, lat, lon), .csv or .xlsx")
    s.add_argument("--mapping", metavar="FILE.toml", help="column mapping for registry exports with other headers")
    s.add_argument("--sheet", metavar="NAME", help="sheet of the registry workbook (default the first)")
    s.add_argument("--year-from", type=_whole(None, ""), metavar="Y", help="first year kept")
    s.add_argument("--year-to", type=_whole(None, ""), metavar="Y", help="last year kept")
    s.add_argument("--overwrite", action="store_true", help="replace a dataset folder written by typology")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("validate", help="check a dataset folder against the data contract")
    s.add_argument("path", help="dataset folder")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("features", help="print the data dictionary, or compute the feature table of a dataset")
    s.add_argument("dataset", nargs="?", help="dataset folder")
    s.add_argument("--list", action="store_true", help="print every feature with its definition and source")
    s.add_argument("--out", help="feature table to write (.parquet or .csv)")
    s.add_argument("--config", help="take [features] options from this config")
    s.set_defaults(func=cmd_features)

    s = sub.add_parser("fit", help="run features -> typology -> models from a config, write a run folder")
    s.add_argument("config", help="TOML configuration")
    s.add_argument("--out", required=True, help="run folder to create")
    s.add_argument("--overwrite", action="store_true", help="replace a run folder written by typology fit")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.add_argument("--lang", choices=["en", "ru"], help="language of the report (default: [report] lang, else en)")
    s.add_argument("--scheduler", type=_scheduler, metavar="ADDRESS",
                   help="run every resampling on a dask cluster: tcp://host:port, tls://host:port, or local:N "
                        "(a LocalCluster of N workers); overrides [compute] (pip install nordtowns[dask])")
    s.set_defaults(func=cmd_fit)

    s = sub.add_parser("reproduce", help="re-run a run folder from its manifest and compare")
    s.add_argument("run", help="run folder")
    s.add_argument("--data", help="dataset folder, if it moved since the run")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=cmd_reproduce)

    s = sub.add_parser("score", help="type new towns with a fitted run folder")
    s.add_argument("run", help="run folder")
    s.add_argument("--data", required=True, help="dataset folder of the towns to score")
    s.add_argument("--out", required=True, help="CSV file to write")
    s.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("report", help="(re)write report.html and report.md of a run folder")
    s.add_argument("run", help="run folder")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.add_argument("--lang", choices=["en", "ru"], help="language of the report (default: [report] lang, else en)")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("init-config", help="write a commented starter configuration for a dataset")
    s.add_argument("dataset", help="dataset folder")
    s.add_argument("--out", default="config.toml", help="file to write (default config.toml)")
    s.add_argument("--overwrite", action="store_true")
    s.set_defaults(func=cmd_init_config)

    s = sub.add_parser("experiment", help="run one of the experiments of experiments/")
    s.add_argument("name", choices=["northern_towns", "monte_carlo", "corporate_events", "russia_north_real",
                                         "russia_all_real"])
    s.add_argument("--out", help="run folder (or CSV for monte_carlo and corporate_events, whose run folder is the "
                   "CSV's path without its suffix); default under runs/")
    s.add_argument("--data", help="where the experiment's dataset is written; default under data/")
    s.add_argument("--shared", default="../shared/data", help="real data folder (russia_north_real, russia_all_real)")
    s.add_argument("--reps", type=int, default=1000, help="Monte Carlo replications (default 1000)")
    s.add_argument("--seed", type=int, default=0, help="Monte Carlo seed")
    s.add_argument("--jobs", type=int, default=1, help="parallel jobs (results do not depend on it)")
    s.add_argument("--quiet", action="store_true")
    s.add_argument("--scheduler", type=_scheduler, metavar="ADDRESS",
                   help="run every resampling on a dask cluster: tcp://host:port, tls://host:port, or local:N "
                        "(a LocalCluster of N workers); overrides [compute] (pip install nordtowns[dask])")
    s.set_defaults(func=cmd_experiment)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # the workflow (scikit-learn, statsmodels, matplotlib) loads after the arguments are parsed
    from features import FeatureValueError
    from features.validation import DataValidationError

    from ..workflow.config import ConfigError
    from ..workflow.runs import RunFolderError

    try:
        return args.func(args)
    except (DataValidationError, FeatureValueError) as exc:
        _err(str(exc))
        return EXIT_DATA
    except (ConfigError, RunFolderError, OutputFolderError, FileExistsError) as exc:
        _err(str(exc))
        return EXIT_DATA
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        _err(str(exc))
        return EXIT_USAGE
    except OSError as exc:  # the file system refused (no such file, no permission, disk full): one line
        if exc.errno is None:
            raise
        _err(_os_message(exc))
        return EXIT_DATA
    except Exception as exc:  # a dask scheduler that cannot be reached, a worker lost: one message
        if not _compute_error(exc):
            raise
        _err(str(exc))
        return EXIT_DATA


def _compute_error(exc: Exception) -> bool:
    """``exc`` is a :class:`models.ComputeBackendError` (looked up only if models.compute was
    imported, so that the CLI starts without importing the models)."""
    mod = sys.modules.get("models.compute")
    return mod is not None and isinstance(exc, mod.ComputeBackendError)


def _os_message(exc: OSError) -> str:
    names = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f)
    msg = exc.strerror or str(exc)
    return f"{names}: {msg}" if names else msg


if __name__ == "__main__":
    raise SystemExit(main())
