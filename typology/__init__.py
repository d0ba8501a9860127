"""Town typology and the toolkit's shell: reading datasets, typologies, run folders, reports, CLI."""

from . import persist
from .estimator import TownTypology
from .exceptions import ModelFileError, ModelVersionWarning, TypologyWarning
from .io import read_dataset, write_dataset
from .period import town_rows
from .profiles import TypeProfiles
from .rules import Reconciliation, RuleTypology, reconcile
from .surrogate import Surrogate
from .synth import generate
from .transitions import Transitions, transitions

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
    "generate",
    "persist",
    "read_dataset",
    "reconcile",
    "town_rows",
    "transitions",
    "write_dataset",
]
