"""The experiments of ``experiments/``, runnable from the CLI (``typology experiment NAME``).

* ``northern_towns``: the study's analysis on the embedded synthetic dataset, recovered types
  and effects compared with the truth;
* ``monte_carlo``: bias and coverage of the panel estimators (:mod:`typology.workflow.montecarlo`);
* ``corporate_events``: event studies of corporate entry on the embedded dataset against its
  truth, and the Monte Carlo of the event-study estimators (:mod:`typology.workflow.event_montecarlo`);
* ``russia_north_real``: real municipal data from ``shared/data`` (see :mod:`typology.data.realdata`);
* ``russia_all_real``: every Russian municipality, imported with :mod:`typology.importers`.

Each writes a run folder and prints its headline numbers; ``checks.json`` and ``checks.md``
beside the run folder hold the comparisons that are not part of a run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .config import embedded_config
from .progress import Progress
from .report import markdown_table

__all__ = ["build_russia_all", "corporate_events", "northern_towns", "russia_all_real", "russia_north_real"]


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


ALL_RUSSIA_FILE = "ru_mo_employment_okved_all/rosstat_bdpmo_employment_okved_2023_2024.csv"
SMALL_TOWN_POPULATION = 50_000  # "small town" of the Russian urban classification (SP 42.13330.2016)
SUBSET_COLUMNS = ("krugman", "hhi", "entropy", "lq_max", "coverage", "market_potential", "dist_core_km",
                  "pop_growth", "emp_growth", "wage_growth")


def build_russia_all(shared, out, overwrite: bool = False) -> tuple[Path, dict]:
    """Import the all-Russia Rosstat extract and the SberIndex tables (:mod:`typology.importers`)
    into a dataset folder, with the official flags on ``towns`` (``far_north``, ``arctic``: "true",
    "false" or "" when the municipality is absent from the labels file; ``monotown_category``,
    from ``ru_mo_official_labels``, itself matched to Government order 1398-r); the import report
    is written beside the tables as ``import_report.md``."""
    from features import TownData

    from ..data.importers.combine import REPORT, build_tables
    from ..data.io import write_dataset

    s = Path(shared)
    need = [s / ALL_RUSSIA_FILE, s / "sberindex_mo_2025", s / "ru_mo_official_labels/ru_mo_official_labels_2024.csv"]
    missing = [str(p) for p in need if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{s}: missing source file(s) or folder(s) {missing}")
    tables, rep = build_tables(rosstat_wide=need[0], sberindex=need[1])
    labels = pd.read_csv(need[2], dtype={"territory_id": str, "oktmo8": str}).set_index("territory_id")
    towns = tables["towns"].copy()
    tid = towns["territory_id"].astype(str)
    for col, src in (("far_north", "far_north_or_equated"), ("arctic", "arctic_any")):
        v = pd.to_numeric(labels[src], errors="coerce").reindex(tid).to_numpy(dtype=float)
        towns[col] = np.where(v == 1, "true", np.where(v == 0, "false", ""))
    cat = pd.to_numeric(labels["monotown_min_category"], errors="coerce").reindex(tid)
    towns["monotown_category"] = cat.map(lambda c: "" if pd.isna(c) else f"{int(c)}").to_numpy()
    tables["towns"] = towns
    data = TownData.from_tables(source="typology.importers: Rosstat BDPMO all-Russia extract + SberIndex 2025", **tables)
    emp = data.employment
    years = emp.groupby("town_id")["year"].nunique()
    summary = {"towns": int(len(data.towns)),
               "municipalities_with_employment": int(emp["town_id"].nunique()),
               "municipalities_by_year": {str(y): int(n) for y, n in emp.groupby("year")["town_id"].nunique().items()},
               "municipalities_both_years": int((years == 2).sum()),
               "section_cells": int(len(emp)), "suppressed_cells": int(emp["employment"].isna().sum()),
               "towns_without_market_access": int(towns["sberindex_market_access"].isna().sum()),
               "towns_far_north": int((towns["far_north"] == "true").sum()),
               "towns_arctic": int((towns["arctic"] == "true").sum()),
               "towns_monotown": int((towns["monotown_category"] != "").sum()),
               "import_report": rep.to_markdown()}
    path = write_dataset(data, out, overwrite=overwrite,
                         files={REPORT: rep.to_markdown() + "\n",
                                "SOURCES.json": json.dumps({k: v for k, v in summary.items() if k != "import_report"},
                                                           indent=1, ensure_ascii=False) + "\n"})
    return path, summary


def _types_vs_flag(types: pd.Series, towns: pd.DataFrame, col: str) -> tuple[dict, list[str]]:
    """Cross-tab of the types with one flag column of ``towns`` ("" = unknown, left out; for the
    monotown category "" = not a monotown), with Cramer's V, ARI and AMI."""
    from ..estimator.rules import reconcile

    lab = towns[col].reindex(types.index).astype("string")
    lab = lab.fillna("").replace({"": "none"}) if col == "monotown_category" else lab.replace({"": pd.NA})
    keep = lab.notna()
    if keep.sum() < 5 or lab[keep].nunique() < 2:
        return {"n": int(keep.sum()), "skipped": "no contrast"}, [f"## Types x {col}", "", "Not compared: no contrast.", ""]
    rec = reconcile(types[keep], lab[keep].astype(str))
    res = {"n": int(keep.sum()), "ari": float(rec.ari), "ami": float(rec.ami), "cramers_v": float(rec.cramers_v),
           "crosstab": {str(k): {str(c): int(v) for c, v in r.items()} for k, r in rec.crosstab.iterrows()}}
    return res, [f"## Types x {col}", "", f"n = {keep.sum()}, Cramer's V {rec.cramers_v:.3f}, ARI {rec.ari:.3f}, "
                 f"AMI {rec.ami:.3f}", "", markdown_table(rec.crosstab), ""]


