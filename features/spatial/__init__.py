"""Spatial weights between towns and spatial autocorrelation statistics.

Weights (:class:`SpatialWeights`: sparse, immutable, indexed by ``town_id``, row-standardized
by default) from coordinates on the sphere (:func:`knn_weights`, :func:`distance_band_weights`,
:func:`inverse_distance_weights`, :func:`kernel_weights`), from a table of ties
(:func:`links_weights`) and from the ownership network of a year (:func:`network_weights`).
Statistics: global Moran's I (:func:`moran`) and Geary's C (:func:`geary`) with analytic and
permutation inference, local Moran with cluster labels and a false discovery rate correction
(:func:`local_moran`), join counts of types (:func:`join_counts`). Conventions are those of
PySAL's esda 2.9 and R spdep 1.2-7 (docs/spatial.md). This package reads and writes no files.
"""

from .autocorrelation import GearyResult, MoranResult, geary, moran
from .build import (
    KERNELS,
    distance_band_weights,
    inverse_distance_weights,
    kernel_weights,
    knn_weights,
    links_weights,
    network_weights,
)
from .joins import JoinCountsResult, join_counts
from .local import CLUSTERS, benjamini_hochberg, local_moran
from .weights import TRANSFORMS, SpatialWeights, SpatialWeightsWarning, from_triplets

__all__ = [
    "CLUSTERS",
    "KERNELS",
    "TRANSFORMS",
    "GearyResult",
    "JoinCountsResult",
    "MoranResult",
    "SpatialWeights",
    "SpatialWeightsWarning",
    "benjamini_hochberg",
    "distance_band_weights",
    "from_triplets",
    "geary",
    "inverse_distance_weights",
    "join_counts",
    "kernel_weights",
    "knn_weights",
    "links_weights",
    "local_moran",
    "moran",
    "network_weights",
]
