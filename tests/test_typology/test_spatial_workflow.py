"""The spatial side of the shell: the generator's spillover truth (world 3), map projections,
the optional boundaries file, the ``[spatial]`` configuration, the run's spatial tables, their
reproduction and the report's section, and the real-data experiment's spatial checks."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from features import build_features
from features import spatial as sp
from typology.data.synth import SPILL_K, SPILL_THETA, generate
from typology.workflow import projection as pj
from typology.workflow.config import ConfigError, parse_config

WAGE_FORMULA = "log(avg_wage) ~ corp_share + core_control_share + corp_share:core_control_share"


# ------------------------------------------------------------------ world 3: the spillover truth
@pytest.fixture(scope="module")
def world3():
    ds = generate(world=3)  # the default size: 300 towns x 15 years
    F = build_features(ds.data)
    towns = ds.data.towns.set_index("town_id")
    w = sp.knn_weights(towns["lat"], towns["lon"], k=ds.truth["spatial"]["weights"]["k"])
    lags = []
    for _, g in F.groupby(level="year"):  # the weights among the municipalities of the year
        c = g["corp_share"].droplevel("year")
        lags.append(pd.Series(w.reindex(c.index, warn=False).lag(c.fillna(0.0)).to_numpy(), index=g.index))
    frame = F.assign(wcorp=pd.concat(lags)).join(ds.data.outcomes.set_index(["town_id", "year"])[["avg_wage"]])
    return ds, frame, w


def test_world3_truth_records_the_spillover(world3):
    ds, _, _ = world3
    s = ds.truth["spatial"]
    assert s["weights"]["k"] == SPILL_K == 6 and s["weights"]["kind"] == "knn" and s["weights"]["transform"] == "r"
    assert s["theta"]["corp_share"] == SPILL_THETA and 0 < s["lambda"] < 1
    imp = s["impacts"]["corp_share"]
    assert imp["total"] == pytest.approx(imp["direct"] + imp["indirect"])
    assert ds.truth["params"]["world"] == 3
    assert "spatial" not in generate(n_towns=8, n_years=5).truth  # world 2 has no spillover


def test_world3_changes_only_the_wages_of_world2():
    a, b = generate(n_towns=40, n_years=6, seed=3), generate(n_towns=40, n_years=6, seed=3, world=3)
    for name, t in a.data.tables().items():
        u = b.data.tables()[name]
        cols = [c for c in t.columns if c != "avg_wage"]
        pd.testing.assert_frame_equal(t[cols], u[cols])
    assert not np.allclose(a.data.outcomes["avg_wage"], b.data.outcomes["avg_wage"], equal_nan=True)


def test_slx_spillover_is_recovered_inside_its_95_percent_interval(world3):
    from models import PanelModelSpec, fit_panel_model

    ds, frame, _ = world3
    r = fit_panel_model(frame, PanelModelSpec(formula=f"{WAGE_FORMULA} + wcorp", estimator="within",
                                              effects="twoway", cov_type="clustered", cluster="entity"))
    lo, hi = r.conf_int().loc["wcorp"]
    assert lo < ds.truth["spatial"]["theta"]["corp_share"] < hi
    assert lo > 0  # the spillover is detected
    lo, hi = r.conf_int().loc["corp_share"]
    assert lo < ds.truth["spatial"]["impacts"]["corp_share"]["direct"] < hi


def test_within_residuals_without_the_spatial_term_are_spatially_correlated(world3):
    """The shock is a SAR error: Moran's I of the two-way within residuals is positive in every year."""
    from models import PanelModelSpec, fit_panel_model
    from typology.workflow.config import SpatialConfig
    from typology.workflow.spatial import residual_moran_table

    ds, frame, _ = world3
    r = fit_panel_model(frame, PanelModelSpec(formula=WAGE_FORMULA, estimator="within", effects="twoway"))
    notes: list[str] = []
    tab = residual_moran_table({"wages": r}, frame, ds.data.towns.set_index("town_id"),
                               SpatialConfig(k=6, permutations=0), 0, notes)
    assert len(tab) == ds.truth["params"]["n_years"] and not notes
    assert (tab["I"] > 0).all() and (tab["p_norm"] < 0.05).mean() >= 0.8
    # the same residuals of world 2 (no spatial shock) are not: far fewer significant years
    d2 = generate()
    f2 = build_features(d2.data).join(d2.data.outcomes.set_index(["town_id", "year"])[["avg_wage"]])
    r2 = fit_panel_model(f2, PanelModelSpec(formula=WAGE_FORMULA, estimator="within", effects="twoway"))
    t2 = residual_moran_table({"wages": r2}, f2, d2.data.towns.set_index("town_id"),
                              SpatialConfig(k=6, permutations=0), 0, [])
    assert tab["I"].mean() > t2["I"].mean() + 0.05 and (t2["p_norm"] < 0.05).mean() < 0.5