def _northern_small_towns(feats: pd.DataFrame, towns: pd.DataFrame, types: pd.Series) -> tuple[dict, list[str]]:
    """Small towns of the North (urban okrugs of the Far North or equated areas with fewer than
    50,000 residents) against every other municipality: n, means and medians of the indices of
    the last year, two-sided Mann-Whitney p-values, and the share of each type."""
    from scipy.stats import mannwhitneyu

    t = towns.reindex(feats.index)
    small = ((t["far_north"] == "true") & (t["municipal_type"].astype(str).str.contains("городской округ"))
             & (t["population"] < SMALL_TOWN_POPULATION)).to_numpy()
    rows = []
    for c in SUBSET_COLUMNS:
        a, b = feats.loc[small, c].dropna(), feats.loc[~small, c].dropna()
        p = float(mannwhitneyu(a, b).pvalue) if len(a) >= 5 and len(b) >= 5 else np.nan
        rows.append({"index": c, "n_small_north": len(a), "mean_small_north": a.mean(), "median_small_north": a.median(),
                     "n_rest": len(b), "mean_rest": b.mean(), "median_rest": b.median(), "mann_whitney_p": p})
    tab = pd.DataFrame(rows)
    ty = types.reindex(feats.index).astype("string")
    shares = pd.DataFrame({"small_north": ty[small].value_counts(normalize=True),
                           "rest": ty[~small].value_counts(normalize=True)}).fillna(0.0)
    names = list(feats.index[small])
    out = {"n": int(small.sum()), "towns": towns.loc[names, "name"].astype(str).tolist(),
           "comparison": tab.to_dict(orient="records"),
           "type_shares": {str(k): {str(c): float(v) for c, v in r.items()} for k, r in shares.iterrows()}}
    lines = ["## Small towns of the North against the rest", "",
             f"{int(small.sum())} urban okrugs of the Far North or equated areas with fewer than "
             f"{SMALL_TOWN_POPULATION:,} residents; last year of each municipality; growth rates 2023-2024 "
             "(where both years exist).", "", markdown_table(_g4(tab), index=False), "", "Type shares:", "",
             markdown_table(_g4(shares)), ""]
    return out, lines


TWO_YEAR_PANEL = (
    "Two years (2023, 2024) identify levels and one change per municipality. They support: the "
    "cross-section of specialization, diversification and market potential in each year; one-year "
    "growth rates of employment, wages and population and a shift-share split of the employment change; "
    "year effects (the common change) in a pooled regression. They cannot identify: trends or "
    "persistence (one change is not a trend; regression to the mean and noise cannot be told apart "
    "from convergence), within-municipality effects of slow-moving variables (specialization and "
    "distance barely move in a year, so a fixed-effects estimate rests on noise), dynamic panels "
    "(a lagged dependent variable needs three or more periods), event studies with pre-trends, or "
    "type transitions beyond one year. The five regions without 2024 (Kemerovo, Novosibirsk, Ryazan, "
    "Tver, North Ossetia) and the Stavropol city okrugs have no change at all.")


