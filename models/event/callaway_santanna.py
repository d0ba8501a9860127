"""Callaway and Sant'Anna (2021): group-time average treatment effects ATT(g, t).

For each treated cohort ``g`` and year ``t``,

    ATT(g, t) = E[Y_t - Y_b | G = g] - E[Y_t - Y_b | C],

estimated by the 2x2 estimators of :mod:`models.event.drdid` (``reg``, ``ipw``, ``dr``; with no
covariates all three are the difference of the four means). Conventions are R ``did``'s
(``att_gt``, version 2.x), and are checked against its Python port ``csdid``:

* base year ``b``: for post-treatment cells (``t >= g - anticipation``) the last year before
  ``g - anticipation`` (``b = g - anticipation - 1``); for pre-treatment cells, ``base_period=
  "varying"`` (the default, as ``did``) takes the year before ``t`` (short differences: each
  pre-period estimate is a one-year placebo), ``"universal"`` keeps ``g - anticipation - 1``
  (that cell is then 0 with no standard error);
* comparison ``C``: ``never_treated`` = towns never treated; ``not_yet_treated`` = never treated or
  first treated after ``max(t, b) + anticipation`` (cohort ``g`` itself excluded); when no town
  is never treated, the last cohort becomes the comparison and the years from its treatment
  year (less anticipation) on are dropped, as ``did``;
* covariates in the earlier of the two years (``did``'s ``panel2cs2``);
* influence function of the cell on all ``n`` towns: ``(n / n1) psi`` on the cell's ``n1`` towns,
  0 elsewhere, so that ``Var(ATT(g,t)) = sum_i IF_i^2 / n^2`` (R ``did``'s analytical s.e.).

The panel must be balanced in the outcome (towns with a missing year are dropped, said in the
notes, as ``did``'s ``panel = TRUE``). Cells are looped over; each cell's 2x2 is array work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cohorts import NEVER, EventDataError, EventPanel
from .drdid import cell_att

__all__ = ["GroupTime", "group_time_effects", "prepare_cs_panel"]


@dataclass(frozen=True, eq=False)
class GroupTime:
    """ATT(g, t) cells: ``group``, ``year``, ``base``, ``att``, ``n_treated``, ``n_control`` (one
    entry per cell), the influence functions ``inf`` (towns x cells) and the panel used."""

    group: np.ndarray
    year: np.ndarray
    base: np.ndarray
    att: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    inf: np.ndarray
    panel: EventPanel
    estimated: np.ndarray  # False for a universal base cell (0 by construction)


def prepare_cs_panel(panel: EventPanel, control: str, anticipation: int) -> EventPanel:
    """Balance the panel and, with ``not_yet_treated`` and no never-treated town, make the last
    cohort the comparison (dropping its treated years); refuse what cannot be estimated."""
    missing = np.isnan(panel.y).any(axis=1)
    if panel.covariates:
        missing |= np.isnan(panel.x).any(axis=(1, 2))
    if missing.any():
        panel = panel.subset(~missing, f"{int(missing.sum())} towns with a missing outcome or covariate year "
                                       "were dropped (Callaway-Sant'Anna on a balanced panel)")
    g = panel.cohort
    if not (g == NEVER).any():
        if control == "never_treated":
            raise EventDataError(
                "event_study: control='never_treated' needs towns never treated in the panel, and every "
                f"town of the {panel.n_towns} is treated at some year. Use control='not_yet_treated' "
                "(the last cohort then serves as comparison until it is treated).")
        last = g.max()
        keep_years = panel.years < last - anticipation
        cohort = np.where(g == last, NEVER, g)
        panel = EventPanel(panel.towns, panel.years[keep_years], cohort, panel.y[:, keep_years],
                           panel.x[:, keep_years], panel.cluster, panel.n_clusters, panel.outcome,
                           panel.covariates, panel.notes + (
                               f"no town is never treated: the last cohort ({int(last)}) is the comparison and "
                               f"the years from {int(last - anticipation)} on were dropped",))
    treated = (panel.cohort != NEVER) & (panel.cohort - anticipation > panel.years[0])
    late = (panel.cohort != NEVER) & ~treated
    if late.any():
        panel = panel.subset(~late, f"{int(late.sum())} towns with no year before their cohort less "
                                    "anticipation were dropped")
    if not (panel.cohort != NEVER).any():
        raise EventDataError("event_study: no treated town is left to estimate an effect for.")
    return panel


def _cells(panel: EventPanel, base_period: str, anticipation: int):
    """``(g, t index, base index)`` of every cell, in ``did``'s order (cohort, then year)."""
    years = panel.years
    out = []
    for g in np.unique(panel.cohort[panel.cohort != NEVER]):
        pre = np.nonzero(years + anticipation < g)[0]
        b_post = pre[-1]
        start = 1 if base_period == "varying" else 0
        for t in range(start, len(years)):
            post = g - anticipation <= years[t]
            b = b_post if (post or base_period == "universal") else t - 1
            out.append((int(g), t, int(b)))
    return out


def _covariate_design(panel: EventPanel, rows: np.ndarray, year_index: int) -> np.ndarray:
    X = panel.x[rows, year_index, :]
    return np.column_stack([np.ones(len(X)), X])


def group_time_effects(panel: EventPanel, control: str, estimation: str, base_period: str,
                       anticipation: int) -> GroupTime:
    """All ATT(g, t) cells with their influence functions (towns x cells)."""
    n = panel.n_towns
    years, y, g = panel.years, panel.y, panel.cohort
    cells = _cells(panel, base_period, anticipation)
    inf = np.zeros((n, len(cells)))
    att = np.full(len(cells), np.nan)
    n1 = np.zeros(len(cells), dtype=np.int64)
    n0 = np.zeros(len(cells), dtype=np.int64)
    estimated = np.ones(len(cells), dtype=bool)
    for k, (gg, t, b) in enumerate(cells):
        if t == b:
            att[k], estimated[k] = 0.0, False
            continue
        treat = g == gg
        if control == "never_treated":
            comp = g == NEVER
        else:
            comp = (g == NEVER) | ((g > max(years[t], years[b]) + anticipation) & (g != gg))
        n1[k], n0[k] = treat.sum(), comp.sum()
        if n0[k] == 0:
            continue
        dy = y[:, t] - y[:, b]
        if not panel.covariates:
            m1, m0 = dy[treat].mean(), dy[comp].mean()
            att[k] = m1 - m0
            inf[:, k] = n * (treat * (dy - m1) / n1[k] - comp * (dy - m0) / n0[k])
        else:
            rows = treat | comp
            X = _covariate_design(panel, rows, min(t, b))
            att[k], psi = cell_att(dy[rows], treat[rows].astype(float), X, estimation)
            inf[rows, k] = n / rows.sum() * psi
    group = np.array([c[0] for c in cells], dtype=np.int64)
    year = years[[c[1] for c in cells]]
    base = years[[c[2] for c in cells]]
    return GroupTime(group, year, base, att, n1, n0, inf, panel, estimated)
