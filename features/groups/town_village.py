"""Town-village group: a town's ties with the rural municipalities around it.

Columns (:mod:`features.dictionary`): ``rural_reach`` and, when a links table was fitted,
``rural_links``. Requirements: rural municipalities (``towns.kind == "rural"``) and the firms and
groups tables or the links table. Computation: employment in rural municipalities controlled
from the town (the scored ownership network) over the town's own employment; link weights
between the town and rural municipalities, either direction, per year (undated links hold in
every year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..dictionary import group_columns
from ..panel import member, row_positions
from .base import FeatureGroup, Scoring, sum_at

__all__ = ["GROUP"]

NAME = "town_village"
COLUMNS = group_columns(NAME, ("links",))


def _unsupported(builder, data) -> str | None:
    kinds = data.towns["kind"] if "kind" in data.towns.columns else pd.Series([], dtype=str)
    if not (kinds == "rural").any():
        return "needs rural municipalities (towns.kind == 'rural')"
    if (not data.has_firms or data.groups is None) and data.links is None:
        return "needs the firms and groups tables or the links table"
    return None


def _compute(builder, scoring: Scoring) -> dict[str, np.ndarray]:
    E, towns, edges, links = scoring.rows, scoring.towns, scoring.edges, scoring.links
    total = scoring.panel.total
    out: dict[str, np.ndarray] = {}
    n = len(E)
    kind = towns["kind"] if "kind" in towns.columns else pd.Series("town", index=towns.index)
    rural = kind.index[(kind == "rural").to_numpy()]
    if edges is not None:
        keep = (edges["source"] != edges["target"]).to_numpy() & member(edges["target"], rural)
        at = row_positions(E.index, edges["source"][keep], edges["year"].to_numpy()[keep])
        r = sum_at(at, edges["weight"].to_numpy(dtype=float)[keep], n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["rural_reach"] = np.where(total > 0, r / np.where(total > 0, total, 1.0), np.nan)
    else:
        out["rural_reach"] = np.full(n, np.nan)
    if builder.links_ is not None:
        out["rural_links"] = _rural_links(E, links, rural)
    return out


def _rural_links(E: pd.DataFrame, links: pd.DataFrame, rural: pd.Index) -> np.ndarray:
    """Sum of link weights between each town-year and rural municipalities, credited to the town end."""
    n = len(E)
    lk = links[(links["source"] != links["target"]).to_numpy()]
    to_rural, from_rural = member(lk["target"], rural), member(lk["source"], rural)
    town = pd.concat([lk["source"][to_rural], lk["target"][from_rural]])  # the town end of each tie
    w = np.r_[lk["weight"].to_numpy(dtype=float)[to_rural], lk["weight"].to_numpy(dtype=float)[from_rural]]
    if "year" in lk.columns:
        year = np.r_[lk["year"].to_numpy()[to_rural], lk["year"].to_numpy()[from_rural]]
        return sum_at(row_positions(E.index, town, year), w, n)
    level = E.index.levels[0]  # ties without a year hold in every year
    by_town = sum_at(level.get_indexer(town), w, len(level))
    return by_town[E.index.codes[0]]


GROUP = FeatureGroup(NAME, _compute, needs=frozenset({"firms", "edges", "links"}), unsupported=_unsupported)
