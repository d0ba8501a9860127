"""Borusyak, Jaravel and Spiess (2024): the imputation estimator.

1. Fit ``y_it = a_i + l_t + e_it`` by OLS on the untreated town-years ``Omega_0`` (never treated,
   or ``t < G_i - anticipation``).
2. Impute ``Y_it(0) = a_i + l_t`` for the treated town-years ``Omega_1`` and take
   ``tau_it = y_it - a_i - l_t``.
3. Every estimand is a weighted sum ``sum_{Omega_1} w_it tau_it``: ``dynamic`` (event time ``e``:
   equal weights on the town-years at ``e``), ``overall`` (all treated town-years with ``e >= 0``),
   ``by_cohort``, ``by_calendar_year``.

Each estimand is linear in ``y``: ``sum_it v_it y_it`` with ``v = w`` on ``Omega_1`` and
``v = -Z_0 (Z_0'Z_0)^- Z_1' w`` on ``Omega_0`` (``Z`` the town and year indicators), computed
exactly by the two-way solve of :mod:`models.event.fe`. The conservative variance (their
Theorem 3) is ``sum_c (sum_{it in c} v_it e~_it)^2`` over clusters ``c``, with ``e~`` the
residuals of step 1 on ``Omega_0`` and ``tau_it - tau~_it`` on ``Omega_1``, ``tau~`` the mean of
``tau`` within the (cohort, event time) cell (``did_imputation``'s default ``avgeffectsby``).

Pre-trends are tested as they recommend (their sec. 4.4), separately from estimation: on
``Omega_0`` only, ``y_it = a_i + l_t + sum_{k=1..K} g_k 1{t - G_i = -anticipation - k} + e_it``
with CR1 errors; ``dynamic`` shows ``g_k`` at the negative event times and the Wald test is on
them. Town-years whose town or year has no untreated observation cannot be imputed: dropped
and counted in the notes.
"""

from __future__ import annotations

import numpy as np

from .bootstrap import cluster_sum
from .cohorts import EventDataError, EventPanel
from .fe import TwoWay
from .regression import fit_clustered
from .twfe import panel_long

__all__ = ["imputation", "imputation_pretrend"]


def _estimand_weights(e, g, year, lags):
    """``{name: (labels, W)}``: equal-weight estimands over the treated town-years (n1 x k)."""
    post = (e >= 0) & (e <= lags)
    out = {}
    for name, key, mask in (("dynamic", e, np.ones(len(e), dtype=bool)), ("overall", None, post),
                            ("by_cohort", g, post), ("by_calendar_year", year, post)):
        if key is None:
            labels = np.array(["overall"])
            W = post[:, None].astype(float)
        else:
            labels = np.unique(key[mask & (e <= lags)])
            W = ((key[:, None] == labels[None, :]) & mask[:, None] & (e <= lags)[:, None]).astype(float)
        out[name] = (labels, W / np.maximum(W.sum(axis=0), 1))
    return out


def imputation(panel: EventPanel, anticipation: int = 0, lags=None):
    """``(estimates {name: (labels, theta)}, influence {name: phi (clusters x k)}, notes)``."""
    unit, time, y, e = panel_long(panel)
    untreated = ~(e >= -anticipation)
    nu, nt = panel.n_towns, len(panel.years)
    fe = TwoWay(unit[untreated], time[untreated], nu, nt)
    a, lam = fe.fit(y[untreated][:, None])
    treated = ~untreated
    ok = treated & (fe.n_i[unit] > 0) & (fe.m_t[time] > 0)
    notes = []
    if (treated & ~ok).any():
        notes.append(f"{int((treated & ~ok).sum())} treated town-years have no untreated year of their town "
                     "or no untreated town in their year: Y(0) cannot be imputed, dropped")
    if not ok.any():
        raise EventDataError("event_study: method='imputation' finds no treated town-year whose untreated "
                             "outcome can be imputed (each needs untreated years of its town and untreated towns "
                             "in its year).")
    u1, t1, e1 = unit[ok], time[ok], e[ok].astype(np.int64)
    g1 = panel.cohort[u1]
    tau = y[ok] - a[u1, 0] - lam[t1, 0]
    resid0 = y[untreated] - a[unit[untreated], 0] - lam[time[untreated], 0]
    cell = g1 * 100003 + e1.astype(np.int64)
    _, inv = np.unique(cell, return_inverse=True)
    tau_bar = np.bincount(inv, tau) / np.bincount(inv)
    resid1 = tau - tau_bar[inv]
    lags = int(e1.max()) if lags is None else int(lags)
    est, phi = {}, {}
    for name, (labels, W) in _estimand_weights(e1, g1, panel.years[t1], lags).items():
        r = cluster_sum(W, u1, nu)
        c = cluster_sum(W, t1, nt)
        aw, lw = fe.effects(r, c)
        v0 = -(aw[unit[untreated]] + lw[time[untreated]])
        contrib = np.vstack([W * resid1[:, None], v0 * resid0[:, None]])
        units = np.concatenate([u1, unit[untreated]])
        est[name] = (labels, W.T @ tau)
        phi[name] = cluster_sum(contrib, panel.cluster[units], panel.n_clusters)
    return est, phi, notes


def imputation_pretrend(panel: EventPanel, leads: int, anticipation: int = 0):
    """The lead coefficients ``g_k`` on the untreated town-years, CR1 (their sec. 4.4)."""
    unit, time, y, e = panel_long(panel)
    untreated = ~(e >= -anticipation)
    unit, time, y, e = unit[untreated], time[untreated], y[untreated], e[untreated]
    for k in (leads, leads - 1):
        times = np.arange(-anticipation - k, -anticipation, dtype=np.int64)
        times = times[np.isin(times, e)]
        if not len(times):
            return times, None
        D = (e[:, None] == times[None, :]).astype(float)
        try:
            return times, fit_clustered(unit, time, y, D, panel.cluster, panel.n_clusters, panel.n_towns,
                                        len(panel.years), names=tuple(f"e={v}" for v in times))
        except EventDataError:
            continue
    return np.array([], dtype=np.int64), None
