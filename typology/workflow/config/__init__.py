"""Run configuration: a TOML file read with the standard library, checked whole into a tree of
frozen dataclasses before any computation.

Sections (every key optional except ``data.path``)::

    [data]
    path = "data/northern_towns"   # dataset folder, relative to the config file
    # firms = "/data/spark/firms"  # optional: a firm registry kept elsewhere, a folder of Parquet
    #                              # files read out of core (the registry extra)

    [features]
    groups = ["specialization", "diversification", "corporate", "agglomeration", "network", "dynamics"]
    core_population = 250000       # agglomeration cores when towns.is_core is absent
    ...                            # any FeatureBuilder parameter

    [typology]
    features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
    period = "last"                # "last", a base year, or [first, last] averaged
    sample = "towns"               # "towns" (kind town, cores left out) or "all"
    n_types = "auto"
    feature_transform = "auto"     # formerly transform (still accepted)
    random_state = 0               # the run's seed (an integer >= 0)
    ...                            # any TownTypology parameter

    [[models]]                     # a linear panel model (kind = "linear", the default)
    name = "wages"
    formula = "log(avg_wage) ~ corp_share + core_control_share + corp_share:core_control_share"
    estimator = "within"
    effects = "twoway"
    cov_type = "clustered"
    cluster = "entity"

    [[models]]                     # a discrete-choice model on the same town-year frame
    name = "stagnation"
    kind = "logit"                 # "logit", "probit" or "mnlogit" (models.fit_discrete_model)
    formula = "status ~ corp_share + core_control_share + dist_core_km"
    outcome_level = "stagnating"

    [[models]]                     # a spatial panel model on the [spatial] weights
    name = "wages_sdem"
    kind = "spatial"               # models.fit_spatial_panel (maximum likelihood, Lee-Yu correction)
    formula = "log(avg_wage) ~ corp_share + W(corp_share)"
    model = "error"                # "lag" (SAR), "error" (SEM) or "durbin" (SDM)
    effects = "twoway"             # or "entity"
    balance = "drop_towns"         # keep the towns observed in every year (default "require": refuse)
    n_draws = 1000                 # simulated standard errors of the impacts

    [[event_studies]]              # an event study of corporate entry, several estimators side by side
    name = "entry_wages"
    outcome = "log(avg_wage)"      # a column of the model frame, or log(column)
    cohort = {rule = "share", threshold = 0.4, min_years = 2}   # or a column: cohort = "entry_year"
    methods = ["callaway_santanna", "sun_abraham", "imputation", "twfe"]
    control = "not_yet_treated"    # or "never_treated"
    n_boot = 999                   # multiplier-bootstrap draws of the uniform bands
    leads = 5                      # event-time window (default: all observed)
    lags = 5

    [spatial]                      # spatial structure: weights, Moran's I, Geary's C, LISA, join counts
    weights = "knn"                # knn, distance_band, inverse_distance, kernel, links, network
    k = 6                          # km = ... (distance_band, inverse_distance), bandwidth = ... (kernel)
    transform = "r"                # r (row-standardized), b, o, d, v
    variables = ["entropy", "corp_share"]   # features or outcomes: Moran, Geary, LISA (typology period)
    permutations = 999

    [report]
    title = "Town typology report"

    [compute]                      # where the work runs, never what it computes
    n_jobs = 2                     # the typology's parallel workers (formerly [typology] n_jobs)
    backend = "dask"               # "local" (default, joblib) or "dask" (every resampling on a cluster)
    scheduler = "tcp://10.0.0.5:8786"   # or "tls://...", or "local:4" (a LocalCluster of 4 workers)
    n_workers = 8                  # workers to wait for (or to start when no scheduler is given)

The tree (:mod:`._tree`): :class:`RunConfig` holds :class:`DataConfig`, :class:`FeaturesConfig`,
:class:`TypologyConfig`, the models (:class:`LinearModelConfig` holding the built
``models.PanelModelSpec``, :class:`DiscreteModelConfig`), :class:`ReportConfig` and
:class:`ComputeConfig`. ``RunConfig.to_dict()`` is the resolved form (every default filled in)
that the run folder's manifest records; ``typology reproduce`` rebuilds the tree from it with
:func:`parse_config`, old names included, so a manifest written before a key was renamed still
reproduces.

Checks happen in two steps, both before any computation. :func:`parse_config` checks every
key of every section (type, range, choices; feature names against the data dictionary;
formulas parsed; each model's specification built, once): a bad value is a
:class:`ConfigError` naming the file, the section and key, what was expected and what was
found. What depends on the data (the feature groups it can support, the outcome columns, the
number of towns) is checked by :func:`typology.workflow.pipeline.check_config_against_data`
right after the dataset is read. Unknown sections and keys are errors that list the valid ones.

Seeds. ``[typology] random_state`` is the run's seed (default 0; it must be an integer, so
every run can be reproduced). The typology and the bootstrap of the transitions draw from it
directly; a model without its own ``random_state`` gets :func:`model_seed` of the run seed and
its name, written into the resolved configuration (an event study: :func:`event_seed`). Deriving from the name (not the position)
keeps a model's draws when models are added, removed or reordered.
"""

from ._checks import MAX_REPLICATES, ConfigError
from ._files import embedded_config, load_config
from ._sections import (
    DEFAULT_K_RANGE,
    DEFAULT_TYPOLOGY_FEATURES,
    DISCRETE_KINDS,
    EVENT_KEYS,
    MODEL_KINDS,
    NON_NUMERIC_FEATURES,
    OLD_NAMES,
    SECTIONS,
    SPATIAL_KEYS,
    event_seed,
    model_seed,
    parse_config,
    spatial_seed,
    valid_keys,
)
from ._starter import starter_config
from ._tree import (
    ComputeConfig,
    DataConfig,
    DiscreteModelConfig,
    EventStudyConfig,
    FeaturesConfig,
    LinearModelConfig,
    ReportConfig,
    RunConfig,
    SpatialConfig,
    SpatialModelConfig,
    TypologyConfig,
)

__all__ = ["DEFAULT_K_RANGE", "DEFAULT_TYPOLOGY_FEATURES", "DISCRETE_KINDS", "EVENT_KEYS", "MAX_REPLICATES",
           "MODEL_KINDS", "NON_NUMERIC_FEATURES", "OLD_NAMES", "SECTIONS", "SPATIAL_KEYS", "ComputeConfig", "ConfigError", "DataConfig",
           "DiscreteModelConfig", "EventStudyConfig", "FeaturesConfig", "LinearModelConfig", "ReportConfig", "RunConfig",
           "SpatialConfig", "SpatialModelConfig", "TypologyConfig", "embedded_config", "event_seed", "load_config", "model_seed", "parse_config",
           "spatial_seed", "starter_config", "valid_keys"]
