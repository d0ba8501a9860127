"""The experiments of ``experiments/``, runnable from the CLI (``typology experiment NAME``).

* ``northern_towns``: the study's analysis on the embedded synthetic dataset, recovered types
  and effects compared with the truth;
* ``monte_carlo``: bias and coverage of the panel estimators (:mod:`typology.workflow.montecarlo`);
* ``corporate_events``: event studies of corporate entry on the embedded dataset against its
  truth, and the Monte Carlo of the event-study estimators (:mod:`typology.workflow.event_montecarlo`);
* ``russia_north_real``: real municipal data from ``shared/data`` (see :mod:`typology.data.realdata`).

Each writes a run folder and prints its headline numbers; ``checks.json`` and ``checks.md``
beside the run folder hold the comparisons that are not part of a run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .config import embedded_config
from .progress import Progress
from .report import markdown_table

__all__ = ["corporate_events", "northern_towns", "russia_north_real"]


def _write_checks(path: Path, checks: dict, lines: list[str]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "checks.json").write_text(json.dumps(checks, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    (path / "checks.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def northern_towns(out="runs/northern_towns", data_dir="data/northern_towns", quiet: bool = False) -> dict:
    """Synthetic dataset -> fit -> recovered types and effects against ``truth.json``."""
    from .runs import load_manifest, run_demo

    run = run_demo(out=out, data_dir=data_dir, quiet=quiet)
    truth = load_manifest(run)["summary"]["truth"]
    return {"run": str(run), "truth": truth}


def _market_access_check(towns: pd.DataFrame) -> dict:
    """Harris market potential of every municipality (population / great-circle km) against
    SberIndex's road-based market-access index: Spearman rank correlations."""
    from scipy.stats import spearmanr

    from features.connectivity import market_potential_from_coords

    t = towns.dropna(subset=["population"])
    mp = market_potential_from_coords(t["population"], t["lat"], t["lon"], beta=1.0, min_distance_km=1.0)["market_potential"]
    ma = pd.to_numeric(t["sberindex_market_access"], errors="coerce")
    ok = ma.notna()
    rho_all = spearmanr(mp[ok], ma[ok]).statistic
    out = {"n": int(ok.sum()), "spearman_all": float(rho_all)}
    far = t["far_north"].astype(str) == "true"
    sel = ok & far
    if sel.sum() > 10:
        out["n_far_north"] = int(sel.sum())
        out["spearman_far_north"] = float(spearmanr(mp[sel], ma[sel]).statistic)
    for beta in (0.5, 2.0):
        alt = market_potential_from_coords(t["population"], t["lat"], t["lon"], beta=beta, min_distance_km=1.0)["market_potential"]
        out[f"spearman_all_beta_{beta:g}"] = float(spearmanr(alt[ok], ma[ok]).statistic)
    return out


