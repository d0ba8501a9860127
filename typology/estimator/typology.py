"""``TownTypology``: a typology of towns as one scikit-learn estimator.

Fit: choose transforms and scaling on the reference towns, partition them for every candidate
number of types, gather the evidence (internal indices, gap statistic, BIC, bootstrap Jaccard
stability, prediction strength), pick k by the rule of :mod:`typology.estimator.selection`, then order
and name the types, profile them, state them as threshold rules and calibrate the scoring of
new towns (posterior, atypical, out of distribution).

Canonical labels. The rows are put in ``town_id`` order before anything else, every random
task draws from a seed addressed by a fixed key under ``random_state`` and runs with one
thread, so the same data and ``random_state`` give the same partition whatever the row order
and ``n_jobs``. Types are numbered ``1..k`` by decreasing size; equal sizes are ordered by the
smallest ``town_id`` among their towns. Names are built from the types' defining features
(:mod:`typology.estimator.naming`) and can be replaced with :meth:`TownTypology.set_type_names`.

Input. ``X`` is a DataFrame indexed by ``town_id`` (features found by name: any column order,
other columns ignored) or any numeric array-like (rows get a RangeIndex ``0..n-1``, columns
the names ``x0, x1, ...``; after a fit, an array's columns are the fitted features in order).
float32, integer, boolean, non-contiguous and read-only arrays are accepted; complex and sparse
input is refused. ``labels_``, ``predict``, ``predict_proba`` and ``assign`` return pandas
objects indexed like ``X``. scikit-learn's ``check_estimator`` passes except the assertion
that cluster labels start at 0 (tests/test_typology/test_sklearn_conformance.py).

Scoring new towns (:meth:`TownTypology.assign`).

* ``type``: nearest centre (k-means methods) or largest posterior (Gaussian mixture);
  ``posterior``: posterior probability of that type (k-means methods: equal-proportion
  spherical mixture with the pooled within-type variance, see :mod:`typology.estimator.clustering`);
  ``runner_up``: the type with the next largest posterior; ``margin``: the difference of the
  two posteriors.
* ``atypical``: conformal p-value of the town's distance to its type centre among the
  reference towns of that type, ``p = (1 + #{reference distances >= d}) / (n_type + 1)``,
  at most ``atypical_alpha`` (0.05).
* ``ood`` (out of distribution): either (a) a feature lies outside the domain of its transform
  or more than ``ood_margin`` (3) reference standard deviations beyond the reference range, in
  the feature's own units; or (b) the town's distance to its ``ood_neighbors``-th (5th) nearest
  reference town in model space has conformal p-value ``(1 + #{reference towns' leave-one-out
  distances >= d}) / (n + 1)`` at most ``max(ood_alpha, 1 / (n + 1))`` (``ood_alpha`` = 0.01,
  so about 1 % of new towns drawn like the reference are flagged; with fewer than 99
  reference towns only towns beyond every reference town are). Conformal novelty detection:
  Laxhammar & Falkman (2015), Bates et al. (2023). ``ood_pvalue`` and ``ood_reason`` say why.
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_array, check_is_fitted

from models.compute import ComputeBackend, compute_backend

from .. import persist
from ..exceptions import TypologyWarning
from .clustering import METHODS
from .naming import suggest_names
from .parallel import entropy_of
from .period import first_ids
from .profiles import profile_types
from .selection import decide, evaluate
from .stability import confidence, type_stability
from .surrogate import fit_surrogate
from .transforms import fit_plan

__all__ = ["TownTypology"]


def _conformal_p(reference_sorted: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``(1 + #{reference >= s}) / (n_ref + 1)`` for each score (reference sorted ascending)."""
    n = len(reference_sorted)
    ge = n - np.searchsorted(reference_sorted, scores, side="left")
    return (1.0 + ge) / (n + 1.0)


