"""Spatial econometric models of town panels.

``fit_spatial_panel`` (:mod:`models.spatial.panel`): fixed-effects spatial lag (SAR), error
(SEM) and Durbin (SDM) models by maximum likelihood with Lee and Yu's (2010) bias correction;
``impacts()`` of its result (:mod:`models.spatial.impacts`). The numbers are pure functions:
:mod:`~models.spatial.logdet` (log-determinants, solves, traces), :mod:`~models.spatial.likelihood`
(concentrated likelihoods, information matrices), :mod:`~models.spatial.impacts`.
"""

from .panel import fit_spatial_panel
from .results import SpatialPanelResult

__all__ = ["SpatialPanelResult", "fit_spatial_panel"]
