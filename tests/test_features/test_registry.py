"""The registry of columns (features.dictionary) and the feature groups (features.groups).

Every per-column table is derived from the registry: the builder's columns, the data dictionary,
the range check, the typology's automatic transforms and naming tables. These tests check that
the registry is complete and consistent with the groups, and that each derived table follows
it (so that adding an index is its kernel, its registry entry and its test).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import features.groups.specialization as specialization_group
from features import FeatureBuilder, FeatureValueError, FeatureWarning, data_dictionary
from features.dictionary import FEATURES, GROUPS, SCALES, feature, feature_range, group_columns
from features.groups import REGISTRY


def test_groups_and_registry_agree():
    # the selectable groups are GROUPS, in order; every group produces at least one column and
    # every column belongs to exactly one group module
    assert tuple(g.name for g in REGISTRY if g.selectable) == GROUPS
    assert [g.name for g in REGISTRY if not g.selectable] == ["quality"]
    names = [f.name for f in FEATURES]
    assert len(set(names)) == len(names)
    by_group = [c for g in REGISTRY for c in group_columns(g.name, ("links",))]
    assert by_group == names  # the registry is in table order, group by group
    assert all(group_columns(g.name) for g in REGISTRY)


def test_every_entry_is_complete():
    for f in FEATURES:
        assert f.scale in SCALES, f.name
        assert f.unit and len(f.definition) > 10 and f.source, f.name
        assert f.dtype in ("float", "str"), f.name
        assert (f.dtype == "str") == (f.scale == "category"), f.name
        for phrase in (f.high, f.low):
            assert phrase is None or (phrase[0] in ("adj", "post") and phrase[1]), f.name
        assert (f.high is None) == (f.low is None), f.name
        if f.signed is not None:  # four words only make sense where the sign of the level means something
            assert f.natural_zero and f.signed[0] in ("adj", "post") and len(f.signed[1]) == 4, f.name
        assert not (f.natural_zero and f.high is not None), f.name
    with pytest.raises(KeyError, match="not a feature column"):
        feature("lq_min")


def test_ranges_of_the_registry():
    # (lower, upper) with k fitted sectors: hhi in [1/k, 1], effective sectors in [1, k]
    assert feature_range("hhi", 4) == (0.25, 1.0)
    assert feature_range("effective_sectors", 4) == (1.0, 4.0)
    assert feature_range("krugman", 4) == (0.0, 2.0)
    assert feature_range("pop_growth", 4) == (None, None)
    assert feature_range("not_a_feature", 4) == (None, None)
    for f in FEATURES:
        if f.scale == "share":  # a share lies in [0, 1] (hhi's lower bound 1/k is inside it)
            lo, hi = feature_range(f.name, 2)
            assert lo >= 0.0 and hi == 1.0, f.name


def test_the_builder_produces_the_registry_columns_in_order(synthetic_features):
    # the synthetic data support every group (without a links table): every registry column that
    # needs no links, in order
    assert list(synthetic_features.columns) == [f.name for f in FEATURES if not f.needs]
    for f in FEATURES:
        if f.needs:
            continue
        kind = synthetic_features[f.name].dtype
        assert (kind == "str") if f.dtype == "str" else np.issubdtype(kind, np.floating), f.name


def test_a_planned_group_produces_its_columns_only(small_synthetic):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        fb = FeatureBuilder(groups=["diversification", "corporate"]).fit(small_synthetic.data)
    assert fb.feature_names_out_ == [*group_columns("diversification"), *group_columns("corporate"), "coverage"]
    # the dynamics group's fitted attributes exist, empty, when the group is not planned
    assert fb.base_ is None and fb.fitted_rows_ is None and fb.masses_ is None


def test_the_range_check_reads_the_registry(small_synthetic, monkeypatch):
    # a kernel that went wrong: ogive (range [0, inf) in the registry) below 0 is refused by name
    monkeypatch.setattr(specialization_group, "ogive_rows", lambda s, valid, k: np.full(len(s), -1.0))
    with pytest.raises(FeatureValueError, match=r"'ogive' outside \[0, inf\]"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FeatureWarning)
            FeatureBuilder(groups=["specialization"]).fit_transform(small_synthetic.data)


def test_data_dictionary_is_the_registry():
    d = data_dictionary()
    assert list(d.index) == [f.name for f in FEATURES]
    assert list(d.columns) == ["group", "definition", "unit", "scale", "source"]
    for f in FEATURES:
        assert tuple(d.loc[f.name]) == (f.group, f.definition, f.unit, f.scale, f.source)


def test_the_typology_tables_derive_from_the_registry():
    # the typology's automatic transform of a column is the transform of its scale, and that
    # transform's domain holds the column's range (logit: [0, 1]; log1p: [0, inf))
    from typology.estimator.naming import PHRASES, SIGNED_PHRASES, has_natural_zero
    from typology.estimator.transforms import AUTO_TRANSFORMS, SCALE_TRANSFORMS

    assert set(SCALE_TRANSFORMS) == set(SCALES)
    for f in FEATURES:
        t = SCALE_TRANSFORMS[f.scale]
        assert AUTO_TRANSFORMS.get(f.name) == t, f.name
        lo, hi = feature_range(f.name, 88)
        if t == "logit":
            assert lo >= 0.0 and hi <= 1.0, f.name
        if t == "log1p":
            assert lo is not None and lo >= 0.0, f.name
        assert PHRASES.get(f.name) == ((f.high, f.low) if f.high else None), f.name
        assert SIGNED_PHRASES.get(f.name) == f.signed, f.name
        assert has_natural_zero(f.name) == f.natural_zero, f.name
    # a column outside the registry keeps the name rule for growth words
    assert has_natural_zero("gdp_growth") and has_natural_zero("ss_total") and not has_natural_zero("gdp")
