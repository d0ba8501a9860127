"""The Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD coefficient.

On a balanced panel with a staggered absorbing treatment ``D_it = 1{t >= G_i}``, the coefficient
``b`` of ``y_it = a_i + l_t + b D_it + u_it`` is a weighted average of every 2x2 DiD between
timing groups (his Theorem 1, eqs. 10a-10c), with ``n_k`` the share of towns in group ``k``,
``Dbar_k`` the share of years it is treated, ``n_kl = n_k / (n_k + n_l)`` and ``V^D`` the variance
of the two-way demeaned ``D``:

* treated ``k`` vs never treated ``U``: ``s_kU = (n_k + n_U)^2 n_kU (1 - n_kU) Dbar_k (1 - Dbar_k) / V^D``;
* earlier ``k`` vs later ``l`` (before ``l`` is treated): ``s^k_kl = ((n_k + n_l)(1 - Dbar_l))^2
  n_kl (1 - n_kl) (Dbar_k - Dbar_l)/(1 - Dbar_l) (1 - Dbar_k)/(1 - Dbar_l) / V^D``;
* later ``l`` vs earlier ``k`` (already treated, as control): ``s^l_kl = ((n_k + n_l) Dbar_k)^2
  n_kl (1 - n_kl) (Dbar_l / Dbar_k) (Dbar_k - Dbar_l)/Dbar_k / V^D``.

The weights sum to 1 and ``sum s beta = b`` exactly. Towns treated from the first year are a
group with ``Dbar = 1`` (they only serve as controls). The "later vs earlier" terms are the
"forbidden comparisons" that bias ``b`` when effects change over time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cohorts import NEVER, EventDataError, build_panel

__all__ = ["bacon_decomposition"]


def _did(ybar, k, c, treat_years, base_years):
    """``(mean_k[treat] - mean_k[base]) - (mean_c[treat] - mean_c[base])`` on group means by year."""
    d = ybar[:, treat_years].mean(axis=1) - ybar[:, base_years].mean(axis=1)
    return d[k] - d[c]


def bacon_decomposition(data: pd.DataFrame, outcome: str, cohort: str, exit: str | None = "exit_year") -> pd.DataFrame:
    """2x2 DiD estimates and weights whose weighted sum is the two-way DiD coefficient.

    Parameters
    ----------
    data : DataFrame indexed by (``town_id``, ``year``) (or with those columns), balanced.
    outcome, cohort : as in :func:`models.event_study`.
    exit : exit-year column (treatment that switches off is refused), ``None`` to skip.

    Returns
    -------
    DataFrame with columns ``type``, ``treated``, ``control`` (cohort year, ``"never"``), ``estimate``,
    ``weight``; ``attrs["twfe"]`` holds ``sum(weight * estimate)``.
    """
    panel = build_panel(data, outcome, cohort, exit=exit, method="bacon", drop_always=False)
    missing = np.isnan(panel.y).any(axis=1)
    if missing.any():
        raise EventDataError(f"bacon_decomposition: the decomposition needs a balanced panel; {int(missing.sum())} "
                             f"towns miss {outcome!r} in some year, first: {list(panel.towns[missing][:8])}.")
    years, y, g = panel.years, panel.y, panel.cohort
    D = ((g[:, None] != NEVER) & (years[None, :] >= g[:, None])).astype(float)
    Dt = D - D.mean(axis=1, keepdims=True) - D.mean(axis=0, keepdims=True) + D.mean()
    VD = np.mean(Dt**2)
    if VD <= 0:
        raise EventDataError("bacon_decomposition: the treatment does not vary beyond town and year effects.")
    groups, inv = np.unique(g, return_inverse=True)
    share = np.bincount(inv) / len(g)
    ybar = np.vstack([y[inv == j].mean(axis=0) for j in range(len(groups))])
    Dbar = np.array([np.mean(years >= v) if v != NEVER else 0.0 for v in groups])
    rows = []
    never = np.nonzero(groups == NEVER)[0]
    treated = [j for j in range(len(groups)) if groups[j] != NEVER]
    for k in treated:
        if never.size and 0 < Dbar[k] < 1:
            u = never[0]
            nkU = share[k] / (share[k] + share[u])
            s = (share[k] + share[u]) ** 2 * nkU * (1 - nkU) * Dbar[k] * (1 - Dbar[k]) / VD
            b = _did(ybar, k, u, years >= groups[k], years < groups[k])
            rows.append(("treated vs never treated", groups[k], "never", b, s))
    for i, k in enumerate(treated):
        for j in treated[i + 1:]:
            nk, nl, dk, dl = share[k], share[j], Dbar[k], Dbar[j]
            nkl = nk / (nk + nl)
            mid = (years >= groups[k]) & (years < groups[j])
            if dk < 1:
                s = ((nk + nl) * (1 - dl)) ** 2 * nkl * (1 - nkl) * (dk - dl) / (1 - dl) * (1 - dk) / (1 - dl) / VD
                b = _did(ybar, k, j, mid, years < groups[k])
                rows.append(("earlier vs later treated", groups[k], str(groups[j]), b, s))
            s = ((nk + nl) * dk) ** 2 * nkl * (1 - nkl) * (dl / dk) * (dk - dl) / dk / VD
            b = _did(ybar, j, k, years >= groups[j], mid)
            kind = "later vs earlier treated" if dk < 1 else "later vs always treated"
            rows.append((kind, groups[j], str(groups[k]), b, s))
    out = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    out.attrs["twfe"] = float(out["weight"] @ out["estimate"])
    return out
