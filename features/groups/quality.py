"""Quality group: how much of each town-year's sector employment is published.

Column (:mod:`features.dictionary`): ``coverage``, the share of the town's reported sector
cells (positive or suppressed) that are published. Always built (not selectable): it is
computed with the panel itself (:meth:`features.FeatureBuilder` panel pass).
"""

from __future__ import annotations

import numpy as np

from .base import FeatureGroup, Scoring

__all__ = ["GROUP"]

NAME = "quality"


def _compute(builder, scoring: Scoring) -> dict[str, np.ndarray]:
    return {"coverage": scoring.panel.coverage}


GROUP = FeatureGroup(NAME, _compute, selectable=False)
