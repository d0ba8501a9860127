"""``event_study``: one entry point for the four estimators, with shared inference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)

from .aggregate import aggregate_group_time
from .bootstrap import bootstrap_draws, cluster_sum, std_errors, sup_t_critical, wald
from .callaway_santanna import group_time_effects, prepare_cs_panel
from .cohorts import NEVER, build_panel
from .imputation import imputation, imputation_pretrend
from .result import EventStudyResult, estimate_table
from .sun_abraham import sun_abraham
from .twfe import twfe_event_study

__all__ = ["event_study", "METHODS", "CONTROLS"]

METHODS = ("callaway_santanna", "sun_abraham", "twfe", "imputation")
CONTROLS = ("not_yet_treated", "never_treated", "last_treated")
INDEX = {"dynamic": "event_time", "overall": None, "by_cohort": "cohort", "by_calendar_year": "year",
         "group_time": None}


def _check_args(method, control, estimation, base_period, n_boot, level, anticipation, covariates):
    if method not in METHODS:
        raise ValueError(f"event_study: method must be one of {', '.join(METHODS)}; got {method!r}.")
    if control not in CONTROLS:
        raise ValueError(f"event_study: control must be one of {', '.join(CONTROLS)}; got {control!r}.")
    if control == "last_treated" and method != "sun_abraham":
        raise ValueError("event_study: control='last_treated' is Sun and Abraham's comparison; use it with "
                         "method='sun_abraham' (the other methods take 'not_yet_treated' or 'never_treated').")
    if estimation not in ("dr", "reg", "ipw"):
        raise ValueError(f"event_study: estimation must be 'dr', 'reg' or 'ipw'; got {estimation!r}.")
    if base_period not in ("varying", "universal"):
        raise ValueError(f"event_study: base_period must be 'varying' or 'universal'; got {base_period!r}.")
    if int(n_boot) < 0:
        raise ValueError(f"event_study: n_boot must be >= 0 (0: no uniform band); got {n_boot}.")
    if not 0 < level < 1:
        raise ValueError(f"event_study: level must be in (0, 1); got {level}.")
    if int(anticipation) < 0:
        raise ValueError(f"event_study: anticipation must be >= 0; got {anticipation}.")
    if covariates and method != "callaway_santanna":
        raise ValueError(f"event_study: covariates are used by method='callaway_santanna' only (got "
                         f"method={method!r} with covariates {list(covariates)}).")


def _callaway_santanna(panel, control, estimation, base_period, anticipation, leads, lags):
    """``(families {name: (labels, theta, phi)}, extra frame, panel, notes)``."""
    panel = prepare_cs_panel(panel, control, anticipation)
    gt = group_time_effects(panel, control, estimation, base_period, anticipation)
    n, cl, G = panel.n_towns, panel.cluster, panel.n_clusters
    lo = -np.inf if leads is None else -int(leads)
    hi = np.inf if lags is None else int(lags)
    agg = aggregate_group_time(gt, lo, hi)

    def fam(key):
        labels, theta, inf = agg[key]
        return labels, theta, cluster_sum(inf / n, cl, G)

    ok = np.isfinite(gt.att)
    fams = {"dynamic": fam("dynamic"), "overall": fam("simple"), "by_cohort": fam("group"),
            "by_calendar_year": fam("calendar"),
            "group_time": (pd.MultiIndex.from_arrays([gt.group[ok], gt.year[ok]], names=["cohort", "year"]),
                           gt.att[ok], cluster_sum(gt.inf[:, ok] / n, cl, G))}
    extra = pd.DataFrame({"base_year": gt.base[ok], "event_time": (gt.year - gt.group)[ok],
                          "n_treated": gt.n_treated[ok], "n_control": gt.n_control[ok]},
                         index=fams["group_time"][0])
    notes = list(panel.notes)
    if (~ok).any():
        notes.append(f"{int((~ok).sum())} group-time cells have no comparison town and are not estimated")
    fixed = ~gt.estimated[ok]
    return fams, extra, panel, notes, fixed


def _regression_family(labels, W, fit):
    return labels, W.T @ fit.params, fit.phi @ W


def _sun_abraham(panel, control, reference, anticipation):
    fit, cells, agg, notes = sun_abraham(panel, control, reference, anticipation)
    fams = {k: _regression_family(labels, W, fit) for k, (labels, W) in agg.items()}
    return fams, list(panel.notes) + notes


def _twfe(panel, leads, lags, bin_endpoints, reference):
    times, refs, dyn, static, notes = twfe_event_study(panel, leads, lags, bin_endpoints, reference)
    eye = np.eye(len(times))
    fams = {"dynamic": (times, dyn.params, dyn.phi @ eye),
            "overall": (np.array(["overall"]), static.params, static.phi)}
    return fams, refs, list(panel.notes) + notes


def _imputation(panel, anticipation, leads, lags):
    est, phi, notes = imputation(panel, anticipation, lags)
    fams = {k: (est[k][0], est[k][1], phi[k]) for k in est}
    e_pre = panel.event_time[panel.cohort != NEVER]
    n_leads = int(leads) if leads is not None else int(max(0, -np.nanmin(e_pre) - anticipation))
    times, fit = imputation_pretrend(panel, n_leads, anticipation)
    if fit is not None:
        lab, th, ph = fams["dynamic"]
        fams["dynamic"] = (np.concatenate([times, lab]), np.concatenate([fit.params, th]),
                           np.hstack([fit.phi, ph]))
        notes.append("pre-period estimates: lead coefficients on the untreated town-years (BJS sec. 4.4)")
    return fams, list(panel.notes) + notes


def _families(panel, method, control, estimation, base_period, anticipation, leads, lags, bin_endpoints,
              reference):
    extra, fixed, refs = None, None, []
    if method == "callaway_santanna":
        fams, extra, panel, notes, fixed = _callaway_santanna(panel, control, estimation, base_period,
                                                              anticipation, leads, lags)
    elif method == "sun_abraham":
        fams, notes = _sun_abraham(panel, control, reference, anticipation)
        refs = [reference]
    elif method == "twfe":
        fams, refs, notes = _twfe(panel, leads, lags, bin_endpoints, reference)
    else:
        fams, notes = _imputation(panel, anticipation, leads, lags)
    if method in ("sun_abraham", "imputation") and (leads is not None or lags is not None):
        lab, th, ph = fams["dynamic"]
        keep = (lab >= (-np.inf if leads is None else -int(leads))) & (lab <= (np.inf if lags is None else int(lags)))
        fams["dynamic"] = (lab[keep], th[keep], ph[:, keep])
    return fams, extra, fixed, refs, panel, notes


def _tables(fams, refs, level, n_boot, random_state, boot_weights, n_jobs):
    """Frames of each family; one bootstrap for all (the same multipliers), a band per family."""
    names = list(fams)
    phi = np.hstack([fams[k][2] for k in names])
    se_all = std_errors(phi)
    seed = None
    if n_boot > 0:
        seed = (np.random.SeedSequence().entropy if random_state is None else
                random_state.entropy if isinstance(random_state, np.random.SeedSequence) else int(random_state))
        draws = bootstrap_draws(phi, int(n_boot), seed, boot_weights, n_jobs)
    frames, crit, start, floored = {}, {}, 0, []
    for k in names:
        labels, theta, ph = fams[k]
        se = se_all[start:start + ph.shape[1]]
        c = sup_t_critical(draws[:, start:start + ph.shape[1]], se, level) if n_boot > 0 else np.nan
        if c < scipy.stats.norm.ppf(0.5 + level / 2):  # as R did: never a band narrower than the intervals
            floored.append(k)
            c = float(scipy.stats.norm.ppf(0.5 + level / 2))
        start += ph.shape[1]
        crit[k] = c
        frames[k] = estimate_table(labels, theta, se, level, c, INDEX[k])
    if refs and "dynamic" in frames:
        d = frames["dynamic"]
        add = pd.DataFrame({"estimate": 0.0}, index=pd.Index([r for r in refs if r not in d.index], name="event_time"))
        frames["dynamic"] = pd.concat([d, add.reindex(columns=d.columns)]).sort_index()
    return frames, crit, seed, floored


def _control_used(method, control, notes) -> str:
    """The comparison actually used (Sun-Abraham: never treated or the last-treated cohort)."""
    if method == "sun_abraham":
        return "last_treated" if any(n.startswith("comparison: ") for n in notes) else "never_treated"
    if method in ("twfe", "imputation"):
        return "untreated town-years"
    return control


def _pretrend(fams, frames, anticipation):
    lab, theta, ph = fams["dynamic"]
    pre = np.asarray(lab) < -anticipation
    stat, df, p = wald(np.asarray(theta)[pre], ph[:, pre].T @ ph[:, pre]) if pre.any() else (np.nan, 0, np.nan)
    return pd.Series({"statistic": stat, "df": df, "pvalue": p})


def event_study(data: pd.DataFrame, outcome: str, cohort: str, method: str = "callaway_santanna",
                control: str = "not_yet_treated", cluster: str = "town_id", n_boot: int = 999,
                random_state=None, leads: int | None = None, lags: int | None = None,
                bin_endpoints: bool = True, reference: int = -1, estimation: str = "dr",
                covariates=(), anticipation: int = 0, level: float = 0.95, base_period: str = "varying",
                boot_weights: str = "mammen", exit: str | None = "exit_year",
                n_jobs: int | None = 1) -> EventStudyResult:
    """Event study of a staggered, absorbing treatment (first treated year in ``cohort``).

    Parameters
    ----------
    data : DataFrame indexed by (``town_id``, ``year``) (or with those columns).
    outcome : the outcome column.
    cohort : column of each town's first treated year (0 or missing: never treated); constant
        within town, a panel year. Towns treated from the first panel year are dropped (no
        untreated year), said in ``notes``.
    method : ``"callaway_santanna"`` (Callaway and Sant'Anna 2021; group-time ATT(g, t) and their
        aggregations, :mod:`models.event.callaway_santanna`), ``"sun_abraham"`` (Sun and Abraham
        2021, interaction-weighted), ``"imputation"`` (Borusyak, Jaravel and Spiess 2024) or
        ``"twfe"`` (the two-way fixed-effects event study, biased under heterogeneous effects;
        for comparison).
    control : ``"not_yet_treated"`` (default) or ``"never_treated"``; for ``sun_abraham``,
        ``"last_treated"`` is the last-treated cohort (with the never-treated towns), and
        ``"not_yet_treated"`` means the never-treated towns when there are any, else the
        last-treated cohort. ``twfe`` and ``imputation`` use every untreated town-year whatever
        ``control`` says.
    cluster : column of clusters (default the town): influence functions are summed within
        clusters and the bootstrap multiplies cluster sums.
    n_boot : multiplier-bootstrap draws for the uniform bands (0: none).
    random_state : int, SeedSequence or None; the draws are identical whatever ``n_jobs``.
    leads, lags : event-time window (default: all observed).
    bin_endpoints, reference : ``twfe`` only: pool event times beyond the window into the end
        points; the omitted event time (also ``sun_abraham``'s).
    estimation : ``"dr"`` (Sant'Anna and Zhao 2020), ``"reg"`` or ``"ipw"`` (``callaway_santanna``).
    covariates : columns (``callaway_santanna``), taken in the base year of each 2x2.
    anticipation : years of anticipation (treatment effects may start ``anticipation`` years
        early); pre-periods for the test are event times before ``-anticipation``.
    level : confidence level of intervals and bands.
    base_period : ``"varying"`` (pre-periods as one-year placebos, as ``did``) or ``"universal"``.
    boot_weights : ``"mammen"`` (as R ``did``) or ``"rademacher"``.
    exit : column of the year the treatment ends (default ``exit_year`` when present): a town
        whose treatment switches off inside the panel is refused, naming the towns (all four
        estimators assume an absorbing treatment; de Chaisemartin and D'Haultfoeuille's estimator,
        which allows switching off, is not provided). ``None`` skips the check.
    n_jobs : local workers for the bootstrap's chunks (:func:`models.compute.run_tasks`; inside
        ``models.compute_backend("dask", ...)`` the chunks run on the cluster instead).

    Returns
    -------
    EventStudyResult
        ``dynamic``, ``overall``, ``pretrend``, ``by_cohort``, ``by_calendar_year``,
        ``group_time``, ``summary()``, ``to_frame()``, ``plot()``.

    Notes
    -----
    Standard errors come from influence functions summed within clusters, ``V = phi' phi``
    (Callaway-Sant'Anna: R ``did``'s analytical s.e.; Sun-Abraham and two-way: CR1; imputation:
    Borusyak, Jaravel and Spiess's conservative variance). Uniform bands: sup-t critical value of
    the multiplier bootstrap (one set of multipliers for all tables, a critical value per table).

    References
    ----------
    Callaway, B. and P. H. C. Sant'Anna (2021), J. Econometrics 225(2), 200-230.
    Sant'Anna, P. H. C. and J. Zhao (2020), J. Econometrics 219(1), 101-122.
    Sun, L. and S. Abraham (2021), J. Econometrics 225(2), 175-199.
    Borusyak, K., X. Jaravel and J. Spiess (2024), Rev. Econ. Stud. 91(6), 3253-3285.
    Goodman-Bacon, A. (2021), J. Econometrics 225(2), 254-277.
    de Chaisemartin, C. and X. D'Haultfoeuille (2020), Amer. Econ. Rev. 110(9), 2964-2996.
    """
    _check_args(method, control, estimation, base_period, n_boot, level, anticipation, covariates)
    panel = build_panel(data, outcome, cohort, cluster=cluster, covariates=covariates, exit=exit, method=method)
    if control == "never_treated" and method in ("callaway_santanna", "sun_abraham") and \
            not (panel.cohort == NEVER).any():
        from .cohorts import EventDataError

        raise EventDataError(f"event_study: control='never_treated' needs never-treated towns ({cohort!r} 0 or "
                             f"missing), and all {panel.n_towns} towns are treated in the panel; use "
                             "control='not_yet_treated'.")
    fams, extra, fixed, refs, panel, notes = _families(panel, method, control, estimation, base_period,
                                                       int(anticipation), leads, lags, bin_endpoints, reference)
    frames, crit, seed, floored = _tables(fams, refs, level, n_boot, random_state, boot_weights, n_jobs)
    if floored:
        notes = [*notes, f"the bootstrap's sup-t critical value of the {', '.join(floored)} estimates was below the "
                 f"pointwise normal one ({scipy.stats.norm.ppf(0.5 + level / 2):.3f}): the uniform bands are the pointwise "
                 f"intervals there (R did's rule; {int(n_boot)} draws; more draws make the band reliable)"]
    o = frames["overall"].iloc[0]
    se = o["std_error"]
    p = 2 * scipy.stats.norm.sf(abs(o["estimate"] / se)) if np.isfinite(se) and se > 0 else np.nan
    overall = pd.Series({"estimate": o["estimate"], "std_error": se, "ci_lower": o["ci_lower"],
                         "ci_upper": o["ci_upper"], "pvalue": p})
    empty = estimate_table([], [], [], level, np.nan, "cohort")
    gt = frames.get("group_time")
    gt = gt.join(extra) if gt is not None else pd.DataFrame(
        columns=list(empty.columns) + ["base_year", "event_time", "n_treated", "n_control"])
    return EventStudyResult(
        method=method, control=_control_used(method, control, notes),
        outcome=outcome, estimation=estimation if method == "callaway_santanna" else "",
        n_towns=panel.n_towns, n_clusters=panel.n_clusters, n_boot=int(n_boot), level=level,
        crit_value=crit.get("dynamic", np.nan), bootstrap_seed=seed, anticipation=int(anticipation),
        _dynamic=frames["dynamic"], _overall=overall, _pretrend=_pretrend(fams, frames, int(anticipation)),
        _by_cohort=frames.get("by_cohort", empty), _by_calendar_year=frames.get("by_calendar_year",
                                                                                 empty.rename_axis("year")),
        _group_time=gt, notes=tuple(notes))