def russia_all_real(shared, out="runs/russia_all_real", data_dir="data/russia_all_real", quiet: bool = False) -> dict:
    """Every Russian municipality: import the sources (:func:`build_russia_all`), fit the embedded
    ``russia_all_real`` configuration, and write the checks beside the run folder: counts, market
    potential against SberIndex's market access, the leading mining (section B) districts, the
    types against the Far North, Arctic and monotown flags, the small towns of the North against
    the rest, and what a two-year panel can and cannot identify."""
    from features.panel import employment_matrix
    from features.specialization import location_quotient

    from ..data.io import read_dataset
    from .runs import fit_run, load_manifest

    progress = Progress(quiet=quiet)
    progress.say(f"importing the all-Russia extract and the SberIndex tables from {shared} into {data_dir}")
    _, summary = build_russia_all(shared, data_dir, overwrite=True)
    run = fit_run(embedded_config("russia_all_real", data_dir), out, overwrite=True, quiet=quiet)
    data = read_dataset(data_dir)
    towns = data.towns.set_index("town_id")
    m = load_manifest(run)
    checks: dict = {"dataset": {k: v for k, v in summary.items() if k != "import_report"},
                    "towns_typed": m["summary"]["towns_typed"], "towns_left_out": m["summary"]["towns_left_out"]}
    d = checks["dataset"]
    lines = ["# russia_all_real: checks", "", "## Data", "",
             f"{d['towns']:,} municipalities with coordinates and population (the masses of market potential); "
             f"{d['municipalities_with_employment']:,} with Rosstat employment by section "
             f"({', '.join(f'{y}: {n:,}' for y, n in d['municipalities_by_year'].items())}; both years: "
             f"{d['municipalities_both_years']:,}); {d['suppressed_cells']:,} of {d['section_cells']:,} section cells "
             f"suppressed (kept as not published); {checks['towns_typed']:,} typed.", ""]

    E = employment_matrix(data.employment)
    last = E.groupby(level="town_id").tail(1)
    lq = location_quotient(last)["B"].dropna().sort_values(ascending=False).head(10)
    ids = lq.index.get_level_values("town_id")
    top = pd.DataFrame({"town_id": ids, "name": towns.loc[ids, "name"].to_numpy(),
                        "region": towns.loc[ids, "region"].to_numpy(), "year": lq.index.get_level_values("year"),
                        "lq_B": lq.to_numpy()})
    checks["top_lq_mining"] = top.to_dict(orient="records")
    lines += ["## Highest location quotients in mining (section B), against all of Russia", "",
              markdown_table(_g4(top), index=False), ""]

    ma = _market_access_check(towns)
    checks["market_access"] = ma
    lines += ["## Harris market potential against SberIndex market access", "",
              f"Spearman rank correlation over {ma['n']:,} municipalities: {ma['spearman_all']:.3f} (beta = 1); "
              f"{ma['spearman_all_beta_0.5']:.3f} (beta = 0.5), {ma['spearman_all_beta_2']:.3f} (beta = 2)."
              + (f" Far North municipalities ({ma['n_far_north']}): {ma['spearman_far_north']:.3f}." if "n_far_north" in ma else ""), ""]

    types = pd.read_csv(Path(run) / "types.csv", dtype={"town_id": str}).set_index("town_id")["type"]
    checks["n_types"] = m["summary"]["n_types"]
    checks["type_names"] = m["summary"]["type_names"]
    sel = pd.read_csv(Path(run) / "selection.csv")
    checks["selection"] = sel.to_dict(orient="records")
    lines += ["## Number of types", "", f"{checks['n_types']} types: {checks['type_names']}.", "",
              markdown_table(_g4(sel[["k", "silhouette", "gap", "gap_se", "jaccard_min", "prediction_strength",
                                      "admissible", "votes", "chosen"]]), index=False), ""]
    flags = {}
    for col in ("far_north", "arctic", "monotown_category"):
        flags[col], more = _types_vs_flag(types, towns, col)
        lines += more
    checks["types_vs_flags"] = flags

    feats = pd.read_parquet(Path(run) / "features.parquet")
    feats = feats.groupby(level="town_id").tail(1).droplevel("year")
    checks["small_towns_north"], more = _northern_small_towns(feats, towns, types)
    lines += more
    checks["models"] = pd.read_csv(Path(run) / "coefficients.csv").to_dict(orient="records")
    checks["two_year_panel"] = TWO_YEAR_PANEL
    lines += ["## What a two-year panel can and cannot identify", "", TWO_YEAR_PANEL, ""]
    _write_checks(Path(str(run) + "_checks"), checks, lines)
    return checks
