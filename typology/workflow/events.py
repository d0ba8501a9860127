"""The run's ``[[event_studies]]``: the panel of each study, its fits, and the tables a run folder keeps.

Each study is one outcome and one cohort (each town's first treated year) estimated by several
methods of :func:`models.event_study` side by side, on the model frame of the run (features
joined with the outcomes, every municipality with feature rows, indexed by (town_id, year)).

The cohort is a column of the outcomes table, or derived from the firm registry by
:func:`features.corporate_events` (the rule of the study's ``cohort`` table, with the feature
builder's inference of vertical integration) and joined by :func:`features.join_cohort` (towns
never in the registry, and for an entry towns treated from their first registry year, are
dropped: their cohort is unknown). A cohort after the panel's last year is no treatment inside
the panel (the town is a control, 0); towns treated before the panel's first year are dropped.
A treatment that switches off (``exit``: the exit year of an entry, the re-entry of an exit)
is censored (the town's years from then on are dropped, ``on_exit = "censor"``) or refused.

Tables (:func:`event_tables`): ``event_studies.csv`` (one row per study, method and event
time), ``event_overall.csv`` (overall ATT, pre-trend test, notes per study and method),
``event_bacon.csv`` (Goodman-Bacon decomposition, studies with ``twfe``), ``event_cohorts.csv``
(the events derived from the registry, for inspection).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import ConfigError, EventStudyConfig, RunConfig

__all__ = ["FORBIDDEN", "EventStudyFit", "bacon_summary", "check_event_studies", "cohort_label", "compare_table",
           "event_tables", "fit_event_studies", "fit_study", "truth_comparison"]

FORBIDDEN = ("later vs earlier treated", "later vs always treated")  # Goodman-Bacon's already-treated controls


@dataclass(frozen=True)
class EventStudyFit:
    """One study fitted: the results by method, the Bacon decomposition (with ``twfe``), the
    events derived from the registry (a rule cohort) and the notes."""

    config: EventStudyConfig
    results: dict
    bacon: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    notes: tuple = field(default_factory=tuple)


def cohort_label(study: EventStudyConfig) -> str:
    """The cohort as the tables show it: the column, or the rule (``share >= 0.4, 2 years, entry``)."""
    r = study.rule
    if r is None:
        return str(study.cohort)
    what = f"share >= {r['threshold']:g}" if r["rule"] == "share" else "anchor firm's owner"
    return f"registry {r['event']}: {what}, {r['min_years']} year(s), missing {r['missing']}"


def _columns_read(study: EventStudyConfig) -> list[tuple[str, str]]:
    """(key, column) pairs of the model frame that the study reads."""
    out = [("outcome", study.log_outcome[0])]
    out += [("covariates", c) for c in study.covariates]
    if study.cluster != "town_id":
        out.append(("cluster", study.cluster))
    return out


def check_event_studies(cfg: RunConfig, data, columns) -> None:
    """Before any computation: the columns every study reads are in the model frame (``columns``),
    a cohort column is in the outcomes table, a registry rule has a registry by year."""
    known = {*columns, "town_id", "year"}
    outcomes = [] if data.outcomes is None else [c for c in data.outcomes.columns if c not in ("town_id", "year")]
    for s in cfg.event_studies:
        at = f"{cfg.where}: [[event_studies]] {s.name!r}"
        for key, col in _columns_read(s):
            if col not in known:
                raise ConfigError(f"{at} {key}: {col!r} is neither a feature nor a column of the dataset; outcome "
                                  f"columns: {outcomes}")
        if s.rule is None:
            if s.cohort not in outcomes:
                raise ConfigError(f"{at} cohort: {s.cohort!r} is not a column of the outcomes table (each town's "
                                  f"first treated year, 0 never); outcome columns: {outcomes}; or derive it from "
                                  'the firm registry with cohort = {rule = "anchor"}')
            if s.exit is not None and s.exit != "exit_year" and s.exit not in outcomes:
                raise ConfigError(f"{at} exit: {s.exit!r} is not a column of the outcomes table; outcome columns: "
                                  f"{outcomes}")
            continue
        firms = data.firms
        if data.registry is not None:
            raise ConfigError(f"{at} cohort: rule = {s.rule['rule']!r} follows single firms between years, and the "
                              f"firm registry of {cfg.data_path} is read out of core as town-year aggregates; give "
                              "the cohort as an outcomes column or the registry as a firms table")
        if firms is None or data.groups is None:
            raise ConfigError(f"{at} cohort: rule = {s.rule['rule']!r} derives the cohort from the firm registry, "
                              f"and the dataset {cfg.data_path} has no firms or no groups table")
        if "year" not in firms.columns:
            raise ConfigError(f"{at} cohort: rule = {s.rule['rule']!r} dates events between years, and the firm "
                              f"registry (firms table of {cfg.data_path}) has no column 'year'")


def _capture(fn, notes: list[str], *args, **kwargs):
    """``fn(*args, **kwargs)`` with its warnings appended to ``notes`` (once each)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    for w in caught:
        if not issubclass(w.category, DeprecationWarning | FutureWarning) and str(w.message) not in notes:
            notes.append(str(w.message))
    return out


