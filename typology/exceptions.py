"""Warnings and errors of the typology stage."""

from __future__ import annotations

__all__ = ["ModelFileError", "ModelVersionWarning", "TypologyWarning"]


class TypologyWarning(UserWarning):
    """Something the analyst should know about a typology: rows left out, weak evidence for k."""


class ModelVersionWarning(UserWarning):
    """A saved object was written with other versions of scikit-learn (or numpy, pandas)."""


class ModelFileError(ValueError):
    """A model file that is not one, was modified or truncated, is not the recorded file, is of the
    older pickle-based format, or names a type or value a model file may not hold (see
    :mod:`typology.persist`)."""
