"""Network group: a town's position in the ownership network of its year.

Columns (:mod:`features.dictionary`): ``pagerank``, ``hub``, ``authority``, ``betweenness``.
Requirements: the firms and groups tables, or a links table with ``network_links=True``.
Computation: one directed network per year, weighted by employees (plus the links table's
weights with ``network_links``), over every reference municipality; the scored town-years'
incoming ties replace theirs (:func:`features.connectivity.ownership_centrality`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..connectivity import ownership_centrality
from ..dictionary import group_columns
from ..panel import positions
from .base import FeatureGroup, Scoring

__all__ = ["GROUP"]

NAME = "network"
COLUMNS = group_columns(NAME)


def _unsupported(builder, data) -> str | None:
    if (not data.has_firms or data.groups is None) and (data.links is None or not builder.network_links):
        return "needs the firms and groups tables (or links)"
    return None


def _compute(builder, scoring: Scoring) -> dict[str, np.ndarray]:
    E, towns, edges = scoring.rows, scoring.towns, scoring.edges
    ids = E.index.get_level_values("town_id")
    years = E.index.get_level_values("year").to_numpy()
    lk = scoring.links if builder.network_links else None
    nodes = list(towns.index)
    res = {c: np.full(len(E), np.nan) for c in COLUMNS}
    for y in np.unique(years):  # one network per year; the work inside is vectorized
        parts = []
        if edges is not None:
            parts.append(edges.loc[edges["year"] == y, ["source", "target", "weight"]])
        if lk is not None:
            sel = lk[lk["year"] == y] if "year" in lk.columns else lk
            parts.append(sel[["source", "target", "weight"]])
        ed = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["source", "target", "weight"])
        ed = ed[ed["weight"] > 0]
        c = ownership_centrality(ed, nodes=nodes)
        rows = np.flatnonzero(years == y)
        pos = positions(c.index, ids[rows])
        for col in COLUMNS:
            res[col][rows] = c[col].to_numpy()[pos]
    return res


GROUP = FeatureGroup(NAME, _compute, needs=frozenset({"firms", "edges", "links"}), unsupported=_unsupported)
