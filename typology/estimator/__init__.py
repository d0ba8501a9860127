"""The typology estimator and its parts (never imports the shell: data, workflow, CLI).

``TownTypology`` (a scikit-learn estimator) and what it is made of: transforms of the features,
partitions (:mod:`.clustering`), the evidence for the number of types (:mod:`.selection`,
:mod:`.indices`), bootstrap stability, profiles, names, the surrogate tree, seeds and parallel
tasks; plus transparent rule typologies, transitions between types over time and the
one-row-per-town periods of a panel.
"""

from .clustering import Partition
from .period import town_rows
from .profiles import TypeProfiles
from .rules import Reconciliation, RuleTypology, reconcile
from .surrogate import Surrogate
from .transforms import TransformPlan
from .transitions import Transitions, transitions
from .typology import TownTypology

__all__ = [
    "Partition",
    "Reconciliation",
    "RuleTypology",
    "Surrogate",
    "TownTypology",
    "TransformPlan",
    "Transitions",
    "TypeProfiles",
    "reconcile",
    "town_rows",
    "transitions",
]
