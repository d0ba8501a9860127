"""Sun and Abraham (2021): the interaction-weighted (IW) event-study estimator.

1. Fit the saturated regression on the towns of the treated cohorts and the comparison cohort,

       y_it = a_i + l_t + sum_{g not in C} sum_{e != r} delta_{g,e} 1{G_i = g} 1{t - g = e} + u_it,

   with ``C`` the never-treated towns (``control="never_treated"``, and ``"not_yet_treated"`` when
   there are any) or the last-treated cohort with them (``"last_treated"``, and ``"not_yet_treated"``
   when every town is eventually treated: Sun and Abraham's alternative; the years from its
   treatment year on are dropped), ``r`` the reference
   event time (-1); every relative period is kept (no binning: binned end points would mix cohorts
   again). ``delta_{g,e}`` estimates CATT(g, e) (their Proposition 3).
2. Aggregate with cohort shares: ``nu_e = sum_g Pr(G = g | G in cohorts seen at e) delta_{g,e}``,
   the shares estimated by the town-years of each (cohort, event time) cell (``fixest::sunab``'s
   aggregation). ``overall``: the town-year-weighted mean of ``delta_{g,e}, e >= 0``; ``by_cohort``
   and ``by_calendar_year`` likewise within cohort and within year.

Standard errors are CR1 by cluster with the shares held fixed (as ``fixest``; Sun and Abraham's
Proposition 6 adds a term for the estimated shares, small when cohorts are large).
"""

from __future__ import annotations

import numpy as np

from .cohorts import NEVER, EventDataError, EventPanel
from .regression import fit_clustered
from .twfe import panel_long

__all__ = ["sun_abraham"]


def _sample(panel: EventPanel, control: str, anticipation: int):
    """Observed town-years kept, the comparison cohort and notes."""
    unit, time, y, e = panel_long(panel)
    g = panel.cohort[unit]
    notes = []
    has_never = (panel.cohort == NEVER).any()
    if control == "never_treated" or (control == "not_yet_treated" and has_never):
        if not has_never:
            raise EventDataError("event_study: method='sun_abraham' with control='never_treated' needs towns never "
                                 "treated in the panel; use control='last_treated' (the last cohort as comparison).")
        keep = np.ones(len(y), dtype=bool)
        comp = g == NEVER
    else:
        last = panel.cohort.max()
        keep = panel.years[time] < last - anticipation
        comp = (g == NEVER) | (g == last)
        notes.append(f"comparison: the never-treated towns and the last-treated cohort ({int(last)}); years from "
                     f"{int(last - anticipation)} on dropped")
    return unit[keep], time[keep], y[keep], np.where(comp, np.nan, e)[keep], g[keep], notes


def sun_abraham(panel: EventPanel, control: str, reference: int = -1, anticipation: int = 0):
    """The saturated fit and its IW aggregations as ``{name: (labels, weights matrix)}``."""
    unit, time, y, e, g, notes = _sample(panel, control, anticipation)
    cells = np.unique(np.column_stack([g, e])[np.isfinite(e) & (e != reference)], axis=0).astype(np.int64)
    if not len(cells):
        raise EventDataError("event_study: no treated town-year is left for method='sun_abraham'.")
    # each town-year's cell: match (g, e) keys against the sorted cell table
    key = g.astype(np.int64) * 100003 + np.where(np.isfinite(e), e, 0).astype(np.int64)
    ckey = cells[:, 0] * 100003 + cells[:, 1]
    pos = np.searchsorted(ckey, key)
    pos = np.clip(pos, 0, len(ckey) - 1)
    hit = np.isfinite(e) & (e != reference) & (ckey[pos] == key)
    D = np.zeros((len(y), len(cells)))
    D[np.nonzero(hit)[0], pos[hit]] = 1.0
    names = tuple(f"g={a},e={b}" for a, b in cells)
    fit = fit_clustered(unit, time, y, D, panel.cluster, panel.n_clusters, panel.n_towns, len(panel.years),
                        names=names)
    count = D.sum(axis=0)
    cg, ce = cells[:, 0], cells[:, 1]
    cyear = cg + ce
    agg = {}
    for name, labels, member in (
            ("dynamic", np.unique(ce), lambda v: ce == v),
            ("overall", np.array(["overall"]), lambda v: ce >= 0),
            ("by_cohort", np.unique(cg[ce >= 0]), lambda v: (cg == v) & (ce >= 0)),
            ("by_calendar_year", np.unique(cyear[ce >= 0]), lambda v: (cyear == v) & (ce >= 0))):
        W = np.zeros((len(cells), len(labels)))
        for j, v in enumerate(labels):
            m = member(v)
            W[m, j] = count[m] / count[m].sum()
        agg[name] = (labels, W)
    return fit, cells, agg, notes
