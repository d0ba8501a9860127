"""Aggregations of ATT(g, t), as R ``did::aggte`` (Callaway and Sant'Anna 2021, sec. 3).

With ``p_g = n_g / n`` the share of towns in cohort ``g`` and cells ``(g, t)``:

* ``simple``: ``theta = sum_{t >= g} p_g ATT(g,t) / sum_{t >= g} p_g`` (the overall ATT);
* ``dynamic``: ``theta(e) = sum_g p_g ATT(g, g+e) / sum_g p_g`` over the cohorts observed at
  event time ``e`` (pre-periods included);
* ``group``: ``theta(g) = mean_{t >= g} ATT(g, t)`` (by cohort), and their ``p_g``-weighted mean;
* ``calendar``: ``theta(t) = sum_{g <= t} p_g ATT(g,t) / sum_{g <= t} p_g`` (by calendar year).

The influence function of each aggregate is ``sum_k w_k IF_k`` plus the term for the estimated
weights (``did``'s ``wif``): ``sum_k att_k [(1{G=g_k} - p_k)/S - p_k sum_j (1{G=g_j} - p_j)/S^2]``
with ``S = sum_k p_k`` (Callaway and Sant'Anna 2021, appendix).
"""

from __future__ import annotations

import numpy as np

from .callaway_santanna import GroupTime
from .cohorts import NEVER

__all__ = ["aggregate_group_time"]


def _weighted(gt: GroupTime, keep: np.ndarray, pg: np.ndarray, onehot: np.ndarray):
    """``(theta, IF)`` of the ``p_g``-weighted mean of the cells ``keep``, weight estimation included."""
    p = pg[keep]
    S = p.sum()
    att = gt.att[keep]
    theta = float(p @ att / S)
    dev = onehot[:, keep] - p
    inf = gt.inf[:, keep] @ (p / S) + dev @ att / S - dev.sum(axis=1) * (p @ att) / S**2
    return theta, inf


def aggregate_group_time(gt: GroupTime, min_e: float = -np.inf, max_e: float = np.inf) -> dict:
    """The four aggregations: ``{"simple"|"dynamic"|"group"|"calendar": (labels, theta, IF)}``
    (IF: towns x estimates); ``group`` also carries its overall in ``group_overall``."""
    cohort = gt.panel.cohort
    n = len(cohort)
    ok = np.isfinite(gt.att)
    groups = np.unique(cohort[cohort != NEVER])
    onehot_g = (cohort[:, None] == groups[None, :]).astype(float)
    cell_g = np.searchsorted(groups, gt.group)
    pg_groups = onehot_g.mean(axis=0)
    pg = pg_groups[cell_g]
    onehot = onehot_g[:, cell_g]
    e = gt.year - gt.group
    out = {}
    post = ok & (gt.group <= gt.year) & (e <= max_e)
    theta, inf = _weighted(gt, post, pg, onehot)
    out["simple"] = (np.array(["overall"]), np.array([theta]), inf[:, None])
    es = np.unique(e[ok & (e >= min_e) & (e <= max_e)])
    res = [_weighted(gt, ok & (e == v), pg, onehot) for v in es]
    out["dynamic"] = (es, np.array([r[0] for r in res]), np.column_stack([r[1] for r in res]) if res
                      else np.zeros((n, 0)))
    th_g, inf_g, used = [], [], []
    for j, g in enumerate(groups):
        keep = post & (gt.group == g)
        if keep.any():
            th_g.append(gt.att[keep].mean())
            inf_g.append(gt.inf[:, keep].mean(axis=1))
            used.append(j)
    th_g, inf_g, used = np.array(th_g), np.column_stack(inf_g), np.array(used)
    out["group"] = (groups[used], th_g, inf_g)
    p = pg_groups[used]
    S = p.sum()
    dev = onehot_g[:, used] - p
    inf_sel = inf_g @ (p / S) + dev @ th_g / S - dev.sum(axis=1) * (p @ th_g) / S**2
    out["group_overall"] = (np.array(["group"]), np.array([p @ th_g / S]), inf_sel[:, None])
    years = np.unique(gt.year[post])
    res = [_weighted(gt, post & (gt.year == t), pg, onehot) for t in years]
    out["calendar"] = (years, np.array([r[0] for r in res]), np.column_stack([r[1] for r in res]))
    return out