def _canonical_types(raw: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sizes of the raw types, their canonical order and the map raw label -> canonical (0-based).

    Canonical order: decreasing size, then the smallest town_id (the rows are in town_id order,
    so the first row of a type holds its smallest town_id).
    """
    sizes = np.bincount(raw, minlength=k)
    if (sizes == 0).any():
        raise ValueError(f"the partition into {k} types has an empty type; use fewer types")
    first_town = np.array([np.flatnonzero(raw == j)[0] for j in range(k)])
    canon = np.lexsort((first_town, -sizes))  # canonical position -> raw label
    raw_to_type = np.empty(k, dtype=np.int64)
    raw_to_type[canon] = np.arange(k)
    return sizes, canon, raw_to_type


class TownTypology(ClusterMixin, BaseEstimator):
    """Typology of towns: number of types with evidence, stability, names, profiles, scoring.

    Parameters
    ----------
    n_types : "auto" or int
        ``"auto"``: chosen in ``k_range`` by the decision rule of :mod:`typology.estimator.selection`;
        an integer fixes it (the evidence is still computed for that k).
    k_range : (int, int)
        Smallest and largest number of types considered (inclusive), default (2, 10).
    method : {"kmeans", "ward_kmeans", "gmm"}
        Partitioning method (see :mod:`typology.estimator.clustering`).
    feature_transform : "auto", dict or None
        Per-feature transforms (see :mod:`typology.estimator.transforms`); a dict maps column ->
        transform and leaves the others to the automatic choice; None: no transform. Called
        ``transform`` in earlier versions (a parameter of that name made scikit-learn take the
        estimator for a transformer); model files written then load under the new name.
    scale : {"standard", "robust"} or None
        Scaling of the transformed features, fitted on the reference towns.
    share_eps : float
        ``eps`` of the empirical logit of shares (default 0.01).
    covariance_type : {"full", "tied", "diag", "spherical"}
        Covariance of the Gaussian mixture (``method="gmm"`` only).
    n_init : "auto" or int
        Restarts of every partition (full data, bootstrap samples, reference sets, halves).
        ``"auto"`` (:data:`typology.estimator.selection.AUTO_RESTARTS`): k-means 100 restarts for the
        full-data fit, 20 for each reference set of the gap statistic and 10 for each bootstrap
        sample and half (measured: docs/typology.md, "Restarts"); Gaussian mixtures 3; Ward +
        k-means 1 (deterministic). An int sets every count.
    n_boot : int
        Bootstrap samples for stability (default 100; 0 skips stability: every k is then
        admissible, ``stability_`` and ``confidence_`` hold NaN).
    n_ref : int
        Uniform reference sets of the gap statistic (default 20; 0 skips it).
    n_ps : int
        Random halvings for prediction strength (default 10; 0 skips it).
    min_jaccard : float
        Hennig's threshold for a valid type (0.75).
    min_prediction_strength : float
        Tibshirani & Walther's threshold (0.8).
    atypical_alpha, ood_alpha : float
        Levels of the conformal p-values of ``assign`` (0.05 and 0.01).
    ood_neighbors : int
        Neighbour whose distance scores novelty (5th nearest reference town).
    ood_margin : float
        Reference standard deviations beyond the reference range that make a feature value
        out of distribution (3).
    name_min_z, name_terms : float, int
        A feature enters a type's name when its model-space mean is >= ``name_min_z``
        reference sds from the mean (0.5), its difference is significant in ``profiles_``
        (adjusted p < ``alpha``) with the same sign, and, for growth rates, changes and
        shift-share components, the words agree with the sign of the type's mean (see
        :mod:`typology.estimator.naming`); at most ``name_terms`` features (3).
    surrogate_depth : int
        Depth of the decision-tree surrogate (3).
    alpha : float
        False discovery rate of the distinguishing features in ``profiles_`` (0.05).
    missing : {"raise", "drop"}
        Rows with missing or infinite features: error listing them, or left out of the fit
        with a :class:`~typology.exceptions.TypologyWarning` and listed in ``left_out_``.
    random_state : int or None
        Root seed of every random choice; None draws fresh entropy, recorded in ``seed_``.
    n_jobs : int or None
        joblib workers for the fits, bootstraps, gap references and halvings; results do not
        depend on it.
    backend : None, "local", "dask" or models.ComputeBackend
        Where those tasks run (:mod:`models.compute`): None, the ambient backend (local with
        ``n_jobs`` unless inside ``with models.compute_backend(...)``); ``"local"``, joblib with
        ``n_jobs`` even inside such a block; ``"dask"``, the caller's ``distributed.Client`` (or a
        LocalCluster); a ``ComputeBackend("dask", scheduler="tcp://host:8786")`` connects for the
        duration of the fit. The results do not depend on it.

    Attributes
    ----------
    labels_ : Series
        Type (1..k) of each fitted town, indexed like ``X``.
    n_types_ : int
    type_names_ : dict
        Type -> name; suggested at fit, settable with :meth:`set_type_names`.
    suggested_names_ : dict
        The names suggested at fit.
    selection_ : DataFrame
        Evidence per candidate k (see :mod:`typology.estimator.selection`) with ``admissible``,
        ``votes``, ``voted_by`` and ``chosen``.
    selection_reason_ : str
        The decision in words.
    stability_ : DataFrame
        Per type: size, mean / median / sd of the bootstrap Jaccard, share dissolved and
        recovered, Hennig's verdict (see :mod:`typology.estimator.stability`).
    confidence_ : Series
        Per town: share of bootstrap samples in which it keeps its type.
    profiles_ : TypeProfiles
        See :mod:`typology.estimator.profiles`.
    surrogate_ : Surrogate
        Threshold rules and their fidelity (see :mod:`typology.estimator.surrogate`).
    transform_plan_ : TransformPlan
        Transforms and scaling learned on the reference towns.
    seed_ : int
        Root entropy actually used (pass it as ``random_state`` to repeat a fit).
    left_out_ : tuple
        town_id left out of the fit (``missing="drop"``).
    feature_names_in_ : ndarray of object
        The features, in the order of the fit: the columns of a DataFrame ``X``, ``x0, x1, ...``
        for an array.
    n_features_in_ : int

    Examples
    --------
    >>> from features import build_features
    >>> from typology import TownTypology, generate, town_rows
    >>> synth = generate()
    >>> X = town_rows(build_features(synth.data), "last")            # doctest: +SKIP
    >>> X = X[["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]]
    >>> typ = TownTypology(random_state=0).fit(X)                     # doctest: +SKIP
    >>> typ.n_types_, typ.type_names_[1]                              # doctest: +SKIP
    """

    def __init__(self, n_types="auto", k_range=(2, 10), method="kmeans", feature_transform="auto", scale="standard",
                 share_eps=0.01, covariance_type="full", n_init="auto", n_boot=100, n_ref=20, n_ps=10,
                 min_jaccard=0.75, min_prediction_strength=0.8, atypical_alpha=0.05, ood_alpha=0.01,
                 ood_neighbors=5, ood_margin=3.0, name_min_z=0.5, name_terms=3, surrogate_depth=3, alpha=0.05,
                 missing="raise", random_state=None, n_jobs=None, backend=None):
        self.n_types = n_types
        self.k_range = k_range
        self.method = method
        self.feature_transform = feature_transform
        self.scale = scale
        self.share_eps = share_eps
        self.covariance_type = covariance_type
        self.n_init = n_init
        self.n_boot = n_boot
        self.n_ref = n_ref
        self.n_ps = n_ps
        self.min_jaccard = min_jaccard
        self.min_prediction_strength = min_prediction_strength
        self.atypical_alpha = atypical_alpha
        self.ood_alpha = ood_alpha
        self.ood_neighbors = ood_neighbors
        self.ood_margin = ood_margin
        self.name_min_z = name_min_z
        self.name_terms = name_terms
        self.surrogate_depth = surrogate_depth
        self.alpha = alpha
        self.missing = missing
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.backend = backend

    # ------------------------------------------------------------------ validation
    def check_params(self, n_samples: int) -> list[int]:
        """Raise ``ValueError`` naming the first parameter outside its domain for ``n_samples``
        towns; return the candidate numbers of types. ``fit`` runs it first; a run configuration
        calls it before any data is read (with a huge ``n_samples``) and again once the towns are
        known."""
        return self._check_params(n_samples)

    def _check_params(self, n: int) -> list[int]:
        ComputeBackend.of(self.backend)  # a ValueError naming what is accepted
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; found {self.method!r}")
        if self.covariance_type not in ("full", "tied", "diag", "spherical"):
            raise ValueError(f"covariance_type must be full, tied, diag or spherical; found {self.covariance_type!r}")
        if self.missing not in ("raise", "drop"):
            raise ValueError(f"missing must be 'raise' or 'drop'; found {self.missing!r}")
        for name in ("n_boot", "n_ref", "n_ps"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{name} must be a non-negative int, found {v!r}")
        if not (isinstance(self.n_init, str) and self.n_init == "auto") and not (
                isinstance(self.n_init, (int, np.integer)) and self.n_init >= 1):
            raise ValueError(f"n_init must be 'auto' or a positive int, found {self.n_init!r}")
        for name in ("atypical_alpha", "ood_alpha", "alpha"):
            v = getattr(self, name)
            if not 0.0 < float(v) < 1.0:
                raise ValueError(f"{name} must lie in (0, 1), found {v!r}")
        if not (isinstance(self.ood_neighbors, (int, np.integer)) and 1 <= self.ood_neighbors < n):
            raise ValueError(f"ood_neighbors must be an int in 1..{n - 1} (towns - 1), found {self.ood_neighbors!r}")
        # largest k must leave room for prediction strength on halves of the towns
        kmax_ok = max(2, n // 2 - 1)
        if isinstance(self.n_types, str):
            if self.n_types != "auto":
                raise ValueError(f"n_types must be 'auto' or an int >= 2, found {self.n_types!r}")
            try:
                lo, hi = (int(v) for v in self.k_range)
            except (TypeError, ValueError):
                raise ValueError(f"k_range must be a pair of ints (smallest, largest), found {self.k_range!r}") from None
            if not 2 <= lo <= hi:
                raise ValueError(f"k_range must satisfy 2 <= smallest <= largest, found {self.k_range!r}")
            if hi > kmax_ok:
                raise ValueError(f"k_range goes up to {hi} types but {n} towns allow at most {kmax_ok} "
                                 f"(each half of the towns must hold more towns than types)")
            return list(range(lo, hi + 1))
        if not isinstance(self.n_types, (int, np.integer)) or isinstance(self.n_types, bool) or self.n_types < 2:
            raise ValueError(f"n_types must be 'auto' or an int >= 2, found {self.n_types!r}")
        if self.n_types > kmax_ok:
            raise ValueError(f"n_types={self.n_types} is too many for {n} towns (at most {kmax_ok})")
        return [int(self.n_types)]

    def _frame(self, X, columns=None, what: str = "X") -> pd.DataFrame:
        """``X`` as a DataFrame of numeric features, one row per town, indexed by town_id.

        A DataFrame keeps its index as ``town_id``; its features are found by name (``columns``,
        in any order, other columns ignored). Any other array-like (numpy array, list of rows)
        goes through scikit-learn's ``check_array`` (2-D, numeric, dense; NaN and inf are left
        to ``missing``), its rows get a RangeIndex (town_id ``0..n-1``) and its columns are, in
        order, ``columns`` (the fitted ``feature_names_in_``) or ``x0, x1, ...`` at fit.
        Complex values are refused: a typology clusters real-valued features.
        """
        if not isinstance(X, pd.DataFrame):
            return self._array_frame(X, columns, what)
        if X.index.has_duplicates:
            dup = X.index[X.index.duplicated()].unique()
            raise ValueError(f"{what} has {len(dup)} duplicated index values (one row per town expected), "
                             f"e.g. {first_ids(dup)}")
        if columns is not None:
            missing = [c for c in columns if c not in X.columns]
            if missing:
                raise ValueError(f"{what} lacks the features the typology was fitted on: {missing}")
            X = X[list(columns)]
        if X.shape[1] == 0:
            raise ValueError(f"{what} has no feature columns")
        cplx = [c for c in X.columns if pd.api.types.is_complex_dtype(X[c].dtype)]
        if cplx:
            raise ValueError(f"Complex data not supported: {what} has complex columns {cplx}; a typology "
                             f"clusters real-valued features (pass the real part, the modulus or both as columns)")
        bad = [c for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c].dtype)
                                            or pd.api.types.is_bool_dtype(X[c].dtype))]
        if bad:
            raise ValueError(f"{what} has non-numeric columns {bad} (dtypes "
                             f"{[str(X[c].dtype) for c in bad]}); pass numeric features only")
        return X

    def _array_frame(self, X, columns, what: str) -> pd.DataFrame:
        """An array-like ``X`` as a DataFrame with a RangeIndex (see :meth:`_frame`)."""
        values = check_array(X, dtype="numeric", ensure_all_finite=False, input_name=what, estimator=self)
        if columns is None:
            columns = [f"x{j}" for j in range(values.shape[1])]
        elif values.shape[1] != len(columns):
            raise ValueError(f"{what} has {values.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{len(columns)} features as input (an array's columns are the fitted features "
                             f"{list(columns)} in this order)")
        return pd.DataFrame(values, columns=list(columns))

    @staticmethod
    def _nonfinite(values: np.ndarray, index: pd.Index, columns) -> tuple[np.ndarray, str]:
        bad = ~np.isfinite(values)
        rows = bad.any(axis=1)
        if not rows.any():
            return rows, ""
        cols = [c for c, b in zip(columns, bad.any(axis=0), strict=True) if b]
        return rows, (f"{int(rows.sum())} towns have missing or infinite features (in {cols}), "
                      f"e.g. {first_ids(index[rows])}")

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Fit the typology on the reference towns ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_towns, n_features)
            One row per town, numeric (float, int or bool) features. A DataFrame's index is
            the ``town_id`` (unique); an array's rows get a RangeIndex (``0..n-1``) and its
            columns the names ``x0, x1, ...``. Complex values are refused; missing and
            infinite values follow ``missing``.
        y : None
            Ignored (scikit-learn's signature).

        Returns
        -------
        self
        """
        X = self._frame(X)
        values = X.to_numpy(dtype=float)
        bad, msg = self._nonfinite(values, X.index, X.columns)
        left_out = ()
        if bad.any():
            if self.missing == "raise":
                raise ValueError(msg + "; fill or drop them first, or pass missing='drop'")
            warnings.warn(msg + "; they are left out of the fit (left_out_)", TypologyWarning, stacklevel=2)
            left_out = tuple(X.index[bad])
            X = X[~bad]
        # canonical row order: by town_id, so the row order of X never matters
        order = np.argsort(np.asarray(X.index.astype(str)), kind="stable")
        Xs = X.iloc[order]
        values = Xs.to_numpy(dtype=float)
        n = len(Xs)
        if n < 8:
            raise ValueError(f"a typology needs at least 8 towns (rows of X with all their features), found n_samples = {n}")
        ks = self._check_params(n)
        plan = fit_plan(list(Xs.columns), values, self.feature_transform, self.scale, self.share_eps)
        Z, _ = plan.transform(values, clip=False)
        seed = entropy_of(self.random_state)
        backend = ComputeBackend.of(self.backend)
        with compute_backend(backend) if backend is not None else nullcontext():
            ev = evaluate(Z, ks, self.method, self.covariance_type, self.n_init, self.n_boot, self.n_ref, self.n_ps,
                          seed, self.n_jobs)
        k, reason, table, flags = decide(ev.table, self.min_jaccard, self.min_prediction_strength,
                                         use_bic=self.method == "gmm")
        reason = self._explain_choice(k, reason, table, flags)
        part = ev.partitions[k]
        raw = part.labels
        sizes, canon, raw_to_type = _canonical_types(raw, k)
        labels0 = raw_to_type[raw]  # 0-based canonical
        types = np.arange(1, k + 1)

        # per-town scores on the reference towns
        dist = part.distance(Z, raw)
        tree = cKDTree(Z)
        kk = int(self.ood_neighbors)
        loo = tree.query(Z, k=kk + 1)[0][:, kk]  # k-th neighbour other than the town itself

        stab = type_stability(ev.boot_jaccard[k][:, canon], types, sizes[canon])
        boot_lab = raw_to_type[ev.boot_mapped[k].astype(np.int64)] if self.n_boot else np.zeros((0, n), int)
        conf = confidence(boot_lab, labels0)
        profiles = profile_types(Xs, Z, labels0 + 1, types, dist, alpha=self.alpha)
        names = suggest_names(profiles, self.name_min_z, self.name_terms)
        stab.insert(0, "name", [names[t] for t in types])

        # learned state
        self.seed_ = seed
        self.left_out_ = left_out
        self.feature_names_in_ = np.asarray(Xs.columns, dtype=object)
        self.n_features_in_ = Xs.shape[1]
        self.transform_plan_ = plan
        self.partition_ = part
        self.raw_to_type_ = raw_to_type
        self.n_types_ = int(k)
        self.selection_ = table
        self.selection_reason_ = reason
        self.stability_ = stab
        self.suggested_names_ = dict(names)
        self.type_names_ = dict(names)
        self.profiles_ = profiles
        self.surrogate_ = fit_surrogate(Xs, labels0 + 1, self.surrogate_depth)
        self.confidence_ = pd.Series(conf, index=Xs.index, name="confidence").reindex(X.index)
        self.labels_ = pd.Series(labels0 + 1, index=Xs.index, name="type").reindex(X.index)
        # calibration of assign()
        self._knn_data = Z  # reference towns in model space; the k-d tree is rebuilt from them, never saved
        self.__dict__["_knn_tree"] = tree
        self._knn_loo = np.sort(loo)
        self._type_dist = [np.sort(dist[labels0 == j]) for j in range(k)]
        self._raw_min = values.min(axis=0)
        self._raw_max = values.max(axis=0)
        self._raw_sd = values.std(axis=0, ddof=1)
        self.ood_level_ = max(float(self.ood_alpha), 1.0 / (n + 1.0))
        return self

    def _explain_choice(self, k: int, reason: str, table: pd.DataFrame, flags: dict) -> str:
        """Warn about a weak choice of k; the reason in words (a fixed ``n_types`` gets its own)."""
        if isinstance(self.n_types, str):
            if flags["degenerate"]:
                warnings.warn("every number of types in k_range gives a degenerate Gaussian mixture: " + reason,
                              TypologyWarning, stacklevel=3)
            elif flags["weak"]:
                warnings.warn("no number of types in k_range gives only stable types: " + reason, TypologyWarning,
                              stacklevel=3)
            elif flags["no_structure"]:
                warnings.warn("the gap statistic finds no clustering structure (k = 1): the types segment a "
                              "continuum rather than separate natural groups; see selection_", TypologyWarning,
                              stacklevel=3)
            return reason
        row = table.loc[k]
        if row["degenerate"]:
            warnings.warn(f"with n_types={k} the Gaussian mixture is degenerate (a singular covariance, finite "
                          f"BIC only through reg_covar): {table.attrs['degenerate'][k]}; see selection_",
                          TypologyWarning, stacklevel=3)
        if row["jaccard_min"] < self.min_jaccard:
            warnings.warn(f"with n_types={k} some type is unstable (mean bootstrap Jaccard "
                          f"{row['jaccard_min']:.2f} < {self.min_jaccard:g}); see stability_",
                          TypologyWarning, stacklevel=3)
        return (f"k = {k} fixed by the analyst (n_types={k}). Weakest type's mean bootstrap Jaccard "
                f"{row['jaccard_min']:.2f} (Hennig's threshold {self.min_jaccard:g}), prediction strength "
                f"{row['prediction_strength']:.2f}, silhouette {row['silhouette']:.2f}.")

    # ------------------------------------------------------------------ names
    def set_type_names(self, mapping: dict) -> TownTypology:
        """Replace the names of some types, e.g. ``{1: "corporate North"}``; returns self."""
        check_is_fitted(self, "labels_")
        if not isinstance(mapping, dict):
            raise TypeError(f"mapping must be a dict {{type: name}}, found {type(mapping).__name__}")
        unknown = [t for t in mapping if t not in self.type_names_]
        if unknown:
            raise ValueError(f"unknown types {unknown}; the types are {sorted(self.type_names_)}")
        bad = {t: v for t, v in mapping.items() if not isinstance(v, str) or not v.strip()}
        if bad:
            raise ValueError(f"type names must be non-empty strings, found {bad}")
        names = {**self.type_names_, **{t: v.strip() for t, v in mapping.items()}}
        if len(set(names.values())) < len(names):
            dup = sorted({v for v in names.values() if list(names.values()).count(v) > 1})
            raise ValueError(f"type names must be unique; {dup} would name several types")
        self.type_names_ = names
        self.stability_ = self.stability_.assign(name=[names[t] for t in self.stability_.index])
        return self

    # ------------------------------------------------------------------ scoring
    def _model_space(self, X, what="X") -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        check_is_fitted(self, "labels_")
        X = self._frame(X, list(self.feature_names_in_), what)
        values = X.to_numpy(dtype=float)
        bad, msg = self._nonfinite(values, X.index, X.columns)
        if bad.any():
            raise ValueError(msg + "; a town cannot be typed without all its features")
        Z, out_domain = self.transform_plan_.transform(values, clip=True)
        return X, values, Z, out_domain

    def predict(self, X) -> pd.Series:
        """Type (1..k) of each town of ``X`` (Series indexed like ``X``)."""
        X, _, Z, _ = self._model_space(X)
        return pd.Series(self.raw_to_type_[self.partition_.predict(Z)] + 1, index=X.index, name="type")

    def _proba(self, Z: np.ndarray) -> np.ndarray:
        P = self.partition_.proba(Z)
        out = np.empty_like(P)
        out[:, self.raw_to_type_] = P
        return out

    def predict_proba(self, X) -> pd.DataFrame:
        """Posterior probability of each type (columns 1..k) for each town of ``X``."""
        X, _, Z, _ = self._model_space(X)
        return pd.DataFrame(self._proba(Z), index=X.index, columns=pd.Index(np.arange(1, self.n_types_ + 1),
                                                                            name="type"))

    def assign(self, X) -> pd.DataFrame:
        """Type new (or reference) towns with the evidence an analyst needs to trust it.

        Returns a DataFrame indexed like ``X`` with ``type``, ``type_name``, ``runner_up``,
        ``margin``, ``posterior``, ``distance`` (to the type centre, model space),
        ``atypical``, ``ood``, ``ood_pvalue`` and ``ood_reason`` (see the module docstring).
        Rows are scored independently, so ``X`` may hold one row per town or per town-year.
        """
        X, values, Z, out_domain = self._model_space(X)
        n = len(X)
        raw = self.partition_.predict(Z)
        t0 = self.raw_to_type_[raw]
        P = self._proba(Z)
        rows = np.arange(n)
        post = P[rows, t0]
        if self.n_types_ > 1:
            Q = P.copy()
            Q[rows, t0] = -np.inf
            ru = Q.argmax(axis=1)
            margin = post - P[rows, ru]
        else:  # pragma: no cover - a typology has at least two types
            ru, margin = t0, np.ones(n)
        dist = self.partition_.distance(Z, raw)
        p_typ = np.empty(n)
        for j in range(self.n_types_):  # loop over types, vectorized over towns
            sel = t0 == j
            p_typ[sel] = _conformal_p(self._type_dist[j], dist[sel])
        kk = int(self.ood_neighbors)
        knn = self._knn.query(Z, k=kk)[0]
        knn = knn[:, kk - 1] if knn.ndim == 2 else knn
        p_ood = _conformal_p(self._knn_loo, knn)
        far = (values < self._raw_min - self.ood_margin * self._raw_sd) | (
            values > self._raw_max + self.ood_margin * self._raw_sd)
        cols = np.asarray(self.feature_names_in_, dtype=object)
        novel = p_ood <= self.ood_level_
        ood = novel | far.any(axis=1) | out_domain.any(axis=1)
        reasons = np.full(n, "", dtype=object)
        for i in np.flatnonzero(ood):  # only the flagged towns get a sentence
            r = [f"{c} outside the domain of its transform" for c in cols[out_domain[i]]]
            r += [f"{c} beyond the reference range" for c in cols[far[i] & ~out_domain[i]]]
            if novel[i]:
                r.append(f"far from every reference town (p = {p_ood[i]:.3g})")
            reasons[i] = "; ".join(r)
        names = np.array([self.type_names_[t] for t in range(1, self.n_types_ + 1)], dtype=object)
        return pd.DataFrame({
            "type": t0 + 1, "type_name": names[t0], "runner_up": ru + 1, "margin": margin, "posterior": post,
            "distance": dist, "atypical": p_typ <= self.atypical_alpha, "ood": ood, "ood_pvalue": p_ood,
            "ood_reason": reasons,
        }, index=X.index)

    # ------------------------------------------------------------------ reporting
    def summary(self) -> pd.DataFrame:
        """Per type: name, size, share, mean bootstrap Jaccard, verdict, mean town confidence."""
        check_is_fitted(self, "labels_")
        s = self.stability_
        conf = self.confidence_.groupby(self.labels_).mean()
        return pd.DataFrame({"name": [self.type_names_[t] for t in s.index], "size": s["size"],
                             "share": s["size"] / s["size"].sum(), "jaccard_mean": s["jaccard_mean"],
                             "verdict": s["verdict"], "confidence": conf.reindex(s.index)}, index=s.index)

    # ------------------------------------------------------------------ persistence
    @property
    def _knn(self) -> cKDTree:
        """k-d tree of the reference towns in model space (``_knn_data``), built on first use.

        It is not part of the saved state (:meth:`__getstate__`): its node buffer holds bytes
        the build leaves uninitialised, so two builds from the same points pickle differently;
        the points determine the tree, so a loaded typology rebuilds it and queries it exactly
        as the original.
        """
        tree = self.__dict__.get("_knn_tree")
        if tree is None:
            tree = self.__dict__["_knn_tree"] = cKDTree(self._knn_data)
        return tree

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # a copy: the default state is the instance's own __dict__
        state.pop("_knn_tree", None)
        return state

    def __setstate__(self, state: dict) -> None:
        if "transform" in state and "feature_transform" not in state:  # pickled before the rename
            state = {("feature_transform" if k == "transform" else k): v for k, v in state.items()}
        super().__setstate__(state)

    def save(self, path) -> str:
        """Save the fitted typology as a model file (JSON and arrays, sha256-checked, see
        :mod:`typology.persist`); returns the file's sha256. The same fit gives the same bytes."""
        check_is_fitted(self, "labels_")
        meta = {"class": "TownTypology", "n_types": self.n_types_, "features": list(self.feature_names_in_),
                "type_names": {str(t): v for t, v in self.type_names_.items()}, "seed": int(self.seed_)}
        return persist.dump(self, path, meta=meta)

    @classmethod
    def load(cls, path, expected_sha256: str | None = None) -> TownTypology:
        """Load a typology written by :meth:`save`.

        The file (and ``expected_sha256``, the file's recorded sha256, when given) is checked
        before anything is decoded, and the declared type before the object is built; loading
        never runs code from the file. Refuses modified, truncated and older pickle-based files
        (:class:`~typology.exceptions.ModelFileError`) and files holding something else
        (``TypeError``).
        """
        return persist.load(path, expected_type=cls, expected_sha256=expected_sha256)