# ------------------------------------------------------------------ projections
def test_antimeridian_points_project_next_to_each_other():
    lat = np.array([66.0, 66.0, 64.7, 69.4])
    lon = np.array([179.9, -179.9, 177.5, -172.0])  # Chukotka on both sides of 180 degrees
    proj = pj.projector(lat, lon)
    assert abs(abs(proj.lon0) - 180.0) < 5.0
    x, y = proj(lat, lon)
    assert np.hypot(x[0] - x[1], y[0] - y[1]) < 15.0  # about 9 km apart on the ground
    assert x[2] < x[0] < x[1] < x[3]  # west to east, no wrap


def test_central_meridian_of_russia_lies_in_siberia():
    lon = np.array([20.5, 37.6, 60.6, 82.9, 104.3, 135.1, 158.6, 177.5, -173.0])  # Kaliningrad .. Chukotka
    lon0 = pj.central_meridian(lon)
    assert 85.0 < lon0 < 110.0
    assert np.ptp(pj.unwrap(lon, lon0)) < 200.0


def test_albers_matches_snyder_numerical_example():
    """Snyder (1987) p. 292, Albers on the sphere: R = 1, phi1 = 29.5, phi2 = 45.5, phi0 = 23,
    lambda0 = -96; (35 N, 75 W) -> x = 0.2952720, y = 0.2416774."""
    x, y = pj.albers(35.0, -75.0, lon0=-96.0, lat1=29.5, lat2=45.5, lat0=23.0, radius=1.0)
    assert x == pytest.approx(0.2952720, abs=1e-7)
    assert y == pytest.approx(0.2416774, abs=1e-7)


def test_polar_azimuthal_is_equal_area_at_the_pole_and_the_equator():
    """rho = 2 R sin(pi/4 - phi/2): 0 at the pole, R sqrt(2) on the equator; the area inside a
    parallel, pi rho^2, equals the spherical cap 2 pi R^2 (1 - sin phi)."""
    x, y = pj.polar_azimuthal(np.array([90.0, 0.0, 70.0]), np.array([0.0, 10.0, 40.0]), lon0=10.0, radius=1.0)
    rho = np.hypot(x, y)
    assert rho[0] == pytest.approx(0.0, abs=1e-12) and rho[1] == pytest.approx(np.sqrt(2.0))
    assert np.pi * rho[2] ** 2 == pytest.approx(2 * np.pi * (1 - np.sin(np.radians(70.0))))
    assert x[1] == pytest.approx(0.0, abs=1e-12) and y[1] < 0  # the central meridian points down


def test_projector_chooses_polar_for_high_latitudes_and_a_conic_otherwise():
    assert pj.projector([60.0, 81.5], [30.0, 100.0]).kind == "polar"
    p = pj.projector([60.0, 72.0], [30.0, 170.0])
    assert p.kind == "albers" and p.lat1 == pytest.approx(62.0) and p.lat2 == pytest.approx(70.0)


