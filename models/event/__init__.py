"""Event studies and difference-in-differences with staggered adoption.

``event_study(data, outcome, cohort, method=...)`` -> read-only ``EventStudyResult``;
``bacon_decomposition`` (Goodman-Bacon 2021); ``event_plot`` (several estimators side by side).
Modules: ``cohorts`` (the validated panel), ``fe`` (two-way projection), ``drdid`` (the 2x2
estimators of a cell), ``callaway_santanna`` (ATT(g, t)), ``aggregate`` (``did::aggte``),
``regression`` (least squares with effects, CR1), ``twfe``, ``sun_abraham``, ``imputation``,
``bootstrap`` (multiplier bootstrap, sup-t, Wald), ``result``, ``study`` (``event_study``),
``bacon``, ``plot``.
"""

from .bacon import bacon_decomposition
from .cohorts import EventDataError
from .plot import event_plot
from .result import EventStudyResult
from .study import event_study

__all__ = ["EventDataError", "EventStudyResult", "bacon_decomposition", "event_plot", "event_study"]
