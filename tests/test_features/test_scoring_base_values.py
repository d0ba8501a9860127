"""Base values of scored towns: a town's growth starts from its own data unless its rows are the fitted ones.

The defect pinned here: a second synthetic draw (``generate(seed=1)``) scored with a builder
fitted on ``generate(seed=0)`` shares 123 town_ids with it (37 of the 300 towns of the typology
sample); their growth rates were computed from the other draw's base-year values (population
growth of -8.2 %/yr in the typology's scores) without a warning.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from features import FeatureBuilder, FeatureWarning, build_features
from typology.data.synth import generate

GROWTH = ["pop_growth", "emp_growth", "wage_growth", "entropy_change"]
CLASH = "town_id(s) of the scored data are in the fitted data"


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        return fn(*args, **kwargs)


def _years(data, keep):
    """The dataset restricted to the years for which ``keep(year)`` holds."""
    tables = {}
    for name in ("employment", "outcomes", "firms"):
        t = getattr(data, name)
        if t is not None and "year" in t.columns:
            tables[name] = t[keep(t["year"])].reset_index(drop=True)
    return data.replace(**tables)


def _equal(a, b):
    return np.array_equal(a.to_numpy(dtype=float), b.to_numpy(dtype=float), equal_nan=True)


@pytest.fixture(scope="module")
def second_draw():
    return generate(seed=1, world=1)  # the same process as the synthetic fixture


@pytest.fixture(scope="module")
def fitted_on_first(synthetic):
    return _quiet(FeatureBuilder().fit, synthetic.data)


def _shared(a, b):
    return sorted(set(a.towns["town_id"]) & set(b.towns["town_id"]))


def test_a_second_draw_sharing_ids_is_scored_from_its_own_data(synthetic, second_draw, fitted_on_first):
    shared = _shared(synthetic.data, second_draw.data)
    assert len(shared) == 123  # the scenario: same ids, different towns
    with pytest.warns(FeatureWarning, match=re.escape(CLASH)) as rec:
        scored = fitted_on_first.transform(second_draw.data)
    msg = next(str(w.message) for w in rec if CLASH in str(w.message))
    assert msg.startswith("123 town_id(s)")
    assert str(shared[:5]) in msg  # the first ids, sorted
    assert "population (123)" in msg and "employment (123)" in msg
    alone = _quiet(build_features, second_draw.data)
    for c in GROWTH:  # every town of the new draw, the 123 clashing ones included
        assert _equal(scored[c], alone.loc[scored.index, c]), c
    clash_rows = scored.index.get_level_values("town_id").isin(shared)
    assert np.nanmin(scored.loc[clash_rows, "pop_growth"]) > -5.0  # not the -8 to -20 %/yr of the defect


def test_later_years_of_the_same_towns_continue_from_the_fitted_base(synthetic):
    """Decision: rows that share no year with the fitted ones (``score --data next_year``) cannot
    contradict the id, so the town keeps its fitted base year; growth equals the full panel's."""
    data = synthetic.data
    fb = _quiet(FeatureBuilder(groups=["diversification", "dynamics"]).fit, _years(data, lambda y: y <= 2019))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        later = fb.transform(_years(data, lambda y: y >= 2020))
    assert not [w for w in rec if CLASH in str(w.message)]
    assert any("were not in the fitted data" in str(w.message) for w in rec)  # new years are still reported
    full = _quiet(build_features, data, groups=["diversification", "dynamics"])
    assert (later.index.get_level_values("year") >= 2020).all()
    for c in GROWTH:
        assert _equal(later[c], full.loc[later.index, c]), c
    assert np.isfinite(later["pop_growth"]).mean() > 0.9  # 10+ years of growth, not undefined


def test_later_years_of_a_different_draw_overlapping_the_fitted_years_are_recognised(
        synthetic, second_draw, fitted_on_first):
    new = _years(second_draw.data, lambda y: y >= 2018)  # overlaps the fitted 2010-2024 in 2018-2024
    with pytest.warns(FeatureWarning, match=re.escape(CLASH)):
        scored = fitted_on_first.transform(new)
    alone = _quiet(build_features, new)
    for c in GROWTH:
        assert _equal(scored[c], alone.loc[scored.index, c]), c


def test_a_revised_value_is_named_and_the_town_uses_its_own_rows():
    small = generate(n_towns=40, n_years=6, seed=3)
    data = small.data
    fb = _quiet(FeatureBuilder(groups=["diversification", "dynamics"]).fit, data)
    out = data.outcomes.copy()
    town = sorted(set(data.employment["town_id"]))[7]
    first = (out["town_id"] == town) & (out["year"] == out["year"].min())
    out.loc[first, "population"] *= 1.5  # a revised base-year population of one town
    revised = data.replace(outcomes=out)
    with pytest.warns(FeatureWarning, match=re.escape(CLASH)) as rec:
        scored = fb.transform(revised)
    msg = next(str(w.message) for w in rec if CLASH in str(w.message))
    assert msg.startswith("1 town_id(s)") and f"['{town}']" in msg
    assert "population (1)" in msg and "employment (" not in msg and "wage (" not in msg
    alone = _quiet(build_features, revised, groups=["diversification", "dynamics"])
    assert _equal(scored["pop_growth"], alone.loc[scored.index, "pop_growth"])
    before = _quiet(fb.transform, data)  # the unrevised towns are untouched
    other = scored.index.get_level_values("town_id") != town
    assert _equal(scored.loc[other, "pop_growth"], before.loc[other, "pop_growth"])


def test_a_builder_fitted_before_the_row_fingerprint_compares_the_base_year():
    small = generate(n_towns=40, n_years=6, seed=3)
    data = small.data
    fb = _quiet(FeatureBuilder(groups=["diversification", "dynamics"]).fit, data)
    del fb.fitted_rows_  # as unpickled from a model file written before fitted_rows_ existed
    out = data.outcomes.copy()
    town = sorted(set(data.employment["town_id"]))[3]
    first = (out["town_id"] == town) & (out["year"] == out["year"].min())
    out.loc[first, "population"] *= 0.5
    with pytest.warns(FeatureWarning, match=re.escape("1 town_id(s) of the scored data")):
        fb.transform(data.replace(outcomes=out))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeatureWarning)
        fb.transform(data)  # the same data: no clash