def _outcome(frame: pd.DataFrame, study: EventStudyConfig, notes: list[str]) -> pd.Series:
    col, logged = study.log_outcome
    y = pd.to_numeric(frame[col], errors="coerce").astype(float)
    if logged:
        bad = int((y <= 0).sum())
        if bad:
            notes.append(f"log({col}): {bad} town-year(s) with {col} <= 0 have no logarithm and are left out")
        y = np.log(y.where(y > 0))
    return y


def _cohort_panel(study: EventStudyConfig, frame: pd.DataFrame, data, feature_params: dict, notes: list[str]):
    """``(panel, cohort column, switch-off column or None, events or None)``."""
    from features import corporate_events, join_cohort

    cols = sorted({c for _, c in _columns_read(study)})
    if study.rule is None:
        keep = [c for c in (study.cohort, study.exit) if c is not None and c in frame.columns]
        panel = frame[list(dict.fromkeys([*cols, *keep]))]
        return panel, study.cohort, study.exit if study.exit in frame.columns else None, None
    r = study.rule
    events = corporate_events(data, rule=r["rule"], threshold=r.get("threshold"), min_years=r["min_years"],
                              missing=r["missing"], denominator=r["denominator"],
                              vi_min_towns=feature_params.get("vi_min_towns", 2),
                              vi_min_sections=feature_params.get("vi_min_sections", 2))
    panel = join_cohort(frame[cols], events, event=r["event"], prefix="registry_")
    towns = frame.index.get_level_values("town_id").unique()
    lost = len(towns) - panel.index.get_level_values("town_id").nunique()
    if lost:
        why = ("never in the registry or treated from their first registry year (entry year unknown)"
               if r["event"] == "entry" else "never in the registry")
        notes.append(f"{lost} town(s) of the panel left out: {why} (event_cohorts.csv)")
    off = "registry_exit_year" if r["event"] == "entry" else "registry_reentry_year"
    return panel, f"registry_{r['event']}_year", off, events


def _trim(panel: pd.DataFrame, cohort: str, off: str | None, on_exit: str, notes: list[str]):
    """Cohorts outside the panel's years, and treatments that switch off; the exit column to pass."""
    years = panel.index.get_level_values("year").to_numpy()
    first, last = int(years.min()), int(years.max())
    g = pd.to_numeric(panel[cohort], errors="coerce").fillna(0).to_numpy()
    late = g > last
    if late.any():
        n = panel.index.get_level_values("town_id")[late].nunique()
        notes.append(f"{n} town(s) treated after the panel's last year {last} are untreated inside the panel "
                     "(controls)")
        panel = panel.assign(**{cohort: np.where(late, 0, g)})
        g = np.where(late, 0, g)
    early = (g > 0) & (g < first)
    if early.any():
        n = panel.index.get_level_values("town_id")[early].nunique()
        notes.append(f"{n} town(s) treated before the panel's first year {first} left out (no untreated year)")
        panel = panel.loc[~early]
    if off is None or off not in panel.columns:
        return panel, None
    if on_exit == "refuse":
        return panel, off
    x = pd.to_numeric(panel[off], errors="coerce").fillna(0).to_numpy()
    yrs = panel.index.get_level_values("year").to_numpy()
    cut = (x > 0) & (yrs >= x)
    if cut.any():
        n = panel.index.get_level_values("town_id")[cut].nunique()
        notes.append(f"{off}: the years from each town's switch-off on are censored ({int(cut.sum())} town-years "
                     f"of {n} town(s)), so the treatment is absorbing in the panel")
        panel = panel.loc[~cut]
    return panel, None


def _bacon(panel, outcome, cohort, notes):
    """The decomposition on the towns observed in every year of the panel (it needs a balanced
    panel; when towns are left out, it decomposes the two-way DiD of the others, said in the notes)."""
    from models import bacon_decomposition
    from models.event import EventDataError

    towns = panel.index.get_level_values("town_id")
    n_years = panel.index.get_level_values("year").nunique()
    counts = pd.Series(1, index=towns).groupby(level=0).size()
    full = counts.index[counts.to_numpy() == n_years]
    if len(full) < len(counts):
        notes.append(f"Goodman-Bacon decomposition on the {len(full)} towns observed in all {n_years} years "
                     f"({len(counts) - len(full)} left out): it decomposes their two-way DiD")
        panel = panel.loc[towns.isin(full)]
    try:
        return bacon_decomposition(panel, outcome, cohort, exit=None)
    except (EventDataError, ValueError) as exc:
        notes.append(f"Goodman-Bacon decomposition not computed: {exc}")
        return None


