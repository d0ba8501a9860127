"""TownTypology against scikit-learn's estimator checks, and the input it accepts.

``parametrize_with_checks`` runs every check of ``check_estimator`` (API, input validation,
dtypes, pickling, memory layout, NaN/inf, clustering) on small, fast settings of the three
partitioning methods (k_range (2, 3), one restart, no or few bootstrap samples, gap references
and halvings: about 1.5 s a setting). The one expected failure is listed in
:data:`EXPECTED_FAILED_CHECKS` with its reason; ``xfail_strict`` makes a listed check that starts
to pass an error, so the list cannot go stale.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_clustering, parametrize_with_checks

from typology import TownTypology, persist, town_rows

FEATURES = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
FAST = dict(k_range=(2, 3), n_init=1, n_boot=0, n_ref=0, n_ps=0, random_state=0)

#: check name -> why TownTypology fails it on purpose (the only one of check_estimator's checks).
EXPECTED_FAILED_CHECKS = {
    "check_clustering": "types are numbered 1..k by decreasing size (canonical labels, the numbering of the "
                        "typology's tables, names and reports); the check requires cluster labels to start at 0 "
                        "(or -1 for noise). Every other assertion of the check holds: "
                        "test_check_clustering_passes_with_types_numbered_from_zero.",
}

ESTIMATORS = [
    TownTypology(**FAST),
    TownTypology(**{**FAST, "method": "ward_kmeans"}),
    TownTypology(**{**FAST, "method": "gmm"}),
    TownTypology(**{**FAST, "n_boot": 3, "n_ref": 2, "n_ps": 2}),  # the evidence paths on tiny inputs
]


@pytest.mark.filterwarnings("ignore::typology.TypologyWarning")  # weak evidence on the checks' tiny data
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
                         xfail_strict=True)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


class _TypesFromZero(TownTypology):
    """TownTypology with its types renumbered 0..k-1, only to run the rest of check_clustering."""

    def fit(self, X, y=None):
        super().fit(X, y)
        self.labels_ = self.labels_ - 1
        return self


@pytest.mark.parametrize("readonly_memmap", [False, True])
def test_check_clustering_passes_with_types_numbered_from_zero(readonly_memmap):
    """The expected failure is the numbering only: shape, agreement with the blobs (ARI > 0.4),
    determinism, fit_predict == labels_, integer labels, no empty type all hold."""
    check_clustering("TownTypology", _TypesFromZero(**FAST), readonly_memmap=readonly_memmap)


# ------------------------------------------------------------------ the input TownTypology accepts
@pytest.fixture(scope="module")
def towns(synthetic, synthetic_features):
    truth = pd.Series(synthetic.truth["town_types"])
    return town_rows(synthetic_features, "last", sample=truth.index[~truth.isin(["core", "rural"])])[FEATURES]


@pytest.fixture(scope="module")
def fitted(towns):
    return TownTypology(n_types=4, **{**FAST, "k_range": (2, 10), "n_boot": 5}).fit(towns)


def _same_fit(a: TownTypology, b: TownTypology) -> None:
    np.testing.assert_array_equal(a.labels_.to_numpy(), b.labels_.to_numpy())
    assert a.type_names_ == b.type_names_
    assert_frame_equal(a.selection_, b.selection_)
    assert_frame_equal(a.stability_, b.stability_)


def test_complex_features_are_refused(towns):
    X = towns.iloc[:40].astype({"entropy": complex})
    with pytest.raises(ValueError, match=r"Complex data not supported: X has complex columns \['entropy'\]"):
        TownTypology(**FAST).fit(X)
    with pytest.raises(ValueError, match="Complex data not supported"):
        TownTypology(**FAST).fit(X.to_numpy())


def test_an_array_is_typed_like_a_frame_with_a_range_index(towns):
    X = towns.to_numpy()
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    a = TownTypology(n_types=4, **{**FAST, "k_range": (2, 10), "n_boot": 5}).fit(X)
    b = TownTypology(n_types=4, **{**FAST, "k_range": (2, 10), "n_boot": 5}).fit(frame)
    _same_fit(a, b)
    assert list(a.feature_names_in_) == ["x0", "x1", "x2", "x3", "x4"] and a.n_features_in_ == 5
    assert_series_equal(a.labels_, b.labels_)
    assert a.labels_.index.equals(pd.RangeIndex(len(X)))
    assert_series_equal(a.predict(X), b.predict(frame))


@pytest.mark.parametrize("layout", ["float32", "int", "fortran", "strided", "readonly"])
def test_dtypes_and_memory_layouts_give_the_same_typology(towns, layout):
    """float32 and integer features are read as float64; the memory layout never matters."""
    kw = {**FAST, "n_types": 4, "feature_transform": None}  # integer shares would leave the logit's domain
    if layout in ("float32", "int"):
        base = (towns * 1000).round() if layout == "int" else towns.astype("float32")
        X = base.astype("int64") if layout == "int" else base
        ref = TownTypology(**kw).fit(base.astype("float64"))
    else:
        values = towns.to_numpy()
        ref = TownTypology(**kw).fit(values)
        X = {"fortran": np.asfortranarray(values), "strided": np.repeat(values, 2, axis=1)[:, ::2],
             "readonly": values.copy()}[layout]
        if layout == "readonly":
            X.flags.writeable = False
    m = TownTypology(**kw).fit(X)
    _same_fit(m, ref)
    np.testing.assert_array_equal(m.predict_proba(X).to_numpy(), ref.predict_proba(X).to_numpy())


def test_an_array_is_scored_by_position_after_a_frame_fit(fitted, towns):
    by_name = fitted.assign(towns)
    by_position = fitted.assign(towns[fitted.feature_names_in_].to_numpy())
    assert by_position.index.equals(pd.RangeIndex(len(towns)))
    assert_frame_equal(by_position.set_axis(towns.index), by_name)
    with pytest.raises(ValueError, match="X has 4 features, but TownTypology is expecting 5 features as input"):
        fitted.predict(towns.to_numpy()[:, :4])


def test_pickle_round_trip(fitted, towns):
    back = pickle.loads(pickle.dumps(fitted))
    assert back.get_params() == fitted.get_params()
    assert_frame_equal(back.assign(towns), fitted.assign(towns))
    assert_series_equal(back.labels_, fitted.labels_)


# ------------------------------------------------------------------ the parameter renamed feature_transform
def _as_before_the_rename(typ: TownTypology) -> TownTypology:
    """A fitted typology as the versions that called ``feature_transform`` ``transform`` held it."""
    old = object.__new__(TownTypology)
    old.__dict__.update({("transform" if k == "feature_transform" else k): v for k, v in vars(typ).items()})
    return old


def test_transform_is_not_a_parameter_any_more():
    assert "feature_transform" in TownTypology().get_params()
    assert not hasattr(TownTypology(), "transform")  # scikit-learn took it for a transformer
    with pytest.raises(TypeError, match="transform"):
        TownTypology(transform=None)


def test_a_model_file_written_before_the_rename_loads_under_the_new_name(fitted, towns, tmp_path):
    old = _as_before_the_rename(fitted)
    path = tmp_path / "old.nordtowns"
    persist.dump(old, path)
    back = TownTypology.load(path)
    assert "transform" not in vars(back) and back.get_params() == fitted.get_params()
    assert persist.fingerprint(back) == persist.fingerprint(fitted)  # same state, same order
    assert_frame_equal(back.assign(towns), fitted.assign(towns))
    assert clone(back).get_params() == fitted.get_params()


def test_a_pickle_written_before_the_rename_loads_under_the_new_name(fitted):
    back = pickle.loads(pickle.dumps(_as_before_the_rename(fitted)))
    assert "transform" not in vars(back) and back.get_params() == fitted.get_params()
