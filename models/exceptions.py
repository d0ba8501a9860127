"""The errors and warnings of the models package (imported by every module that raises them)."""

from __future__ import annotations

__all__ = [
    "AbsorbedRegressorError",
    "BootstrapWarning",
    "CollinearityError",
    "ConvergenceError",
    "DegenerateModelError",
    "ModelWarning",
    "SpecificationTestWarning",
]


class AbsorbedRegressorError(ValueError):
    """Regressors that the model's effects absorb (for example time-invariant under town effects)."""


class CollinearityError(ValueError):
    """Regressors that are linear combinations of the others."""


class ConvergenceError(ValueError):
    """An iterative algorithm (the demeaning by fixed effects, the IRLS of a Poisson model) reached
    its iteration limit before its tolerance (named, with the effect or the criterion)."""


class DegenerateModelError(ValueError):
    """An outcome that leaves nothing to estimate: missing in every row, constant, or constant
    once the model's effects are removed (named, with what to do instead)."""


class ModelWarning(UserWarning):
    """A fitted model or test returned numbers that need the user's attention (said why)."""


class SpecificationTestWarning(ModelWarning):
    """A specification test's assumptions fail in this sample (e.g. ``V_W - V_R`` not positive definite)."""


class BootstrapWarning(ModelWarning):
    """The wild cluster bootstrap cannot deliver what was asked (e.g. an interval bound with few clusters)."""
