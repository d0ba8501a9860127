"""Property-based tests over random employment matrices with zeros and suppressed (NaN) cells."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from features.concentration import hoover, locational_gini
from features.diversification import entropy, variety_decomposition
from features.dynamics import shift_share
from features.specialization import (
    hachman,
    hhi,
    krugman,
    leading_sector,
    location_quotient,
    ogive,
    theil_specialization,
)

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DIVISIONS = ["01", "02", "05", "06", "10", "11"]  # sections A, A, B, B, C, C

cell = st.one_of(st.just(0.0), st.just(np.nan), st.floats(0.5, 1e6), st.integers(1, 500).map(float))
count = st.one_of(st.just(0.0), st.floats(1e-3, 1e6))
cell_no_nan = st.one_of(st.just(0.0), st.floats(0.5, 1e6), st.integers(1, 500).map(float))


@st.composite
def matrices(draw, elements=cell):
    n = draw(st.integers(1, 7))
    k = draw(st.integers(1, 6))
    X = draw(arrays(np.float64, (n, k), elements=elements))
    return pd.DataFrame(X, index=[f"t{i}" for i in range(n)], columns=DIVISIONS[:k])


def _valid(E):
    return np.nansum(E.to_numpy(), axis=1) > 0


def _complete_case_reference(E):
    X = E.to_numpy()
    col = np.nansum(X, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        S = col / col.sum()
        S2 = np.where(np.isnan(X), np.nan, S)
        return S2 / np.nansum(S2, axis=1, keepdims=True)


@SETTINGS
@given(matrices())
def test_nan_exactly_for_towns_without_published_employment(E):
    valid = _valid(E)
    for f in (krugman, hhi, theil_specialization, hachman, ogive, entropy):
        v = f(E).to_numpy()
        assert np.isnan(v[~valid]).all(), f.__name__
        assert np.isfinite(v[valid]).all(), f.__name__


@SETTINGS
@given(matrices())
def test_bounds(E):
    valid = _valid(E)
    X = E.to_numpy()
    n_pos = np.sum(np.nan_to_num(X) > 0, axis=1)
    eps = 1e-12
    k = krugman(E).to_numpy()[valid]
    assert ((k >= -eps) & (k <= 2 + eps)).all()
    assert (theil_specialization(E).to_numpy()[valid] >= -eps).all()
    h = hachman(E).to_numpy()[valid]
    assert ((h > 0) & (h <= 1 + eps)).all()
    H = hhi(E).to_numpy()[valid]
    assert ((H >= 1 / n_pos[valid] - eps) & (H <= 1 + eps)).all()
    ent = entropy(E).to_numpy()[valid]
    assert ((ent >= -eps) & (ent <= np.log(n_pos[valid]) + eps)).all()
    assert (ogive(E).to_numpy()[valid] >= -eps).all()
    lead = leading_sector(E)
    assert (lead["lq_max"].to_numpy()[valid] >= 1 - eps).all()  # some published sector is at least average


@SETTINGS
@given(matrices())
def test_related_plus_unrelated_is_entropy(E):
    d = variety_decomposition(E)
    ok = d["entropy"].notna()
    assert (d.loc[ok, "related_variety"] + d.loc[ok, "unrelated_variety"] == d.loc[ok, "entropy"]).all()
    assert (d.loc[ok, ["related_variety", "unrelated_variety"]] >= 0).all().all()
    assert d.loc[~ok].isna().all().all()


@SETTINGS
@given(matrices())
def test_lq_averages_to_one_with_town_shares(E):
    valid = _valid(E)
    X = E.to_numpy()
    lq = location_quotient(E).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        s = X / np.nansum(X, axis=1, keepdims=True)
    S = _complete_case_reference(E)
    # every town: reference-weighted mean LQ over its published sectors is 1
    for r in np.flatnonzero(valid):
        pub = ~np.isnan(X[r]) & (S[r] > 0)
        assert math.isclose(np.sum(S[r, pub] * lq[r, pub]), 1.0, rel_tol=1e-12)
        # and Hachman is the inverse of the share-weighted mean LQ
        assert math.isclose(hachman(E).iloc[r], 1 / np.nansum(s[r] * np.nan_to_num(lq[r])), rel_tol=1e-12)
    # without suppressed cells: each sector's LQ averages to 1 over towns weighted by employment
    if not np.isnan(X).any() and valid.any():
        e_r = X.sum(axis=1)
        col = X.sum(axis=0)
        w = (e_r / e_r.sum())[:, None] * np.where(valid[:, None], lq, 0.0)
        assert_allclose(w.sum(axis=0)[col > 0], 1.0, rtol=1e-12)


@SETTINGS
@given(matrices(), st.floats(1e-3, 1e3), st.data())
def test_scaling_a_town_changes_nothing_against_a_fixed_reference(E, c, data):
    ref = pd.Series(data.draw(arrays(np.float64, E.shape[1], elements=st.floats(0.1, 10))), index=E.columns)
    r = data.draw(st.integers(0, E.shape[0] - 1))
    scaled = E.copy()
    scaled.iloc[r] = scaled.iloc[r] * c
    for f in (krugman, theil_specialization, hachman):
        assert_allclose(f(scaled, reference=ref).to_numpy(), f(E, reference=ref).to_numpy(), rtol=1e-10, atol=1e-13)
    for f in (hhi, ogive, entropy):
        assert_allclose(f(scaled).to_numpy(), f(E).to_numpy(), rtol=1e-10, atol=1e-14)
    assert_allclose(location_quotient(scaled, reference=ref).to_numpy(),
                    location_quotient(E, reference=ref).to_numpy(), rtol=1e-10)


@SETTINGS
@given(matrices(), st.data())
def test_suppressed_cells_are_complete_cases(E, data):
    ref = pd.Series(data.draw(arrays(np.float64, E.shape[1], elements=st.floats(0.1, 10))), index=E.columns)
    for r in range(E.shape[0]):
        pub = E.columns[E.iloc[r].notna().to_numpy()]
        if len(pub) == 0 or E.iloc[r][pub].sum() == 0:
            continue
        one = E.iloc[[r]][pub]
        for f in (krugman, theil_specialization, hachman):
            assert math.isclose(f(E, reference=ref).iloc[r], f(one, reference=ref[pub]).iloc[0], rel_tol=1e-12,
                                abs_tol=1e-15), f.__name__
        assert math.isclose(hhi(E).iloc[r], hhi(one).iloc[0], rel_tol=1e-14)
        assert math.isclose(entropy(E).iloc[r], entropy(one).iloc[0], rel_tol=1e-14, abs_tol=1e-15)


@SETTINGS
@given(arrays(np.float64, (4, 5), elements=cell_no_nan), arrays(np.float64, (4, 5), elements=cell_no_nan),
       arrays(np.float64, 5, elements=count), arrays(np.float64, 5, elements=count))
def test_shift_share_components_sum_to_the_change(r0, r1, extra0, extra1):
    cols = list("ABCDE")
    R0, R1 = pd.DataFrame(r0, columns=cols), pd.DataFrame(r1, columns=cols)
    n0 = pd.Series(r0.sum(axis=0) + extra0, index=cols)  # national totals include the towns
    n1 = pd.Series(r1.sum(axis=0) + extra1, index=cols)
    out = shift_share(R0, R1, n0, n1, method="esteban-marquillas")
    if n0.sum() == 0:
        return
    scale = np.maximum(1.0, np.abs(r0).sum(axis=1) + np.abs(r1).sum(axis=1)) * max(1.0, n1.sum() / n0.sum())
    total = out["national_share"] + out["industry_mix"] + out["competitive"]
    assert (np.abs(total - out["total_change"]) <= 1e-9 * scale).all()
    assert (np.abs(out["homothetic_competitive"] + out["allocation"] - out["competitive"]) <= 1e-9 * scale).all()
    assert_allclose(out["total_change"].to_numpy(), r1.sum(axis=1) - r0.sum(axis=1))


@SETTINGS
@given(matrices(cell_no_nan), st.floats(1e-3, 1e3))
def test_concentration_bounds_and_scale(E, c):
    h = hoover(E)
    g = locational_gini(E)
    ok = h.notna()
    assert ((h[ok] >= -1e-12) & (h[ok] <= 1 + 1e-12)).all()
    assert ((g[ok] >= -1e-12) & (g[ok] < 1 + 1e-12)).all()
    # a sector's concentration does not depend on its size
    col = E.columns[0]
    scaled = E.copy()
    scaled[col] = scaled[col] * c
    ref = E.sum(axis=1)
    assert_allclose(hoover(scaled, reference=ref)[col], hoover(E, reference=ref)[col], rtol=1e-9, atol=1e-12)
    assert_allclose(locational_gini(scaled, reference=ref)[col], locational_gini(E, reference=ref)[col],
                    rtol=1e-9, atol=1e-12)
