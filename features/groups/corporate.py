"""Corporate group: the weight of vertically integrated corporate groups in a town's employment.

Columns (:mod:`features.dictionary`): ``corp_share``, ``external_control_share``,
``core_control_share``, ``largest_employer_share``, ``n_groups``. Requirements: the firms and
groups tables. Computation: :func:`features.corporate.corporate_ties` on the scored firm-years
(groups classified at fit; new groups classified from the scored registry) against the town-years'
published employment and the fitted agglomeration cores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..corporate import corporate_ties
from ..dictionary import group_columns
from .base import FeatureGroup, Scoring

__all__ = ["GROUP"]

NAME = "corporate"
COLUMNS = group_columns(NAME)


def _unsupported(builder, data) -> str | None:
    if not data.has_firms or data.groups is None:
        return "needs the firms and groups tables"
    return None


def _compute(builder, scoring: Scoring) -> dict[str, np.ndarray]:
    panel = scoring.panel
    ct = corporate_ties(scoring.fy, pd.Series(panel.total, index=panel.index), builder.cores_)
    return {c: ct[c].to_numpy() for c in COLUMNS}


GROUP = FeatureGroup(NAME, _compute, needs=frozenset({"firms"}), unsupported=_unsupported)
