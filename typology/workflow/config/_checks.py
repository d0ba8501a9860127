"""The configuration's error, its messages, and the rule of every value.

A rule takes a value and returns ``None`` when it is valid, otherwise the text of what was
expected (``"an integer >= 1"``); :class:`Where` turns that into one message naming the file,
the section and key, what was expected and what was found.
"""

from __future__ import annotations

import math

__all__ = ["MAX_REPLICATES", "ConfigError", "Where", "boolean", "choice", "cohort_rules", "event_rules",
           "feature_groups", "feature_rules",
           "integer", "is_int", "level", "n_jobs", "number", "optional", "random_state", "show", "spatial_model_rules",
           "spatial_rules",
           "typology_rules"]

MAX_REPLICATES = 1_000_000  # bootstrap samples, references, halvings, restarts: beyond this a run never ends


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and what was expected."""


def show(v) -> str:
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "..."


class Where:
    """Builds the messages: ``FILE: [section] key: expected ...; found ...``."""

    def __init__(self, where: str):
        self.where = where

    def error(self, section: str, key: str | None, text: str) -> ConfigError:
        at = f"[{section}]" if section != "models" and not section.startswith("[") else section
        return ConfigError(f"{self.where}: {at}{' ' + key if key else ''}: {text}")

    def bad(self, section: str, key: str, expected: str, found) -> ConfigError:
        return self.error(section, key, f"expected {expected}; found {show(found)}")

    def table(self, section: str, value) -> dict:
        if not isinstance(value, dict):
            raise self.error(section, None, f"expected a table of keys; found {show(value)}")
        return dict(value)

    def unknown(self, section: str, got: dict, valid, listed=None) -> None:
        """Refuse keys of ``got`` outside ``valid``; the message lists ``listed`` (default ``valid``)."""
        bad = sorted(set(got) - set(valid), key=str)
        if bad:
            at = f"[{section}]" if not section.startswith("[") else section
            raise ConfigError(f"{self.where}: unknown key(s) {bad} in {at}; valid keys are "
                              f"{sorted(valid if listed is None else listed)}")

    def apply(self, section: str, values: dict, rules: dict) -> None:
        for key, rule in rules.items():
            if key in values:
                expected = rule(values[key])
                if expected is not None:
                    raise self.bad(section, key, expected, values[key])


# ------------------------------------------------------------------------ generic rules
def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def integer(lo: int, hi: int | None = None):
    text = f"an integer >= {lo}" if hi is None else f"an integer in {lo}..{hi:,}"
    return lambda v: None if is_int(v) and v >= lo and (hi is None or v <= hi) else text


def number(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False):
    if lo is not None and hi is not None:
        text = f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    elif lo is not None:
        text = f"a number {'>' if lo_open else '>='} {lo:g}"
    else:
        text = "a finite number"

    def rule(v):
        if not _is_num(v):
            return text
        if lo is not None and (v < lo or (lo_open and v == lo)):
            return text
        if hi is not None and (v > hi or (hi_open and v == hi)):
            return text
        return None
    return rule


def choice(*values):
    text = "one of " + ", ".join(f'"{v}"' if isinstance(v, str) else repr(v) for v in values)
    return lambda v: None if isinstance(v, str) and v in values else text


def boolean(v):
    return None if isinstance(v, bool) else "true or false"


def n_jobs(v):
    return None if v is None or (is_int(v) and (v == -1 or v >= 1)) else "a positive integer or -1 (every core)"


def scheduler(v):
    """A dask scheduler address (``tcp://host:port``, ``tls://host:port``) or ``local:N``."""
    from models.compute import scheduler_problem

    return scheduler_problem(v)


def optional(rule):
    return lambda v: None if v is None else rule(v)


def random_state(v):
    return None if is_int(v) and v >= 0 else \
        "an integer >= 0 (the run's seed; a run must be reproducible, so it cannot be left to chance)"


def level(v):
    return None if isinstance(v, str | int) and not isinstance(v, bool) else "a level of the outcome (string or integer)"


# ------------------------------------------------------------------------ [features]
def _log_base(v):
    return None if _is_num(v) and v > 0 and v != 1 else "a positive number other than 1 (logarithm base)"


def feature_groups(v):
    from features.dictionary import GROUPS

    if v is None:
        return None
    if not isinstance(v, list) or not v or not all(isinstance(g, str) for g in v):
        return f"a non-empty list of feature group names among {list(GROUPS)}"
    unknown = [g for g in v if g not in GROUPS]
    if unknown:
        return f"group names among {list(GROUPS)} (unknown: {unknown})"
    return None


def feature_rules() -> dict:
    """Rules of the ``[features]`` keys (the builder's own checks run after them)."""
    return {
        "groups": feature_groups,
        "core_population": number(0, lo_open=True),
        "base": _log_base,
        "missing": choice("omit", "raise"),
        "mp_beta": number(0, lo_open=True),
        "mp_decay": choice("power", "exponential"),
        "self_potential": boolean,
        "min_distance_km": optional(number(0, lo_open=True)),
        "vi_min_towns": integer(1),
        "vi_min_sections": integer(1),
        "network_links": boolean,
        "n_jobs": n_jobs,
    }


# ------------------------------------------------------------------------ [typology]
def _n_types(v):
    return None if (v == "auto" and isinstance(v, str)) or (is_int(v) and v >= 2) else '"auto" or an integer >= 2'


def _k_range(v):
    ok = v == "auto" or (isinstance(v, list | tuple) and len(v) == 2 and all(is_int(x) for x in v)
                         and 2 <= v[0] <= v[1])
    return None if ok else '"auto" or a pair [smallest, largest] of integers with 2 <= smallest <= largest'


def _n_init(v):
    return None if v == "auto" or (is_int(v) and 1 <= v <= MAX_REPLICATES) else \
        f'"auto" or an integer in 1..{MAX_REPLICATES:,}'


def _feature_transform(v):
    from ...estimator.transforms import TRANSFORMS

    if v is None or v in ("auto", "none"):
        return None
    if isinstance(v, dict) and all(isinstance(t, str) and t in TRANSFORMS for t in v.values()):
        return None
    return f'"auto", "none" or a table {{feature = transform}} with transforms among {list(TRANSFORMS)}'


def _scale(v):
    return None if v is None or v in ("standard", "robust", "none") else '"standard", "robust" or "none"'


def _period(v):
    if v == "last" or is_int(v):
        return None
    if isinstance(v, list | tuple) and len(v) == 2 and all(is_int(y) for y in v) and v[0] <= v[1]:
        return None
    return '"last", a year (integer), or [first, last] years with first <= last'


def typology_rules() -> dict:
    """Rules of the ``[typology]`` keys, old names (``transform``, ``n_jobs``) included."""
    from ...estimator.clustering import METHODS

    reps = integer(0, MAX_REPLICATES)
    return {
        "period": _period,
        "sample": choice("towns", "all"),
        "n_types": _n_types,
        "k_range": _k_range,
        "method": choice(*METHODS),
        "feature_transform": _feature_transform,
        "transform": _feature_transform,
        "scale": _scale,
        "share_eps": number(0, 0.5, lo_open=True, hi_open=True),
        "covariance_type": choice("full", "tied", "diag", "spherical"),
        "n_init": _n_init,
        "n_boot": reps,
        "n_ref": reps,
        "n_ps": reps,
        "min_jaccard": number(0, 1),
        "min_prediction_strength": number(0, 1),
        "atypical_alpha": number(0, 1, lo_open=True, hi_open=True),
        "ood_alpha": number(0, 1, lo_open=True, hi_open=True),
        "alpha": number(0, 1, lo_open=True, hi_open=True),
        "ood_neighbors": integer(1),
        "ood_margin": number(0, 1000),  # reference standard deviations
        "name_min_z": number(0),
        "name_terms": integer(1),
        "surrogate_depth": integer(1),
        "missing": choice("raise", "drop"),
        "random_state": random_state,
        "n_jobs": n_jobs,
    }


# ------------------------------------------------------------------------ [[event_studies]]
_COLUMN = r"[^\W\d]\w*"


def _outcome(v):
    import re

    ok = isinstance(v, str) and re.fullmatch(rf"\s*({_COLUMN}|log\(\s*{_COLUMN}\s*\))\s*", v)
    return None if ok else 'a column name or "log(column)"'


def _column(v):
    return None if isinstance(v, str) and v.strip() else "a column name"


def _cohort(v):
    if isinstance(v, dict) or (isinstance(v, str) and v.strip()):
        return None
    return ('a column of the outcomes table (first treated year, 0 never) or a table {rule = "anchor" | "share", '
            "threshold = ..., min_years = ...}")


def _methods(v):
    from models.event.study import METHODS

    text = f"a non-empty list of distinct methods among {list(METHODS)}"
    if not isinstance(v, list) or not v or not all(isinstance(m, str) for m in v) or len(set(v)) != len(v):
        return text
    unknown = [m for m in v if m not in METHODS]
    return f"{text} (unknown: {unknown})" if unknown else None


def _columns(v):
    return None if isinstance(v, list) and all(isinstance(c, str) and c.strip() for c in v) and \
        len(set(v)) == len(v) else "a list of distinct column names"


def event_rules() -> tuple[dict, dict]:
    """Rules of the ``[[event_studies]]`` keys and their defaults."""
    from models.event.study import CONTROLS, METHODS

    rules = {
        "outcome": _outcome, "cohort": _cohort, "methods": _methods, "control": choice(*CONTROLS),
        "n_boot": integer(0, MAX_REPLICATES), "leads": optional(integer(0)), "lags": optional(integer(0)),
        "covariates": _columns, "cluster": _column,
        "exit": optional(_column), "on_exit": choice("censor", "refuse"), "random_state": optional(random_state),
    }
    defaults = {"methods": list(METHODS), "control": "not_yet_treated", "n_boot": 999, "leads": None, "lags": None,
                "covariates": [], "cluster": "town_id", "exit": None, "on_exit": "censor", "random_state": None}
    return rules, defaults


def cohort_rules() -> dict:
    """Rules of a cohort table (``features.corporate_events`` arguments)."""
    from features.events import DENOMINATORS, EVENT_RULES, MISSING

    return {"rule": choice(*EVENT_RULES), "threshold": optional(number(0, 1, lo_open=True)),
            "min_years": integer(1), "event": choice("entry", "exit"), "missing": choice(*MISSING),
            "denominator": choice(*DENOMINATORS)}


# ------------------------------------------------------------------------ [spatial]
WEIGHT_KINDS = ("knn", "distance_band", "inverse_distance", "kernel", "links", "network")


def _variables(v):
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) and x.strip() for x in v):
        return "a list of feature or outcome column names"
    if len(set(v)) != len(v):
        return "a list of distinct column names"
    return None


