"""Feature groups, one module each: the unit of the feature table.

Each module holds one :class:`~features.groups.base.FeatureGroup` (``GROUP``): its columns
(the entries of :data:`features.dictionary.FEATURES` with its name), its requirements and the
computation that turns the shared panel into its columns by calling the index kernels of
:mod:`features.specialization`, :mod:`features.diversification`, :mod:`features.corporate`,
:mod:`features.connectivity` and :mod:`features.dynamics`. :data:`REGISTRY` lists them in the
order of the feature table's columns; the builder (:class:`features.FeatureBuilder`) plans,
fits and computes them in that order.

Adding a feature group: a module here with its ``GROUP``, its entry in :data:`REGISTRY` and in
:data:`features.dictionary.GROUPS`, its columns in :data:`features.dictionary.FEATURES`, and
its tests.
"""

from __future__ import annotations

from . import (
    agglomeration,
    corporate,
    diversification,
    dynamics,
    network,
    quality,
    specialization,
    town_village,
)
from .base import FeatureGroup, Panel, RowBlock, Scoring

__all__ = ["REGISTRY", "FeatureGroup", "Panel", "RowBlock", "Scoring", "group"]

#: Every feature group, in the order of the feature table's columns (``quality`` last, always built).
REGISTRY: tuple[FeatureGroup, ...] = (
    specialization.GROUP,
    diversification.GROUP,
    corporate.GROUP,
    agglomeration.GROUP,
    town_village.GROUP,
    network.GROUP,
    dynamics.GROUP,
    quality.GROUP,
)

_BY_NAME = {g.name: g for g in REGISTRY}


def group(name: str) -> FeatureGroup:
    """The feature group called ``name``."""
    return _BY_NAME[name]