def fit_study(study: EventStudyConfig, frame: pd.DataFrame, data, feature_params: dict, where: str) -> EventStudyFit:
    """Every method of one study on its panel (the same seed for each method's bootstrap)."""
    from models import event_study
    from models.event import EventDataError

    notes: list[str] = []
    panel, cohort, off, events = _cohort_panel(study, frame, data, feature_params, notes)
    y = _outcome(panel, study, notes)
    panel = panel.assign(**{study.outcome: y})
    missing = panel[study.outcome].isna().to_numpy()
    if missing.any():
        notes.append(f"{int(missing.sum())} town-year(s) without {study.outcome} left out")
        panel = panel.loc[~missing]
    panel, exit_col = _trim(panel, cohort, off, study.on_exit, notes)
    results = {}
    for method in study.methods:
        kw = {"covariates": list(study.covariates)} if method == "callaway_santanna" else {}
        if study.covariates and method != "callaway_santanna":
            notes.append(f"{method}: covariates {list(study.covariates)} are used by callaway_santanna only")
        try:
            results[method] = _capture(event_study, notes, panel, study.outcome, cohort, method=method,
                                       control=study.control, cluster=study.cluster, n_boot=study.n_boot,
                                       random_state=study.random_state, leads=study.leads, lags=study.lags,
                                       exit=exit_col, **kw)
        except (EventDataError, ValueError, KeyError, np.linalg.LinAlgError) as exc:
            raise ConfigError(f"{where}: [[event_studies]] {study.name!r} method {method!r}: {exc}") from None
    bacon = _bacon(panel, study.outcome, cohort, notes) if "twfe" in study.methods else None
    return EventStudyFit(study, results, bacon, events, tuple(notes))


def fit_event_studies(cfg: RunConfig, frame: pd.DataFrame, data, notes: list[str], progress) -> dict:
    """Every ``[[event_studies]]`` table fitted on the model frame: name -> :class:`EventStudyFit`."""
    out = {}
    for s in cfg.event_studies:
        with progress.stage(f"event study {s.name}"):
            out[s.name] = fit_study(s, frame, data, cfg.features.params, cfg.where)
        notes.extend(f"event study {s.name!r}: {n}" for n in out[s.name].notes)
    return out


def bacon_summary(b: pd.DataFrame) -> pd.DataFrame:
    """Weight and weighted-average 2x2 estimate by type of comparison."""
    g = b.assign(we=b["weight"] * b["estimate"]).groupby("type", sort=False)[["weight", "we"]].sum()
    g["estimate"] = g["we"] / g["weight"].where(g["weight"] > 0)
    return g[["weight", "estimate"]]


def event_tables(fits: dict) -> dict[str, pd.DataFrame]:
    """The run folder's tables of the event studies, by file stem (empty without studies)."""
    if not fits:
        return {}
    dyn, overall, bacon, events = [], [], [], []
    for name, fit in fits.items():
        s = fit.config
        for method, r in fit.results.items():
            d = r.dynamic.reset_index()
            d.insert(0, "method", method)
            d.insert(0, "study", name)
            dyn.append(d)
            o, p = r.overall, r.pretrend
            overall.append({"study": name, "method": method, "outcome": s.outcome, "cohort": cohort_label(s),
                            "control": r.control, "n_towns": int(r.n_towns), "n_clusters": int(r.n_clusters),
                            "n_boot": int(r.n_boot), "estimate": o["estimate"], "std_error": o["std_error"],
                            "ci_lower": o["ci_lower"], "ci_upper": o["ci_upper"], "pvalue": o["pvalue"],
                            "pretrend_statistic": p["statistic"], "pretrend_df": int(p["df"]),
                            "pretrend_pvalue": p["pvalue"], "band_critical_value": r.crit_value,
                            "notes": " | ".join(map(str, r.notes))})
        if fit.bacon is not None:
            b = fit.bacon.copy()
            b.insert(0, "study", name)
            b["treated"] = b["treated"].astype(str)
            bacon.append(b)
        if fit.events is not None:
            e = fit.events.copy()
            e.insert(0, "study", name)
            events.append(e)
    out = {"event_studies": pd.concat(dyn, ignore_index=True), "event_overall": pd.DataFrame(overall)}
    if bacon:
        out["event_bacon"] = pd.concat(bacon, ignore_index=True)
    if events:
        out["event_cohorts"] = pd.concat(events, ignore_index=True)
    return out


