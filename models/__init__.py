"""Panel models of towns: specification, estimation, tests, tables and figures.

``PanelModelSpec`` (frozen) -> ``fit_panel_model(data, spec)`` -> read-only
``PanelModelResult``. Estimators: within (one-way, two-way), random effects (Swamy-Arora),
pooled, between, first differences; covariances with documented conventions (Stata's CRV1,
plm, two-way clustering, Driscoll-Kraay, wild cluster bootstrap). This package reads and
writes no files.
"""

from .bootstrap import wild_cluster_bootstrap
from .discrete import DiscreteModelResult, SeparationError, fit_discrete_model
from .estimation import (
    AbsorbedRegressorError,
    CollinearityError,
    DegenerateModelError,
    fit_panel_model,
)
from .formula import FormulaError, parse_formula
from .results import (
    BootstrapWarning,
    FitData,
    ModelWarning,
    PanelModelResult,
    SpecificationTestWarning,
    WaldTest,
)
from .spec import PanelModelSpec
from .specification import breusch_pagan, f_test_effects, hausman, mundlak_test, specification_tests
from .tables import RegressionTable, coefplot, compare

__all__ = [
    "AbsorbedRegressorError",
    "BootstrapWarning",
    "CollinearityError",
    "DegenerateModelError",
    "DiscreteModelResult",
    "FitData",
    "FormulaError",
    "ModelWarning",
    "PanelModelResult",
    "PanelModelSpec",
    "RegressionTable",
    "SeparationError",
    "SpecificationTestWarning",
    "WaldTest",
    "breusch_pagan",
    "coefplot",
    "compare",
    "f_test_effects",
    "fit_discrete_model",
    "fit_panel_model",
    "hausman",
    "mundlak_test",
    "parse_formula",
    "specification_tests",
    "wild_cluster_bootstrap",
]
