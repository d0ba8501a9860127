"""Diversification group: entropy of a town's sector shares and its decomposition.

Columns (:mod:`features.dictionary`): ``entropy``, ``related_variety``, ``unrelated_variety``,
``effective_sectors``. Requirements: employment only. Computation: in the shared pass over the
sector matrix, the kernels of :mod:`features.diversification` on each year's town shares, with
the fitted sector hierarchy (OKVED sections by default) and the builder's log ``base``;
``effective_sectors = 1 / HHI``. The entropy is shared with the dynamics group.
"""

from __future__ import annotations

import numpy as np

from ..dictionary import group_columns
from ..diversification import group_matrix, variety_rows
from .base import FeatureGroup, RowBlock, Scoring

__all__ = ["GROUP"]

NAME = "diversification"
COLUMNS = group_columns(NAME)


def _start(builder, n: int) -> dict:
    state = {c: np.full(n, np.nan) for c in COLUMNS}
    state["G"] = group_matrix(builder.sectors_, builder.hierarchy_)
    return state


def _fill(builder, state: dict, b: RowBlock) -> None:
    rows = b.rows
    ent, rv, uv = variety_rows(b.s, b.valid, state["G"], b.lf)
    b.entropy = ent  # the dynamics group reads the same entropy
    state["entropy"][rows] = ent
    state["related_variety"][rows] = rv
    state["unrelated_variety"][rows] = uv
    with np.errstate(divide="ignore"):
        state["effective_sectors"][rows] = 1.0 / b.hhi


def _compute(builder, scoring: Scoring) -> dict[str, np.ndarray]:
    state = scoring.state[NAME]
    return {c: state[c] for c in COLUMNS}


GROUP = FeatureGroup(NAME, _compute, needs=frozenset({"shares"}), start_rows=_start, fill_rows=_fill)