def _cell(est: float, se: float) -> str:
    if not np.isfinite(est):
        return ""
    return f"{est:.4f}" + (f" ({se:.4f})" if np.isfinite(se) and se > 0 else " (ref.)" if est == 0 else "")


def compare_table(dynamic: pd.DataFrame, overall: pd.DataFrame) -> pd.DataFrame:
    """Rows event times, ``overall``, ``pre-trend p``, ``towns``; columns the methods; cells
    ``estimate (std_error)`` (a reference period: ``0 (ref.)``), from the rows of one study of
    ``event_studies.csv`` and ``event_overall.csv``."""
    methods = list(dict.fromkeys(overall["method"]))
    d = dynamic.assign(cell=[_cell(e, s) for e, s in zip(dynamic["estimate"], dynamic["std_error"], strict=True)])
    t = d.pivot(index="event_time", columns="method", values="cell").reindex(columns=methods).fillna("")
    t.index = [str(int(i)) for i in t.index]
    o = overall.set_index("method")
    extra = pd.DataFrame({m: [_cell(o.loc[m, "estimate"], o.loc[m, "std_error"]),
                              "" if not np.isfinite(o.loc[m, "pretrend_pvalue"]) else f"{o.loc[m, 'pretrend_pvalue']:.3f}",
                              str(int(o.loc[m, "n_towns"]))] for m in methods},
                         index=["overall", "pre-trend p", "towns"])
    out = pd.concat([t, extra])
    out.index.name = "event time"
    return out


TRUTH_OUTCOMES = {"avg_wage": "log_wage", "employment": "log_employment", "population": "log_population"}


def _method_truth(r, path: pd.Series, overall: float | None) -> dict:
    """One method's estimates against the true path (event times where both exist) and the overall ATT."""
    d = r.dynamic[np.isfinite(r.dynamic["std_error"])]  # the reference period has no interval
    common = d.index[d.index.isin(path.index)]
    d, t = d.loc[common], path.loc[common].to_numpy()
    in_band = (d["band_lower"].to_numpy() <= t) & (t <= d["band_upper"].to_numpy())
    in_ci = (d["ci_lower"].to_numpy() <= t) & (t <= d["ci_upper"].to_numpy())
    o = r.overall
    return {
        "overall": {"true": overall, "estimate": float(o["estimate"]), "ci_lower": float(o["ci_lower"]),
                    "ci_upper": float(o["ci_upper"]),
                    "covered": None if overall is None else bool(o["ci_lower"] <= overall <= o["ci_upper"])},
        "path_in_band": bool(in_band.all()) if len(common) else None,
        "n_event_times": int(len(common)), "n_outside_band": int((~in_band).sum()),
        "n_outside_ci": int((~in_ci).sum()),
        "event_times": {str(int(e)): {"true": float(v), "estimate": float(est), "band_lower": float(lo),
                                      "band_upper": float(hi), "in_band": bool(b)}
                        for e, v, est, lo, hi, b in zip(common, t, d["estimate"], d["band_lower"], d["band_upper"],
                                                        in_band, strict=True)},
    }


def truth_comparison(fits: dict, events_truth: dict) -> dict:
    """The studies whose cohort is the generator's ``entry_year`` and whose outcome is the log of
    one studied in ``truth.json`` ``events.effects`` (log wage, employment, population): per
    method, the estimates by event time against the true dynamic path, whether the truth lies
    inside the uniform band at every event time, and the overall ATT against the true one.

    The truth is the effect of entry as it happened (exits included): a study that censored
    the towns' exits estimates the effect on the towns still owned at the later event times,
    said in ``note``."""
    out = {}
    for name, fit in fits.items():
        s = fit.config
        col, logged = s.log_outcome
        key = TRUTH_OUTCOMES.get(col) if logged else None
        eff = events_truth.get("effects", {}).get(key) if key else None
        if s.rule is not None or s.cohort != "entry_year" or not eff:
            continue
        path = pd.Series({int(e): float(v) for e, v in eff["dynamic"].items()}).sort_index()
        overall = eff.get("overall")
        entry = {"outcome": key, "overall": overall,
                 "methods": {m: _method_truth(r, path, overall) for m, r in fit.results.items()}}
        exits = sum(1 for v in events_truth.get("exit_year", {}).values() if v)
        if s.exit is not None and exits:
            entry["note"] = (f"the truth includes the effect of the {exits} exits (Y(actual) - Y(untreated)); this "
                             f"study censored the towns at exit ({s.exit}), so after the first exits it estimates the "
                             "effect on the towns still owned: set exit = \"none\" to estimate the truth's estimand")
        if "twfe" in fit.results and (s.leads is not None or s.lags is not None):
            entry["note_twfe"] = "twfe: the end points pool the event times beyond the window (their truth is not one event time)"
        out[name] = entry
    return out
