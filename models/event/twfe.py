"""The two-way fixed-effects event study and the static two-way DiD (for comparison).

    y_it = a_i + l_t + sum_{e != r} beta_e 1{t - G_i = e} + u_it,

over the window ``-leads <= e <= lags`` with reference ``r`` (default -1). With
``bin_endpoints=True`` event times beyond the window are pooled into the end points (``e <= -leads``
into ``-leads``, ``e >= lags`` into ``lags``); without, the treated town-years outside the window
are dropped. When no town is never treated and the window covers every event time, the
coefficients are not identified (a linear trend in event time is absorbed by the effects;
Borusyak, Jaravel and Spiess 2024, sec. 3): the earliest lead is then normalized to 0 as well,
said in the notes. ``overall`` is the static ``y_it = a_i + l_t + b D_it + u_it`` with
``D_it = 1{t >= G_i}``, the coefficient that :func:`models.bacon_decomposition` decomposes
(Goodman-Bacon 2021). Under heterogeneous effects across cohorts and event times both are
weighted averages with possibly negative weights (de Chaisemartin and D'Haultfoeuille 2020;
Sun and Abraham 2021): shown for comparison, not as a robust estimate.
"""

from __future__ import annotations

import numpy as np

from .cohorts import NEVER, EventPanel
from .regression import fit_clustered

__all__ = ["twfe_event_study", "panel_long", "event_window"]


def panel_long(panel: EventPanel):
    """The observed town-years as arrays ``(unit, time, y, e)`` (``e`` NaN for never treated)."""
    unit, time = np.nonzero(~np.isnan(panel.y))
    e = panel.event_time[unit, time]
    return unit, time, panel.y[unit, time], e


def event_window(e: np.ndarray, leads, lags) -> tuple[int, int]:
    """``(leads, lags)``: the given ones, else the full range of observed event times."""
    seen = e[np.isfinite(e)]
    lo = int(-seen.min()) if seen.size else 0
    hi = int(seen.max()) if seen.size else 0
    return (lo if leads is None else int(leads)), (hi if lags is None else int(lags))


def twfe_event_study(panel: EventPanel, leads=None, lags=None, bin_endpoints=True, reference=-1):
    """``(event times, fit of the event study, fit of the static DiD, notes)``."""
    unit, time, y, e = panel_long(panel)
    leads, lags = event_window(e, leads, lags)
    notes = []
    treated = np.isfinite(e)
    if bin_endpoints:
        eb = np.where(treated, np.clip(e, -leads, lags), np.nan)
        keep = np.ones(len(y), dtype=bool)
    else:
        keep = ~treated | ((e >= -leads) & (e <= lags))
        eb = e
        if (~keep).any():
            notes.append(f"{int((~keep).sum())} treated town-years outside the window [-{leads}, {lags}] were dropped")
    refs = {reference}
    seen = np.unique(eb[keep & treated])
    if not (panel.cohort == NEVER).any() and len(seen) and seen.min() >= -leads and seen.min() != reference:
        refs.add(int(seen.min()))
        notes.append(f"no never-treated town: event time {int(seen.min())} is a second reference (normalized to 0)")
    times = np.array([v for v in seen if v not in refs], dtype=np.int64)
    D = (eb[keep][:, None] == times[None, :]).astype(float)
    args = (panel.cluster, panel.n_clusters, panel.n_towns, len(panel.years))
    dyn = fit_clustered(unit[keep], time[keep], y[keep], D, *args, names=tuple(f"e={v}" for v in times))
    static = fit_clustered(unit, time, y, (treated & (e >= 0)).astype(float)[:, None], *args, names=("D",))
    return times, sorted(refs), dyn, static, notes
