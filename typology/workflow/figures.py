"""Figures of the report (matplotlib, Agg backend): each function returns a Figure."""

from __future__ import annotations

import base64
import io
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..estimator.stability import HIGHLY_STABLE, VALID

__all__ = ["LISA_COLORS", "heatmap", "label_colours", "lisa_map", "map_of_types", "moran_scatter", "png_bytes", "relative_luminance",
           "selection_plot", "stability_plot", "to_data_uri"]

_PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
            "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6"]


def png_bytes(fig, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():  # long labels: matplotlib warns that a margin cannot fit them
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _tight(fig) -> None:
    """``tight_layout`` without the warning it gives when long type names cannot fit (the
    figure is saved with ``bbox_inches="tight"``, which keeps them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()


def to_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


SELECTION_INDICES = ("silhouette", "calinski_harabasz", "davies_bouldin", "gap", "bic", "jaccard_min",
                     "prediction_strength")


def selection_plot(selection: pd.DataFrame, chosen: int | None = None, words: dict | None = None):
    """One small panel per k-selection index (rows = k): the indices that vote, stability and
    prediction strength (``words``: the title's words in the report's language)."""
    w = {"selection.suptitle": "Evidence for the number of types", "chosen": "chosen k = {k}", **(words or {})}
    cols = [c for c in SELECTION_INDICES if c in selection.columns and selection[c].notna().any()]
    n = max(1, len(cols))
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow), squeeze=False)
    ks = selection.index.to_numpy()
    for ax, c in zip(axes.ravel(), cols, strict=False):
        ax.plot(ks, selection[c].to_numpy(dtype=float), marker="o", color="#333333")
        if chosen is not None:
            ax.axvline(chosen, color="#d95f02", ls="--", lw=1)
        ax.set_title(c, fontsize=9)
        ax.set_xlabel("k", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(cols):]:
        ax.axis("off")
    fig.suptitle(w["selection.suptitle"] + (" (" + w["chosen"].format(k=chosen) + ")" if chosen else ""), fontsize=10)
    _tight(fig)
    return fig


def stability_plot(jaccard: pd.Series, names: dict | None = None, xlabel: str | None = None):
    """Mean bootstrap Jaccard per type with Hennig's 0.75 (valid) and 0.85 (highly stable) lines."""
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(jaccard)))
    labels = [f"{k}: {names.get(k, '')}" if names else str(k) for k in jaccard.index]
    ax.barh(labels, jaccard.to_numpy(dtype=float), color=[_PALETTE[i % len(_PALETTE)] for i in range(len(jaccard))])
    for x, ls in ((VALID, "--"), (HIGHLY_STABLE, ":")):
        ax.axvline(x, color="#333333", ls=ls, lw=1)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or "mean bootstrap Jaccard (Hennig: >= 0.75 valid, >= 0.85 highly stable)", fontsize=8)
    ax.tick_params(labelsize=8)
    _tight(fig)
    return fig


def heatmap(values: pd.DataFrame, title: str, center: float | None = 0.0, fmt: str = "{:.2f}", cmap: str = "RdBu_r"):
    """Annotated heatmap (rows x columns), symmetric colour scale around ``center``."""
    v = values.to_numpy(dtype=float)
    label_width = 0.075 * max((len(str(i)) for i in values.index), default=4)
    fig, ax = plt.subplots(figsize=(label_width + max(4.5, 1.3 * values.shape[1]), 1.2 + 0.55 * values.shape[0]))
    if center is not None and np.isfinite(v).any():
        lim = np.nanmax(np.abs(v - center)) or 1.0
        im = ax.imshow(v, cmap=cmap, vmin=center - lim, vmax=center + lim, aspect="auto")
    else:
        im = ax.imshow(v, cmap="Blues", aspect="auto")
    ax.set_xticks(range(values.shape[1]), [str(c) for c in values.columns], rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(values.shape[0]), [str(i) for i in values.index], fontsize=8)
    colours = label_colours(im.cmap(im.norm(np.nan_to_num(v))))
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            if np.isfinite(v[i, j]):
                ax.text(j, i, fmt.format(v[i, j]), ha="center", va="center", fontsize=7, color=colours[i, j])
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=10)
    _tight(fig)
    return fig


def relative_luminance(rgba: np.ndarray) -> np.ndarray:
    """WCAG 2.1 relative luminance ``L = 0.2126 R + 0.7152 G + 0.0722 B`` of linearized sRGB
    (``c / 12.92`` up to 0.04045, ``((c + 0.055) / 1.055)^2.4`` above) of colours in [0, 1]."""
    c = np.asarray(rgba, dtype=float)[..., :3]
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def label_colours(rgba: np.ndarray) -> np.ndarray:
    """Black or white text for cells of colours ``rgba``: whichever contrasts more (WCAG 2.1
    contrast ratio ``(L1 + 0.05) / (L2 + 0.05)``; white wins below ``L = 0.179``)."""
    return np.where(relative_luminance(rgba) < 0.179, "white", "black")


def _projected(towns: pd.DataFrame, proj) -> pd.DataFrame:
    x, y = proj(towns["lat"].to_numpy(dtype=float), towns["lon"].to_numpy(dtype=float))
    return pd.DataFrame({"x": x, "y": y}, index=towns.index)


