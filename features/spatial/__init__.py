"""Spatial weights between towns (:class:`SpatialWeights`)."""

from .weights import SpatialWeights

__all__ = ["SpatialWeights"]