def spatial_rules() -> dict:
    """Rules of the ``[spatial]`` keys (:class:`SpatialConfig`)."""
    from features.spatial import KERNELS, TRANSFORMS

    return {"weights": choice(*WEIGHT_KINDS), "k": integer(1), "km": number(0, lo_open=True),
            "bandwidth": number(0, lo_open=True), "kernel": choice(*KERNELS), "power": number(0, lo_open=True),
            "transform": choice(*TRANSFORMS), "ties": choice("control", "common_owner"), "variables": _variables,
            "permutations": integer(0, MAX_REPLICATES), "fdr": number(0, 1, lo_open=True), "joins": boolean,
            "residuals": boolean, "random_state": optional(random_state)}


def spatial_model_rules(balance: tuple) -> dict:
    """Rules of the keys of a ``[[models]]`` table of kind ``spatial`` (``models.fit_spatial_panel``)."""
    from models.spatial.panel import MODELS, SPATIAL_EFFECTS

    return {"model": choice(*MODELS), "effects": choice(*SPATIAL_EFFECTS), "balance": choice(*balance),
            "n_draws": integer(2, MAX_REPLICATES), "random_state": optional(random_state), "bias_correction": boolean,
            "method": choice("auto", "eigen", "lu"), "tol": number(0, 1, lo_open=True, hi_open=True)}
