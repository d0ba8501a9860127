"""The warning and the error the feature builder raises about its results."""

from __future__ import annotations

__all__ = ["FeatureValueError", "FeatureWarning"]


class FeatureWarning(UserWarning):
    """Something about the data that changes what a feature means (skipped group, year mapped,
    rows left out)."""


class FeatureValueError(ValueError):
    """A feature could not be computed in floating point (an overflow or an invalid operation
    that no kernel expects), or came out outside the range its definition allows. No feature
    table is returned: a wrong number is never passed on with a warning."""