# ------------------------------------------------------------------ boundaries
def _square(lon, lat, d=0.2):
    return [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]


def _geojson(features):
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_boundaries_are_read_and_bad_features_named():
    from typology.data.io import boundary_problems

    ids = pd.Index(["a", "b", "c"])
    good = [{"type": "Feature", "properties": {"town_id": "a"}, "geometry": {"type": "Polygon", "coordinates": _square(30, 60)}},
            {"type": "Feature", "properties": {"town_id": "b"},
             "geometry": {"type": "MultiPolygon", "coordinates": [_square(31, 60), _square(32, 61)]}}]
    polys, problems = boundary_problems(_geojson(good), "boundaries.geojson", ids)
    assert not problems and set(polys) == {"a", "b"} and len(polys["b"]) == 2
    bad = [*good, {"type": "Feature", "properties": {"town_id": "zz"}, "geometry": good[0]["geometry"]},
           {"type": "Feature", "properties": {}, "geometry": good[0]["geometry"]},
           {"type": "Feature", "properties": {"town_id": "c"}, "geometry": {"type": "Point", "coordinates": [1, 2]}},
           {"type": "Feature", "properties": {"town_id": "a"}, "geometry": good[0]["geometry"]}]
    _, problems = boundary_problems(_geojson(bad), "boundaries.geojson", ids)
    text = "\n".join(map(str, problems))
    assert "town_id not in towns.csv (features 3 of 6)" in text and "features without town_id (features 4" in text
    assert "another geometry" in text and "a town given twice (features 6" in text
    _, problems = boundary_problems(b"{not json", "boundaries.geojson", ids)
    assert "not valid JSON" in str(problems[0])


def test_a_dataset_with_bad_boundaries_is_refused_in_one_pass(tmp_path):
    from features.validation import DataValidationError
    from typology.data.io import read_boundaries, read_dataset, write_dataset

    ds = generate(n_towns=8, n_years=5, world=3)
    d = write_dataset(ds.data, tmp_path / "d")
    assert read_boundaries(d) is None  # optional
    (d / "boundaries.geojson").write_bytes(_geojson([{"type": "Feature", "properties": {"town_id": "nope"},
                                                      "geometry": {"type": "Polygon", "coordinates": _square(30, 60)}}]))
    with pytest.raises(DataValidationError, match="boundaries.geojson.*town_id not in towns.csv"):
        read_dataset(d)


# ------------------------------------------------------------------ [spatial] configuration
def test_spatial_section_is_checked_and_round_trips():
    cfg = parse_config({"data": {"path": "/tmp"}, "spatial": {"variables": ["entropy"], "k": 5}})
    assert cfg.spatial.k == 5 and cfg.spatial.variables == ("entropy",) and cfg.spatial.random_state > 0
    assert parse_config(cfg.to_dict()).spatial == cfg.spatial
    assert "spatial" not in parse_config({"data": {"path": "/tmp"}}).to_dict()  # runs without it record what they did
    for bad, text in (({"weights": "queen"}, 'weights: expected one of "knn"'),
                      ({"weights": "distance_band"}, "km: missing"),
                      ({"km": 50}, "km: applies to weights"),
                      ({"variables": ["status"]}, "text columns"),
                      ({"permutations": -1}, "permutations: expected an integer"),
                      ({"fdr": 0}, "fdr: expected a number in (0, 1]"),
                      ({"colour": 1}, "unknown key")):
        with pytest.raises(ConfigError, match=text.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                           .replace("]", r"\]")):
            parse_config({"data": {"path": "/tmp"}, "spatial": bad})


# ------------------------------------------------------------------ a run with [spatial]
CONFIG = """
[data]
path = "data"
[typology]
features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
n_types = 4
n_boot = 20
n_ref = 5
[[models]]
name = "wages"
formula = "log(avg_wage) ~ corp_share + core_control_share"
estimator = "within"
effects = "twoway"
[spatial]
variables = ["entropy", "corp_share", "avg_wage"]
permutations = 99
"""


