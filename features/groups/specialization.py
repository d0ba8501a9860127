"""Specialization group: how a town's sector mix departs from the national one of its year.

Columns (:mod:`features.dictionary`): ``lq_max``, ``leading_sector``, ``leading_share``,
``n_specialized``, ``krugman``, ``hhi``, ``hhi_norm``, ``theil``, ``hachman``, ``ogive``.
Requirements: employment only. Computation: in the shared pass over the sector matrix, each
year's town shares against that year's fitted national shares (complete cases), with the
kernels of :mod:`features.specialization`; ``k`` is the fitted sector universe.
"""

from __future__ import annotations

import numpy as np

from ..dictionary import group_columns
from ..specialization import (
    hachman_rows,
    krugman_rows,
    leading_rows,
    lq_rows,
    normalize_hhi,
    ogive_rows,
    theil_rows,
)
from .base import FeatureGroup, RowBlock, Scoring

__all__ = ["GROUP"]

NAME = "specialization"
COLUMNS = group_columns(NAME)
_FLOAT = [c for c in COLUMNS if c != "leading_sector"]


def _start(builder, n: int) -> dict:
    state = {c: np.full(n, np.nan) for c in _FLOAT}
    state["leading_sector"] = np.full(n, None, dtype=object)
    state["sector_names"] = np.asarray(builder.sectors_, dtype=object)
    return state


def _fill(builder, state: dict, b: RowBlock) -> None:
    rows, s, S, valid = b.rows, b.s, b.S, b.valid
    L = np.where(valid[:, None], lq_rows(s, S), np.nan)
    best, has, lq_max, share, n_spec = leading_rows(s, L, valid)
    state["leading_sector"][rows] = np.where(has, state["sector_names"][best], None)
    state["lq_max"][rows] = lq_max
    state["leading_share"][rows] = share
    state["n_specialized"][rows] = n_spec
    state["krugman"][rows] = krugman_rows(s, S, valid)
    state["theil"][rows] = theil_rows(s, S, valid)
    state["hachman"][rows] = hachman_rows(s, S, valid)
    state["ogive"][rows] = ogive_rows(s, valid, b.k)
    h = b.hhi
    state["hhi"][rows] = h
    state["hhi_norm"][rows] = normalize_hhi(h, b.k)


def _compute(builder, scoring: Scoring) -> dict[str, np.ndarray]:
    state = scoring.state[NAME]
    return {c: state[c] for c in COLUMNS}


GROUP = FeatureGroup(NAME, _compute, needs=frozenset({"shares"}), start_rows=_start, fill_rows=_fill)
