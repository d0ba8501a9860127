"""Event-study plots: several estimators side by side (matplotlib, no display needed)."""

from __future__ import annotations

import numpy as np

__all__ = ["event_plot"]


def event_plot(results, ax=None, offset: float = 0.12, shade_pre: bool = True, title: str | None = None):
    """Estimates by event time with pointwise intervals (bars) and uniform bands (boxes).

    Parameters
    ----------
    results : an ``EventStudyResult``, a list of them, or a dict ``{label: result}``.
    ax : matplotlib Axes (a new figure when None; works under the Agg backend).
    offset : horizontal shift between estimators at one event time.
    shade_pre : shade the pre-period (event times before ``-anticipation``).

    Returns
    -------
    The Axes. Bounds that are not finite (no standard error, no bootstrap) are not drawn.
    """
    import matplotlib.pyplot as plt

    if hasattr(results, "dynamic"):
        results = {results.method: results}
    elif not isinstance(results, dict):
        results = {r.method: r for r in results}
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    k = len(results)
    lo_e = np.inf
    for j, (label, res) in enumerate(results.items()):
        d = res.dynamic
        x = d.index.to_numpy(dtype=float) + (j - (k - 1) / 2) * offset
        color = f"C{j}"
        ax.plot(x, d["estimate"], "o-", color=color, label=label, ms=4, lw=1)
        ok = np.isfinite(d["ci_lower"]).to_numpy()
        ax.vlines(x[ok], d["ci_lower"][ok], d["ci_upper"][ok], color=color, lw=1.5)
        band = np.isfinite(d["band_lower"]).to_numpy()
        for xi, b0, b1 in zip(x[band], d["band_lower"][band], d["band_upper"][band], strict=True):
            ax.add_patch(plt.Rectangle((xi - offset / 3, b0), 2 * offset / 3, b1 - b0, color=color, alpha=0.25, lw=0))
        lo_e = min(lo_e, float(d.index.min()) if len(d) else np.inf)
        ant = res.anticipation
    ax.axhline(0, color="black", lw=0.8)
    if shade_pre and np.isfinite(lo_e) and lo_e < -ant:
        ax.axvspan(lo_e - 0.5, -ant - 0.5, color="0.9", zorder=0, label="pre-period")
    ax.set_xlabel("event time (years since treatment)")
    ax.set_ylabel("effect")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return ax