@pytest.fixture(scope="module")
def spatial_run(tmp_path_factory):
    from typology.cli import main
    from typology.data.io import write_dataset

    root = tmp_path_factory.mktemp("spatial_run")
    ds = generate(n_towns=80, n_years=6, seed=2, world=3)
    d = write_dataset(ds.data, root / "data", truth=ds.truth)
    towns = ds.data.towns
    feats = [{"type": "Feature", "properties": {"town_id": t},
              "geometry": {"type": "Polygon", "coordinates": _square(lo - 0.1, la - 0.1)}}
             for t, la, lo in zip(towns["town_id"][:30], towns["lat"][:30], towns["lon"][:30], strict=True)]
    (d / "boundaries.geojson").write_bytes(_geojson(feats))
    (root / "cfg.toml").write_text(CONFIG, encoding="utf-8")
    assert main(["fit", str(root / "cfg.toml"), "--out", str(root / "run"), "--quiet"]) == 0
    return root / "run"


def test_run_writes_the_spatial_tables(spatial_run):
    auto = pd.read_csv(spatial_run / "spatial_autocorrelation.csv")
    assert list(auto["variable"]) == ["entropy", "corp_share", "avg_wage"]
    assert ((auto[["p_norm", "p_sim", "C_p_sim"]] >= 0) & (auto[["p_norm", "p_sim", "C_p_sim"]] <= 1)).all().all()
    types = pd.read_csv(spatial_run / "types.csv", dtype={"town_id": str}).set_index("town_id")["type"]
    towns = pd.read_csv(spatial_run / "towns.csv", dtype={"town_id": str}).set_index("town_id")
    w = sp.knn_weights(towns.loc[types.index, "lat"], towns.loc[types.index, "lon"], k=6)
    F = pd.read_parquet(spatial_run / "features.parquet")
    last = F["entropy"].groupby(level="town_id").last().reindex(types.index)
    assert auto.loc[0, "I"] == pytest.approx(sp.moran(last, w, permutations=0).I, abs=1e-12)
    lisa = pd.read_csv(spatial_run / "lisa.csv", dtype={"town_id": str})
    assert set(lisa.columns) >= {"town_id", "variable", "Is", "p_sim", "q_value", "cluster", "z", "lag"}
    assert set(lisa["cluster"]) <= set(sp.CLUSTERS)
    e = lisa[lisa["variable"] == "entropy"]
    assert float(np.dot(e["z"], e["lag"]) / np.dot(e["z"], e["z"])) == pytest.approx(auto.loc[0, "I"])  # scatter slope
    joins = pd.read_csv(spatial_run / "type_joins.csv", dtype={"type": str})
    assert set(joins["type"]) == {*types.astype(str).unique(), "different"}
    res = pd.read_csv(spatial_run / "residual_moran.csv")
    assert list(res["year"]) == sorted(res["year"]) and set(res["model"]) == {"wages"}
    assert (spatial_run / "boundaries.geojson").is_file()


def test_report_has_the_spatial_section_and_projected_maps(spatial_run):
    md = (spatial_run / "report.md").read_text(encoding="utf-8")
    assert "## Spatial structure" in md and "Join counts of the types" in md and "residuals of the linear models" in md
    for f in ("lisa_1", "moran_scatter_1", "lisa_3", "map"):
        assert (spatial_run / "figures" / f"{f}.png").is_file()
    assert "figures/lisa_2.png" in md


