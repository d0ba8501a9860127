"""Warnings and errors of the typology stage."""

from __future__ import annotations

__all__ = ["ModelFileError", "ModelVersionWarning", "TypologyWarning"]


class TypologyWarning(UserWarning):
    """Something the analyst should know about a typology: rows left out, weak evidence for k."""


class ModelVersionWarning(UserWarning):
    """A saved object was written with other versions of scikit-learn (or numpy, pandas)."""


class ModelFileError(ValueError):
    """A saved model file is not a model file, was modified, or was truncated."""