def _draw_boundaries(ax, boundaries: dict | None, proj, colors: dict | None = None) -> None:
    """Outlines (and fills, from ``colors``: town_id -> colour) of the boundary polygons:
    ``boundaries`` maps town_id to a list of polygons, each a list of rings of (lon, lat)."""
    from matplotlib.collections import PolyCollection

    if not boundaries:
        return
    verts, faces = [], []
    for tid, polygons in boundaries.items():
        for poly in polygons:
            for ring in poly:
                r = np.asarray(ring, dtype=float)
                x, y = proj(r[:, 1], r[:, 0])
                verts.append(np.column_stack([x, y]))
                faces.append((colors or {}).get(tid, "none"))
    ax.add_collection(PolyCollection(verts, facecolors=faces, edgecolors="#888888", linewidths=0.3, alpha=0.35,
                                     zorder=0))


def _map_axes(ax, proj) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(proj.name, fontsize=7)


def map_of_types(towns: pd.DataFrame, types: pd.Series, names: dict | None = None, boundaries: dict | None = None,
                 words: dict | None = None):
    """Towns coloured by type, cores as black stars, other municipalities as small grey dots, in
    the projection suited to the extent (:func:`typology.workflow.projection.projector`:
    longitudes unwrapped around the central meridian, so nothing wraps at 180 degrees);
    boundary polygons drawn when given (``boundaries``: town_id -> polygons of (lon, lat) rings)."""
    from .projection import projector

    w = {"not_typed": "not typed", "core": "agglomeration core", "map.title": "Towns by type", **(words or {})}
    proj = projector(towns["lat"], towns["lon"])
    xy = _projected(towns, proj)
    fig, ax = plt.subplots(figsize=(9, 5.4))
    order = {k: i for i, k in enumerate(sorted(types.unique()))}
    colors = {str(t): _PALETTE[order[k] % len(_PALETTE)] for t, k in types.items()}
    _draw_boundaries(ax, boundaries, proj, colors)
    other = xy[~xy.index.isin(types.index)]
    ax.scatter(other["x"], other["y"], s=4, color="#bbbbbb", label=w["not_typed"], zorder=1)
    for k, idx in types.groupby(types).groups.items():
        t = xy.loc[xy.index.intersection(idx)]
        lab = f"{k}: {names.get(k, '')}" if names else str(k)
        ax.scatter(t["x"], t["y"], s=14, color=_PALETTE[order[k] % len(_PALETTE)], label=lab, zorder=2)
    if "is_core" in towns.columns:
        c = xy[towns["is_core"].astype(bool).to_numpy()]
        ax.scatter(c["x"], c["y"], s=120, marker="*", color="black", label=w["core"], zorder=3)
    _map_axes(ax, proj)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(w["map.title"], fontsize=10)
    _tight(fig)
    return fig


#: colours of the LISA clusters (GeoDa's convention)
LISA_COLORS = {"high-high": "#d7191c", "low-low": "#2c7bb6", "high-low": "#fdae61", "low-high": "#abd9e9",
               "not significant": "#dddddd"}


def lisa_map(towns: pd.DataFrame, clusters: pd.Series, variable: str, boundaries: dict | None = None):
    """LISA cluster map of ``variable``: high-high, low-low, high-low, low-high and not significant
    towns (``clusters``: town_id -> label) in the projection suited to the extent."""
    from .projection import projector

    proj = projector(towns["lat"], towns["lon"])
    xy = _projected(towns, proj)
    fig, ax = plt.subplots(figsize=(9, 5.4))
    _draw_boundaries(ax, boundaries, proj, {str(t): LISA_COLORS.get(c, "none") for t, c in clusters.items()})
    other = xy[~xy.index.isin(clusters.index)]
    ax.scatter(other["x"], other["y"], s=3, color="#eeeeee", zorder=1)
    for label, color in LISA_COLORS.items():
        ids = clusters.index[clusters == label]
        t = xy.loc[xy.index.intersection(ids)]
        ax.scatter(t["x"], t["y"], s=10 if label == "not significant" else 22, color=color,
                   edgecolors="#555555" if label != "not significant" else "none", linewidths=0.3,
                   label=f"{label} ({len(t)})", zorder=2 if label == "not significant" else 3)
    _map_axes(ax, proj)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(f"LISA clusters of {variable}", fontsize=10)
    _tight(fig)
    return fig


def moran_scatter(values: pd.Series, lag: pd.Series, variable: str, moran_i: float | None = None):
    """Moran scatter plot (Anselin 1996): the standardized value ``z`` against its spatial lag
    ``W z``; the least-squares line through the origin has slope Moran's I (row-standardized
    weights)."""
    z = values.to_numpy(dtype=float)
    wz = lag.reindex(values.index).to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.scatter(z, wz, s=10, color="#444444", alpha=0.7)
    ax.axhline(0, color="#999999", lw=0.8)
    ax.axvline(0, color="#999999", lw=0.8)
    slope = float(np.dot(z, wz) / np.dot(z, z)) if np.dot(z, z) > 0 else np.nan
    if np.isfinite(slope):
        xs = np.array([np.nanmin(z), np.nanmax(z)])
        ax.plot(xs, slope * xs, color="#d7191c", lw=1.2)
    ax.set_xlabel(f"{variable} (standardized)", fontsize=8)
    ax.set_ylabel(f"spatial lag of {variable}", fontsize=8)
    shown = moran_i if moran_i is not None else slope
    ax.set_title(f"Moran scatter plot of {variable}: I = {shown:.3f}", fontsize=9)
    ax.tick_params(labelsize=7)
    _tight(fig)
    return fig