def russia_north_real(shared, out="runs/russia_north_real", data_dir="data/russia_north_real",
                      quiet: bool = False) -> dict:
    """Real data: build the dataset from ``shared``, fit the embedded configuration, compare
    market potential with SberIndex's market access and the types with the official flags."""
    from features.specialization import location_quotient

    from ..data.io import read_dataset
    from ..data.realdata import build_russia_north
    from ..estimator.rules import reconcile
    from .runs import fit_run, load_manifest

    progress = Progress(quiet=quiet)
    progress.say(f"building the dataset from {shared} into {data_dir}")
    _, summary = build_russia_north(shared, data_dir, overwrite=True)
    run = fit_run(embedded_config("russia_north_real", data_dir), out, overwrite=True, quiet=quiet)
    data = read_dataset(data_dir)
    towns = data.towns.set_index("town_id")
    checks: dict = {"dataset": summary}
    lines = ["# russia_north_real: checks", ""]

    # 1. specialization in mining (section B) of the northern municipalities
    from features.panel import employment_matrix

    E = employment_matrix(data.employment)
    last = E.groupby(level="town_id").tail(1)
    lq = location_quotient(last)
    top = lq["B"].dropna().sort_values(ascending=False).head(10)
    top_tab = pd.DataFrame({"name": towns.loc[top.index.get_level_values("town_id"), "name"].to_numpy(),
                            "year": top.index.get_level_values("year"), "lq_B": top.to_numpy()})
    checks["top_lq_mining"] = top_tab.to_dict(orient="records")
    lines += ["## Highest location quotients in mining (section B)", "", markdown_table(top_tab, index=False), ""]

    # 2. market potential against SberIndex market access
    ma = _market_access_check(towns)
    checks["market_access"] = ma
    lines += ["## Harris market potential against SberIndex market access", "",
              f"Spearman rank correlation over {ma['n']} municipalities: {ma['spearman_all']:.3f} (beta = 1); "
              f"{ma['spearman_all_beta_0.5']:.3f} (beta = 0.5), {ma['spearman_all_beta_2']:.3f} (beta = 2)."
              + (f" Far North municipalities ({ma['n_far_north']}): {ma['spearman_far_north']:.3f}." if "n_far_north" in ma else ""), ""]

    # 3. the types against the official flags
    m = load_manifest(run)
    types = pd.read_csv(Path(run) / "types.csv", index_col=0, dtype={"town_id": str})["type"]
    types.index = types.index.astype(str)
    flags = {}
    for col in ("far_north", "arctic", "monotown_category"):
        lab = towns[col].reindex(types.index)
        if col == "monotown_category":
            lab = lab.astype("string").fillna("none").replace({"": "none", "nan": "none"})
        else:
            lab = lab.astype("string").replace({"": pd.NA})
        keep = lab.notna()
        if keep.sum() < 5 or lab[keep].nunique() < 2:
            values = sorted(lab[keep].astype(str).unique())
            flags[col] = {"n": int(keep.sum()), "skipped": f"no contrast: every typed municipality has {values}"}
            lines += [f"## Types x {col}", "", f"Not compared: every typed municipality with a known flag has {values}.", ""]
            continue
        rec = reconcile(types[keep], lab[keep].astype(str))
        flags[col] = {"n": int(keep.sum()), "ari": float(rec.ari), "ami": float(rec.ami), "cramers_v": float(rec.cramers_v),
                      "crosstab": {str(k): {str(c): int(v) for c, v in r.items()} for k, r in rec.crosstab.iterrows()}}
        lines += [f"## Types x {col}", "", f"n = {keep.sum()}, Cramer's V {rec.cramers_v:.3f}, ARI {rec.ari:.3f}, AMI {rec.ami:.3f}",
                  "", markdown_table(rec.crosstab), ""]
    checks["types_vs_flags"] = flags
    checks["n_types"] = m["summary"]["n_types"]
    checks["type_names"] = m["summary"]["type_names"]
    checks["models"] = pd.read_csv(Path(run) / "coefficients.csv").to_dict(orient="records")
    spatial, more = _spatial_checks(Path(run))
    checks["spatial"] = spatial
    lines += more
    _write_checks(Path(str(run) + "_checks"), checks, lines)
    return checks


def _g4(frame: pd.DataFrame) -> pd.DataFrame:
    """Float columns as text with 4 significant digits (a tiny p-value stays visible, not 0.0)."""
    return frame.apply(lambda c: c.map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
                       if pd.api.types.is_float_dtype(c) else c)


