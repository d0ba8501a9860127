"""Indices of towns: specialization, diversification, concentration, relatedness, connectivity,
corporate ties, dynamics; corporate entry and exit events from the firm registry
(:func:`corporate_events`); spatial weights and autocorrelation (:mod:`features.spatial`).

Pure functions take an employment matrix (rows = towns or town-years, columns = sectors,
``NaN`` = suppressed) and return a Series or DataFrame with the same row labels;
:class:`FeatureBuilder` turns a :class:`TownData` into the feature table of DESIGN.md
section 5, orchestrating the feature groups (:mod:`features.groups`, one module each) whose
columns the registry :mod:`features.dictionary` describes. This package reads and writes no files.
"""

from . import (
    concentration,
    connectivity,
    corporate,
    dictionary,
    diversification,
    dynamics,
    events,
    firm_registry,
    groups,
    relatedness,
    rosstat,
    sectors,
    spatial,
    specialization,
)
from .builder import (
    FeatureBuilder,
    FeatureValueError,
    FeatureWarning,
    build_features,
    stagnation_status,
)
from .data import TownData
from .dictionary import data_dictionary
from .events import corporate_events, join_cohort
from .firm_registry import RegistryAggregates, aggregate_firms
from .panel import employment_matrix
from .validation import DataValidationError, Problem

__all__ = [
    "DataValidationError",
    "FeatureBuilder",
    "FeatureValueError",
    "FeatureWarning",
    "Problem",
    "RegistryAggregates",
    "TownData",
    "aggregate_firms",
    "build_features",
    "concentration",
    "connectivity",
    "corporate",
    "corporate_events",
    "data_dictionary",
    "dictionary",
    "diversification",
    "dynamics",
    "employment_matrix",
    "events",
    "firm_registry",
    "groups",
    "join_cohort",
    "relatedness",
    "rosstat",
    "sectors",
    "spatial",
    "specialization",
    "stagnation_status",
]
