"""Panel models of towns: specification, estimation, tests, tables and figures.

``PanelModelSpec`` (frozen) -> ``fit_panel_model(data, spec)`` -> read-only
``PanelModelResult``. Estimators: within (one-way, two-way), random effects (Swamy-Arora),
pooled, between, first differences; covariances with documented conventions (Stata's CRV1,
plm, two-way clustering, Driscoll-Kraay, wild cluster bootstrap). This package reads and
writes no files.
"""

from .estimation import AbsorbedRegressorError, CollinearityError, fit_panel_model
from .formula import FormulaError, parse_formula
from .results import PanelModelResult, WaldTest
from .spec import PanelModelSpec
from .specification import breusch_pagan, f_test_effects, hausman, mundlak_test, specification_tests

__all__ = [
    "AbsorbedRegressorError",
    "CollinearityError",
    "FormulaError",
    "PanelModelResult",
    "PanelModelSpec",
    "WaldTest",
    "breusch_pagan",
    "f_test_effects",
    "fit_panel_model",
    "hausman",
    "mundlak_test",
    "parse_formula",
    "specification_tests",
]
