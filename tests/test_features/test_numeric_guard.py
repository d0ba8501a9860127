"""No floating-point warning passes silently into features.

Implausible magnitudes are refused by validation (``features.validation``: counts < 1e10,
amounts <= 1e15); what validation lets through but float64 cannot hold (a parameter, an
absurdly small area) raises ``FeatureValueError`` from the builder instead of producing
infinite or zero features, and a feature outside the range its definition allows is refused
with its name and town-years.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import features.builder as builder_module
import features.groups.specialization as specialization_group
from features import build_features
from features._matrix import thread_map
from features.builder import FeatureBuilder, FeatureValueError
from features.connectivity import haversine_km, market_potential, market_potential_from_coords
from features.validation import DataValidationError


@pytest.fixture(scope="module")
def data(small_synthetic):
    return small_synthetic.data


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", builder_module.FeatureWarning)
        return fn(*args, **kwargs)


def test_employment_of_1e308_is_refused_in_memory_too(data):
    emp = data.employment
    emp.loc[5, "employment"] = 1e308
    with pytest.raises(DataValidationError) as info:
        data.replace(employment=emp)
    (p,) = info.value.problems
    assert p.column == "employment" and p.rows == (6,) and "1e+10" in p.expected


def test_overflow_raises_instead_of_an_infinite_market_potential(data):
    # area_km2 = 1e-200 is positive, so it validates; the internal distance (2/3) sqrt(a / pi)
    # = 3.8e-101 km raised to -4 is 5e401, beyond float64: before the guard the town got
    # market_potential = inf with only a numpy RuntimeWarning.
    towns = data.towns
    towns.loc[0, "area_km2"] = 1e-200
    tiny = data.replace(towns=towns)
    with pytest.raises(FeatureValueError) as info:
        _quiet(build_features, tiny, groups=["agglomeration"], self_potential=True, mp_beta=4.0)
    msg = str(info.value)
    assert "overflow" in msg and "agglomeration" in msg and "self_potential=True" in msg
    # the same data with a sane parameter builds, every value finite
    F = _quiet(build_features, tiny, groups=["agglomeration"], self_potential=False, mp_beta=4.0)
    assert np.isfinite(F["market_potential"]).all()


def test_overflow_inside_worker_threads_raises():
    # numpy's error settings are per thread: thread_map carries the caller's into its workers
    def blow_up(x):
        return np.float64(1e300) * x

    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            thread_map(blow_up, [1e10, 1e10, 1e10, 1e10], n_jobs=2)
        assert thread_map(lambda x: np.float64(2.0) * x, [1.0, 2.0], n_jobs=2) == [2.0, 4.0]


def test_large_distance_decay_matches_the_direct_sum():
    # beta = 80 with a 1 km floor: every weight d^-80 <= 1, nothing overflows in km; the blocked
    # kernel used to split it as (2R)^-80 (underflow to 0) times (d / 2R)^-80 (overflow to inf)
    # and returned 0 or NaN. Reference: the dense definition, sum_j mass_j d_ij^-80 over
    # haversine distances floored at 1 km.
    lat = pd.Series([64.000, 64.010, 64.025, 64.000, 64.020], index=list("abcde"))
    lon = pd.Series([40.000, 40.000, 40.010, 40.030, 40.040], index=list("abcde"))
    mass = pd.Series([1e5, 2e4, 3e3, 5e4, 7e2], index=list("abcde"))
    D = haversine_km(lat, lon).clip(lower=1.0)
    ref = market_potential(mass, D, beta=80.0)
    got = market_potential_from_coords(mass, lat, lon, beta=80.0, min_distance_km=1.0)["market_potential"]
    assert (ref > 0).all()
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-9)
    origins = pd.DataFrame({"lat": (lat + 0.001).to_numpy(), "lon": lon.to_numpy()}, index=[f"n{i}" for i in range(5)])
    got_new = market_potential_from_coords(mass, lat, lon, beta=80.0, min_distance_km=1.0, origins=origins)
    D_new = haversine_km(origins["lat"], origins["lon"], lat, lon).clip(lower=1.0)
    np.testing.assert_allclose(got_new["market_potential"].to_numpy(),
                               market_potential(mass, D_new, beta=80.0).to_numpy(), rtol=1e-9)


def test_large_mp_beta_builds_finite_features(data):
    F = _quiet(build_features, data, groups=["agglomeration"], mp_beta=80.0)
    mp = F["market_potential"]
    assert mp.notna().all() and np.isfinite(mp).all() and (mp > 0).any()


def test_impossible_feature_value_is_refused_naming_feature_and_town_years(data, monkeypatch):
    # a kernel that went wrong without any floating-point flag: normalized HHI below 0
    monkeypatch.setattr(specialization_group, "normalize_hhi", lambda h, k: h - 2.0)
    with pytest.raises(FeatureValueError) as info:
        _quiet(build_features, data, groups=["specialization"])
    msg = str(info.value)
    first = data.employment.sort_values(["town_id", "year"]).iloc[0]
    assert "'hhi_norm' outside [0, 1]" in msg
    assert f"({first['town_id']!r}, {first['year']})" in msg
    fb = _quiet(FeatureBuilder(groups=["specialization"]).fit, data)
    with pytest.raises(FeatureValueError, match="hhi_norm"):
        _quiet(fb.transform, data)


def test_the_cli_reports_an_overflow_as_a_data_error(data, tmp_path, capsys):
    # `typology features DATASET --config C`: exit 1 with one message, never a traceback
    from typology.cli import main
    from typology.data.io import write_dataset

    towns = data.towns
    towns.loc[0, "area_km2"] = 1e-200
    write_dataset(data.replace(towns=towns), tmp_path / "d")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[data]\npath = "d"\n[features]\ngroups = ["agglomeration"]\nself_potential = true\n'
                   'mp_beta = 4.0\n[typology]\nfeatures = ["market_potential"]\n', encoding="utf-8")
    code = main(["features", str(tmp_path / "d"), "--out", str(tmp_path / "f.csv"), "--config", str(cfg)])
    err = capsys.readouterr().err
    assert code == 1 and "overflow" in err and "Traceback" not in err
    assert not (tmp_path / "f.csv").exists()
