"""A commented starter configuration for a dataset folder (``typology init-config``)."""

from __future__ import annotations

from ._sections import DEFAULT_TYPOLOGY_FEATURES

__all__ = ["starter_config"]


def _starter_features(groups: list[str], has_population: bool) -> list[str]:
    """Typology features of a starter configuration: the study's defaults that ``groups`` supports,
    with specialization standing in for the corporate ties when there is no firm registry."""
    from features import data_dictionary

    group_of = data_dictionary()["group"]
    feats = [c for c in DEFAULT_TYPOLOGY_FEATURES if group_of[c] in groups
             and (c != "pop_growth" or has_population)]
    for extra in ("krugman", "lq_max", "hhi"):
        if "corporate" in groups and len(feats) >= 2:
            break
        if group_of[extra] in groups and extra not in feats and len(feats) < len(DEFAULT_TYPOLOGY_FEATURES) - 1:
            feats.append(extra)
    return feats


def _starter_formula(outcome: str, log: bool, groups: list[str]) -> str:
    lhs = f"log({outcome})" if log else outcome
    if "corporate" in groups and "agglomeration" in groups:
        rhs = "corp_share + core_control_share + corp_share:core_control_share"
    elif "corporate" in groups:
        rhs = "corp_share + external_control_share"
    else:
        rhs = "entropy + krugman"
    return f"{lhs} ~ {rhs}"


def starter_config(dataset: str, columns: list[str] | None = None, outcomes: list[str] | None = None,
                   groups: list[str] | None = None, unsupported: dict | None = None, has_population: bool = True,
                   log_outcome: dict | None = None) -> str:
    """A commented starter configuration for a dataset folder.

    ``groups``: the feature groups the dataset supports (default: all), ``unsupported``: the
    others with the reason (written as comments); the typology features are the study's
    defaults those groups support (``has_population``: outcomes.population is given, so
    ``pop_growth`` is meaningful). ``outcomes``: numeric outcome columns; the model uses
    ``avg_wage`` when present, else the first one (in logs when ``log_outcome[col]``, i.e. every
    value is positive); no outcome, no model.
    """
    import json

    from features.dictionary import GROUPS

    groups = list(GROUPS) if groups is None else list(groups)
    feats = _starter_features(groups, has_population)
    left = "".join(f"# left out: {g} ({why})\n" for g, why in (unsupported or {}).items())
    head = f'''# Town typology run configuration (TOML). Unknown keys are errors.
# Run it with:  typology fit THIS_FILE --out runs/my_run

[data]
# dataset folder (CSV or Parquet tables of the data contract), relative to this file
path = {json.dumps(str(dataset))}

[features]
# feature groups to build: those this dataset supports
{left}groups = {json.dumps(groups)}
# towns with at least this population are agglomeration cores when towns.is_core is absent
core_population = 250000
# market potential: sum_j pop_j * d_ij^-mp_beta (power) or exp(-mp_beta d_ij) (exponential)
mp_beta = 1.0
mp_decay = "power"

[typology]
# features that define the types (see `typology features --list`)
features = {json.dumps(feats)}
# one row per town: "last" (each town's latest year), a base year, or [first, last] averaged
period = "last"
# "towns": municipalities of kind town, agglomeration cores left out; "all": every municipality
sample = "towns"
# number of types: "auto" chooses it with evidence (see the report), or an integer
n_types = "auto"
# the run's seed: every random choice of the run (typology, bootstraps, models) derives from it
random_state = 0
'''
    outcomes = list(outcomes or [])
    if not outcomes:
        model = ("\n# no outcome columns in the dataset (outcomes table): no panel model. Add [[models]] tables\n"
                 "# once there are outcomes; see the README for their keys.\n")
    else:
        outcome = "avg_wage" if "avg_wage" in outcomes else outcomes[0]
        formula = _starter_formula(outcome, bool((log_outcome or {}).get(outcome, True)), groups)
        model = f'''
# panel regressions on features and outcomes; one [[models]] table per model
[[models]]
name = "main"
formula = {json.dumps(formula)}
estimator = "within"      # within, random, pooled, between, first_difference
effects = "twoway"        # entity, time, twoway or none
cov_type = "clustered"    # unadjusted, robust, clustered, driscoll_kraay, wild_bootstrap
cluster = "entity"        # entity, time, entity+time or a column name
'''
    if "dynamics" in groups:
        rhs = "corp_share + dist_core_km" if {"corporate", "agglomeration"} <= set(groups) else "entropy + krugman"
        model += f'''
# a discrete-choice model of the stagnation status (kind = "logit", "probit" or "mnlogit"):
# [[models]]
# name = "stagnation"
# kind = "logit"
# formula = "status ~ {rhs}"
# outcome_level = "stagnating"
'''
    if outcomes:
        lhs, rhs = (part.strip() for part in formula.split("~"))
        x1 = rhs.split("+")[0].strip()
        model += f'''
# a spatial panel model on the [spatial] weights (uncomment [spatial] above too):
# [[models]]
# name = "spillover"
# kind = "spatial"
# formula = "{lhs} ~ {x1} + W({x1})"
# model = "error"          # lag (SAR), error (SEM) or durbin (SDM); W(x) allowed in each
# effects = "twoway"       # or entity
# balance = "drop_towns"   # keep the towns observed in every year (default "require": refuse)
'''
    if "corporate" in groups and outcomes:
        lhs = f"log({outcome})" if bool((log_outcome or {}).get(outcome, True)) else outcome
        model += f'''
# an event study of corporate entry (a vertically integrated group takes over the town), each
# estimator side by side; the cohort is derived from the firm registry by year, or is a column
# of the outcomes (cohort = "entry_year": first treated year, 0 never):
# [[event_studies]]
# name = "entry"
# outcome = "{lhs}"
# cohort = {{rule = "share", threshold = 0.4, min_years = 2}}   # or rule = "anchor"
# methods = ["callaway_santanna", "sun_abraham", "imputation", "twfe"]
# n_boot = 999
'''
    spatial = f'''
# spatial structure of the towns (weights from towns.lat / lon): Moran's I, Geary's C and LISA of
# the variables for the typology's period, join counts of the types, Moran's I of the linear
# models' residuals by year; maps and Moran scatter plots in the report
# [spatial]
# weights = "knn"          # knn (k), distance_band or inverse_distance (km), kernel (bandwidth), links, network
# k = 6
# transform = "r"          # r (row-standardized), b (binary), o, d, v
# variables = {json.dumps(feats[:3])}
# permutations = 999
'''
    return head + spatial + model