def test_reproduce_compares_the_spatial_tables(spatial_run, tmp_path):
    import shutil

    from typology.workflow.manifest import load_manifest, output_hashes, write_manifest
    from typology.workflow.runs import reproduce_run

    assert reproduce_run(spatial_run, quiet=True) == []
    copy = tmp_path / "run"
    shutil.copytree(spatial_run, copy)
    lisa = pd.read_csv(copy / "lisa.csv", dtype={"town_id": str})
    lisa.loc[0, "cluster"] = "low-high" if lisa.loc[0, "cluster"] != "low-high" else "high-high"
    lisa.to_csv(copy / "lisa.csv", index=False)
    m = load_manifest(copy)
    m["outputs"] = output_hashes(copy)
    write_manifest(copy, m)
    diffs = reproduce_run(copy, quiet=True)
    assert any(d.startswith("lisa: column 'cluster' differs in 1 row") for d in diffs), diffs


def test_spatial_model_hook_turns_fits_into_rows():
    """The hook for spatial models in [[models]]: any result with params and std_errors; impacts from fits."""
    from types import SimpleNamespace

    from typology.workflow.spatial import spatial_impact_rows, spatial_model_rows

    imp = pd.DataFrame({"direct": [0.3], "direct_se": [0.01], "indirect": [0.2], "indirect_se": [0.02],
                        "total": [0.5], "total_se": [0.03]}, index=pd.Index(["x"], name="term"))
    fit = SimpleNamespace(params=pd.Series({"x": 0.28, "rho": 0.4}), std_errors=pd.Series({"x": 0.02, "rho": 0.05}),
                          impacts=imp)
    rows = spatial_model_rows({"sar": fit})
    assert list(rows["term"]) == ["x", "rho"] and list(rows["std_error"]) == [0.02, 0.05]
    assert np.isnan(rows.loc[0, "loglik"])
    irows = spatial_impact_rows({"sar": fit})
    assert list(irows["term"]) == ["x"] and irows.loc[0, "indirect_se"] == 0.02
    assert spatial_model_rows({}).empty and spatial_impact_rows({}).empty


# ------------------------------------------------------------------ real data
@pytest.mark.slow
def test_real_data_experiment_reports_spatial_autocorrelation(shared_data, tmp_path, monkeypatch):
    from typology.workflow.experiments import russia_north_real

    monkeypatch.chdir(tmp_path)
    checks = russia_north_real(shared_data, quiet=True)
    auto = pd.DataFrame(checks["spatial"]["autocorrelation"]).set_index("variable")
    assert {"lq_max", "entropy", "hhi", "market_potential"} <= set(auto.index)
    assert auto.loc["market_potential", "I"] > 0.1 and auto.loc["market_potential", "p_sim"] < 0.05
    res = pd.DataFrame(checks["spatial"]["residual_moran"])
    assert set(res["year"]) == {2023, 2024} and (res["I"] > 0).all()
    towns = pd.read_csv(tmp_path / "runs/russia_north_real/towns.csv", dtype={"town_id": str})
    proj = pj.projector(towns["lat"], towns["lon"])
    x, _ = proj(towns["lat"], towns["lon"])
    chukotka = towns["lon"].abs() > 170
    assert chukotka.any() and (x[chukotka.to_numpy()] > np.percentile(x, 90)).all()  # at the eastern edge, not wrapped


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_russian_report_translates_the_spatial_section(spatial_run, tmp_path):
    import shutil

    from typology.cli import main

    d = tmp_path / "run"
    shutil.copytree(spatial_run, d)
    assert main(["report", str(d), "--lang", "ru", "--quiet"]) == 0
    md = (d / "report.md").read_text(encoding="utf-8")
    assert "## Пространственная структура" in md
    for en, ru in (("Weights: ", "Веса: "), ("LISA clusters (local Moran", "Кластеры LISA (локальный I Морана"),
                   ("Join counts of the types", "Подсчёт соседств типов"),
                   ("Moran's I of the residuals", "I Морана остатков линейных моделей"),
                   ("LISA cluster map of", "карта кластеров LISA"), ("Moran scatter plot of", "диаграмма рассеяния Морана")):
        assert en not in md and ru in md
    assert "q-значение Бенджамини-Хохберга <= 0,05" in md  # a decimal comma in the sentence
