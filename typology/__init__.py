"""Town typology and the toolkit's shell: reading datasets, typologies, run folders, reports, CLI."""

from . import persist
from .data.io import read_dataset, write_dataset
from .data.registry import aggregate_registry
from .data.synth import generate
from .estimator.period import town_rows
from .estimator.profiles import TypeProfiles
from .estimator.rules import Reconciliation, RuleTypology, reconcile
from .estimator.surrogate import Surrogate
from .estimator.transitions import Transitions, transitions
from .estimator.typology import TownTypology
from .exceptions import ModelFileError, ModelVersionWarning, TypologyWarning

__all__ = [
    "ModelFileError",
    "ModelVersionWarning",
    "Reconciliation",
    "RuleTypology",
    "Surrogate",
    "TownTypology",
    "Transitions",
    "TypeProfiles",
    "TypologyWarning",
    "aggregate_registry",
    "generate",
    "persist",
    "read_dataset",
    "reconcile",
    "town_rows",
    "transitions",
    "write_dataset",
]
