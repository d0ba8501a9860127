"""Panel models of towns: specification, estimation, tests, tables and figures.

``PanelModelSpec`` (frozen) -> ``fit_panel_model(data, spec)`` -> read-only
``PanelModelResult``. Estimators: within (one-way, two-way), random effects (Swamy-Arora),
pooled, between, first differences, each one pure transformation looked up by name in
``models.estimators.ESTIMATORS``; covariances with documented conventions (Stata's CRV1,
plm, two-way clustering, Driscoll-Kraay, wild cluster bootstrap), each one function looked up
by name in ``models.covariance.COVARIANCES``. This package reads and writes no files.

Modules: ``spec`` (the specification), ``formula`` (formulas and the design), ``panel``
(town and year codes), ``sample`` (the rows kept), ``transforms`` (group means, demeaning),
``estimators`` (the estimator registry), ``covariance`` (the covariance registry and
formulas), ``clusters`` (cluster codes), ``bootstrap`` (wild cluster bootstrap), ``checks``
(degenerate outcomes, absorbed and collinear regressors), ``estimation``
(``fit_panel_model``), ``results``, ``specification`` (Hausman, Breusch-Pagan, F, Mundlak),
``discrete`` (logit, probit, multinomial logit), ``tables`` (regression tables, coefficient
plots), ``exceptions``, ``compute`` (where the resamplings run: local or a dask cluster,
``compute_backend``); ``spatial`` (``fit_spatial_panel``: spatial lag, error and Durbin panel
models by maximum likelihood, with their impacts).
"""

from . import fit_iv as _fit_iv  # noqa: F401  (registers the 'iv' estimator)
from . import fit_ppml as _fit_ppml  # noqa: F401  (registers the 'ppml' estimator)
from .bootstrap import wild_cluster_bootstrap
from .compute import ComputeBackend, ComputeBackendError, compute_backend
from .discrete import DiscreteModelResult, SeparationError, fit_discrete_model
from .estimation import fit_panel_model
from .event import EventDataError, EventStudyResult, bacon_decomposition, event_plot, event_study
from .exceptions import (
    AbsorbedRegressorError,
    BootstrapWarning,
    CollinearityError,
    DegenerateModelError,
    ModelWarning,
    SpecificationTestWarning,
)
from .formula import FormulaError, parse_formula
from .iv import FirstStage, IdentificationError, IVDiagnostics, IVTest
from .results import FitData, PanelModelResult, WaldTest
from .spatial import SpatialPanelResult, fit_spatial_panel
from .spec import PanelModelSpec
from .specification import breusch_pagan, f_test_effects, hausman, mundlak_test, specification_tests
from .tables import RegressionTable, coefplot, compare

__all__ = [
    "AbsorbedRegressorError",
    "BootstrapWarning",
    "CollinearityError",
    "ComputeBackend",
    "ComputeBackendError",
    "DegenerateModelError",
    "DiscreteModelResult",
    "EventDataError",
    "EventStudyResult",
    "FirstStage",
    "FitData",
    "IVDiagnostics",
    "IVTest",
    "IdentificationError",
    "FormulaError",
    "ModelWarning",
    "PanelModelResult",
    "PanelModelSpec",
    "RegressionTable",
    "SeparationError",
    "SpatialPanelResult",
    "SpecificationTestWarning",
    "WaldTest",
    "bacon_decomposition",
    "breusch_pagan",
    "coefplot",
    "compare",
    "compute_backend",
    "event_plot",
    "event_study",
    "f_test_effects",
    "fit_discrete_model",
    "fit_panel_model",
    "fit_spatial_panel",
    "hausman",
    "mundlak_test",
    "parse_formula",
    "specification_tests",
    "wild_cluster_bootstrap",
]
