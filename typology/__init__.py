"""Town typology and the toolkit's shell: reading datasets, typologies, run folders, reports, CLI.

The public names load on first use (PEP 562), so that a command line call or ``import
typology`` does not pay for scikit-learn, statsmodels and matplotlib before it needs them.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ComputeBackend": "models.compute",
    "ModelFileError": ".exceptions",
    "ModelVersionWarning": ".exceptions",
    "Reconciliation": ".estimator.rules",
    "RuleTypology": ".estimator.rules",
    "Surrogate": ".estimator.surrogate",
    "compute_backend": "models.compute",
    "TownTypology": ".estimator.typology",
    "Transitions": ".estimator.transitions",
    "TypeProfiles": ".estimator.profiles",
    "TypologyWarning": ".exceptions",
    "aggregate_registry": ".data.registry",
    "generate": ".data.synth",
    "persist": None,
    "read_dataset": ".data.io",
    "reconcile": ".estimator.rules",
    "town_rows": ".estimator.period",
    "transitions": ".estimator.transitions",
    "write_dataset": ".data.io",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'typology' has no attribute {name!r}")
    where = _EXPORTS[name]
    value = importlib.import_module(f".{name}" if where is None else where, __name__)
    if where is not None:
        value = getattr(value, name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