def _spatial_checks(run: Path) -> tuple[dict, list[str]]:
    """Moran's I, Geary's C and LISA counts of the indices and Moran's I of the wage model's
    residuals (by year), read from the run folder's spatial tables ([spatial] of the config)."""
    f = run / "spatial_autocorrelation.csv"
    if not f.is_file():
        return {}, []
    auto = pd.read_csv(f, dtype={"variable": str})
    lisa = pd.read_csv(run / "lisa.csv", dtype={"town_id": str, "variable": str})
    counts = lisa.groupby(["variable", "cluster"]).size().unstack(fill_value=0)
    out = {"autocorrelation": auto.to_dict(orient="records"),
           "lisa_counts": {str(v): {str(c): int(n) for c, n in r.items()} for v, r in counts.iterrows()}}
    cols = ["variable", "n", "I", "expected", "z", "p_norm", "p_sim", "C", "C_p_sim"]
    lines = ["## Spatial autocorrelation of the indices (6 nearest neighbours, last year)", "",
             markdown_table(_g4(auto[cols]), index=False), "", "LISA clusters (BH q <= 0.05):", "",
             markdown_table(counts), ""]
    r = run / "residual_moran.csv"
    if r.is_file():
        res = pd.read_csv(r, dtype={"model": str})
        out["residual_moran"] = res.to_dict(orient="records")
        lines += ["## Moran's I of the wage model's residuals, by year", "",
                  markdown_table(_g4(res), index=False), ""]
    j = run / "type_joins.csv"
    if j.is_file():
        jt = pd.read_csv(j, dtype={"type": str, "type_name": str})
        out["type_joins"] = jt.to_dict(orient="records")
        lines += ["## Join counts of the types", "", markdown_table(_g4(jt), index=False), ""]
    return out, lines


def corporate_events(out="runs/corporate_events.csv", data_dir="data/northern_towns", reps: int = 200, jobs: int = 1,
                     seed: int = 0, n_boot: int = 499, towns=(300, 1200), quiet: bool = False) -> dict:
    """Event studies of corporate entry: (a) the run folder ``out`` without its suffix, fitted by
    the embedded ``corporate_events`` configuration on the embedded dataset (every estimator
    against ``truth.json`` ``events``); (b) the Monte Carlo of
    :func:`typology.workflow.event_montecarlo.run_event_monte_carlo` with ``reps`` replications
    on worlds of each size in ``towns``, written to the CSV ``out`` (index: ``n_towns``,
    ``method``, ``target``). ``reps = 0`` skips (b)."""
    from .event_montecarlo import run_event_monte_carlo
    from .runs import fit_run, load_manifest, write_embedded_dataset

    out = Path(out)
    progress = Progress(quiet=quiet)
    write_embedded_dataset(data_dir, progress)
    run = fit_run(embedded_config("corporate_events", data_dir), out.with_suffix(""), overwrite=True, quiet=quiet)
    truth = load_manifest(run)["summary"]["truth"]
    result = {"run": str(run), "truth": truth.get("event_studies", {}), "stagnation": truth["coefficients"].get("stagnation")}
    if reps > 0:
        tables = []
        for n in towns:
            progress.say(f"Monte Carlo: {reps} replications on a world of {n} towns")
            tables.append(run_event_monte_carlo(n_reps=reps, seed=seed, n_jobs=jobs, n_boot=n_boot, n_towns=n,
                                                progress=progress.say))
        mc = pd.concat(tables, keys=list(towns), names=["n_towns"])
        out.parent.mkdir(parents=True, exist_ok=True)
        mc.to_csv(out)
        result["monte_carlo"] = mc
        result["monte_carlo_file"] = str(out)
        result["designs"] = {n: t.attrs for n, t in zip(towns, tables, strict=True)}
    return result


def monte_carlo_headlines(mc: pd.DataFrame) -> pd.DataFrame:
    """Per world size and method: bias, RMSE and coverage of the overall ATT, the mean absolute
    bias and the mean coverage of the event times, and the coverage of the whole path by the band."""
    rows = []
    for (n, m), g in mc.groupby(level=["n_towns", "method"], sort=False):
        g = g.droplevel(["n_towns", "method"])
        times = g.loc[[t for t in g.index if t not in ("overall", "path")]]
        rows.append({"n_towns": n, "method": m, "overall_bias": g.loc["overall", "bias"],
                     "overall_rmse": g.loc["overall", "rmse"], "overall_coverage": g.loc["overall", "coverage"],
                     "event_time_mean_abs_bias": times["bias"].abs().mean(),
                     "event_time_mean_rmse": times["rmse"].mean(),
                     "event_time_coverage_min": times["coverage"].min(),
                     "event_time_coverage_mean": times["coverage"].mean(),
                     "band_coverage_path": g.loc["path", "coverage"]})
    return pd.DataFrame(rows).set_index(["n_towns", "method"])
