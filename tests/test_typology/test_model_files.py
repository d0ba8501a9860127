"""Model files on every load path: a file that would run code if it were unpickled or obeyed is
refused by ``typology score``, ``report``, ``reproduce``, ``TownTypology.load`` and
``typology.persist.load`` (the marker file it would write never appears); identical fits give
byte-identical model files; a loaded typology, feature builder and model results compute
exactly what the fitted ones compute."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import warnings
import zlib

import joblib
import numpy as np
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from typology import ModelFileError, TownTypology, persist, town_rows
from typology.cli import main
from typology.data.io import read_dataset, write_dataset
from typology.data.synth import generate
from typology.workflow.config import load_config
from typology.workflow.pipeline import run_pipeline
from typology.workflow.progress import Progress
from typology.workflow.runs import BUNDLE, MANIFEST

CONFIG = """
[data]
path = "data"

[features]
groups = ["specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics"]

[typology]
features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
period = "last"
k_range = [2, 5]
n_boot = 10
n_ref = 5
n_ps = 2
random_state = 0

[[models]]
name = "wages"
formula = "log(avg_wage) ~ corp_share + core_control_share + corp_share:core_control_share"
estimator = "within"
effects = "twoway"
cov_type = "clustered"
cluster = "entity"
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("model_files")
    write_dataset(generate(n_towns=60, n_years=6, seed=3).data, root / "data")
    write_dataset(generate(n_towns=30, n_years=6, seed=11).data, root / "new")
    (root / "config.toml").write_text(CONFIG)
    for run in ("run_a", "run_b"):
        assert main(["fit", str(root / "config.toml"), "--out", str(root / run), "--quiet"]) == 0
    return root


# ------------------------------------------------------------------ identical fits, identical files
def test_identical_fits_give_byte_identical_model_files(root):
    a, b = (root / "run_a" / BUNDLE).read_bytes(), (root / "run_b" / BUNDLE).read_bytes()
    assert a == b
    m = json.loads((root / "run_a" / MANIFEST).read_text())
    assert m["outputs"][BUNDLE] == hashlib.sha256(a).hexdigest()


def test_saving_a_typology_twice_gives_identical_bytes(root, tmp_path):
    X = run_pipeline(load_config(root / "config.toml"), read_dataset(root / "data"), Progress(quiet=True)).typology_input
    for method in ("kmeans", "gmm"):
        fits = [TownTypology(method=method, k_range=(2, 4), n_boot=5, n_ref=3, n_ps=2, random_state=0).fit(X)
                for _ in range(2)]
        digests = [f.save(tmp_path / f"{method}{i}.nordtowns") for i, f in enumerate(fits)]
        assert digests[0] == digests[1]
        back = TownTypology.load(tmp_path / f"{method}0.nordtowns", expected_sha256=digests[0])
        assert back.save(tmp_path / f"{method}_again.nordtowns") == digests[0]  # load -> save is the identity
        assert_frame_equal(back.assign(X), fits[0].assign(X), check_exact=True)


# ------------------------------------------------------------------ round trip to the bit
@pytest.fixture(scope="module")
def fitted_and_loaded(root):
    cfg = load_config(root / "config.toml")
    res = run_pipeline(cfg, read_dataset(root / "data"), Progress(quiet=True))
    return res, persist.load(root / "run_a" / BUNDLE, expected_type=dict)


def test_the_run_folder_holds_exactly_the_fitted_state(fitted_and_loaded):
    res, bundle = fitted_and_loaded
    for key, obj in (("builder", res.builder), ("typology", res.typology), ("models", res.models)):
        assert persist.fingerprint(bundle[key]) == persist.fingerprint(obj), key


def test_a_loaded_typology_types_towns_exactly_as_the_fitted_one(fitted_and_loaded, root):
    res, bundle = fitted_and_loaded
    typ, back = res.typology, bundle["typology"]
    assert type(back) is TownTypology and "_knn_tree" not in vars(back)
    new = res.builder.transform(read_dataset(root / "new"))
    X_new = town_rows(new, "last")[list(typ.feature_names_in_)].dropna()
    for X in (res.typology_input, X_new):
        assert_series_equal(back.predict(X), typ.predict(X), check_exact=True)
        assert_frame_equal(back.predict_proba(X), typ.predict_proba(X), check_exact=True)
        assert_frame_equal(back.assign(X), typ.assign(X), check_exact=True)
    assert_series_equal(back.labels_, typ.labels_, check_exact=True)
    assert back.type_names_ == typ.type_names_ and back.selection_reason_ == typ.selection_reason_
    assert_frame_equal(back.selection_, typ.selection_, check_exact=True)
    assert back.selection_.attrs == typ.selection_.attrs
    assert_frame_equal(back.surrogate_.rules, typ.surrogate_.rules, check_exact=True)
    Xs = res.typology_input.to_numpy(dtype=float)
    assert np.array_equal(back.surrogate_.tree.apply(Xs), typ.surrogate_.tree.apply(Xs))


def test_a_loaded_feature_builder_computes_features_exactly(fitted_and_loaded, root):
    res, bundle = fitted_and_loaded
    for name in ("data", "new"):
        data = read_dataset(root / name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a, b = res.builder.transform(data), bundle["builder"].transform(data)
        assert_frame_equal(b, a, check_exact=True)


def test_loaded_model_results_are_identical(fitted_and_loaded):
    res, bundle = fitted_and_loaded
    assert list(bundle["models"]) == list(res.models)
    for name, r in res.models.items():
        b = bundle["models"][name]
        assert_series_equal(b.params, r.params, check_exact=True)
        assert_series_equal(b.std_errors, r.std_errors, check_exact=True)
        assert_frame_equal(b.cov, r.cov, check_exact=True)
        assert b.summary() == r.summary() and b.spec == r.spec and b.notes == r.notes
        assert np.array_equal(b.fit_data.Xt, r.fit_data.Xt)


# ------------------------------------------------------------------ files that would run code
class _WritesMarker:
    """Unpickling this creates the file ``path`` (what a malicious model file would do)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def _old_envelope(path, declared, marker):
    """A pickle-based model file of the previous format (NORDTOWNS-PERSIST/1), digest correct."""
    buf = io.BytesIO()
    joblib.dump({"builder": _WritesMarker(marker), "typology": None, "models": {}, "config": {}}, buf,
                compress=("zlib", 3))
    payload = buf.getvalue()
    body = json.dumps({"type": declared, "size": len(payload), "versions": persist.versions(), "meta": {}},
                      sort_keys=True).encode() + b"\n" + payload
    path.write_bytes(b"NORDTOWNS-PERSIST/1\nsha256=" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    return payload


def _crafted(path, declared, root):
    doc = json.dumps({"arrays": [], "root": root}).encode()
    payload = zlib.compress(doc + b"\n")
    header = {"type": declared, "compression": "zlib", "size": len(payload), "raw_size": len(doc) + 1,
              "document_size": len(doc), "versions": persist.versions(), "meta": {}}
    body = json.dumps(header, sort_keys=True).encode() + b"\n" + payload
    path.write_bytes(persist.MAGIC + b"sha256=" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)


def write_payload(kind, path, marker, declared="builtins.dict"):
    """Write a model file of ``kind`` that would create ``marker`` if its content were executed."""
    if kind == "pickle":
        _old_envelope(path, declared, marker)
    elif kind == "os.system":
        call = {"$": "object", "type": "os.system", "attrs": ["command"], "values": [f"touch {marker}"]}
        root = call if declared != "builtins.dict" else {"$": "dict", "keys": ["builder"], "values": [call]}
        _crafted(path, declared, root)
    else:  # the root itself is declared to be a call of eval
        _crafted(path, "builtins.eval", {"$": "object", "type": "builtins.eval", "attrs": ["source"],
                                         "values": [f"open({str(marker)!r}, 'w')"]})


PAYLOADS = ["pickle", "os.system", "builtins.eval"]
REFUSAL = {"pickle": "older version of nordtowns", "os.system": "names the type 'os.system'",
           "builtins.eval": "holds a builtins.eval|names the type 'builtins.eval'"}


def test_the_pickle_payload_is_live(tmp_path):
    """The pickle used below does write the marker when unpickled (so its absence means something)."""
    marker = tmp_path / "marker"
    payload = _old_envelope(tmp_path / "m", "builtins.dict", marker)
    joblib.load(io.BytesIO(payload))
    assert marker.exists()


def _tampered_run(root, tmp_path, kind):
    """A copy of a run folder whose model file is replaced and whose manifest records the new
    file's sha256, as someone who can write the folder would leave it."""
    d = tmp_path / "run"
    shutil.copytree(root / "run_a", d)
    marker = tmp_path / "marker"
    write_payload(kind, d / BUNDLE, marker)
    m = json.loads((d / MANIFEST).read_text())
    m["outputs"][BUNDLE] = hashlib.sha256((d / BUNDLE).read_bytes()).hexdigest()
    (d / MANIFEST).write_text(json.dumps(m, indent=1))
    return d, marker


@pytest.mark.parametrize("kind", PAYLOADS)
def test_score_refuses_a_model_file_that_would_run_code(root, tmp_path, capsys, kind):
    d, marker = _tampered_run(root, tmp_path, kind)
    out = tmp_path / "scores.csv"
    assert main(["score", str(d), "--data", str(root / "new"), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert re.search(REFUSAL[kind], err) and BUNDLE in err
    assert not marker.exists() and not out.exists()


@pytest.mark.parametrize("kind", PAYLOADS)
def test_report_refuses_a_model_file_that_would_run_code(root, tmp_path, capsys, kind):
    d, marker = _tampered_run(root, tmp_path, kind)
    before = (d / "report.md").read_bytes()
    assert main(["report", str(d)]) == 1
    assert re.search(REFUSAL[kind], capsys.readouterr().err)
    assert not marker.exists() and (d / "report.md").read_bytes() == before


@pytest.mark.parametrize("kind", PAYLOADS)
def test_reproduce_refuses_a_model_file_that_would_run_code(root, tmp_path, capsys, kind):
    d, marker = _tampered_run(root, tmp_path, kind)
    assert main(["reproduce", str(d), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "model file" in err and re.search(REFUSAL[kind], err)
    assert not marker.exists()


def test_report_and_score_refuse_a_model_file_the_manifest_does_not_record(root, tmp_path, capsys):
    d = tmp_path / "run"
    shutil.copytree(root / "run_a", d)
    persist.dump({"builder": None, "typology": None, "models": {}, "config": {}}, d / BUNDLE)  # valid, not recorded
    assert main(["report", str(d)]) == 1
    assert f"{BUNDLE}: modified" in capsys.readouterr().err  # the hashes are checked before anything is read
    assert main(["score", str(d), "--data", str(root / "new"), "--out", str(tmp_path / "s.csv"), "--quiet"]) == 1
    assert f"{BUNDLE}: modified" in capsys.readouterr().err


def test_a_run_folder_of_the_pickle_format_is_refused_with_a_message(root, tmp_path, capsys):
    """A run folder written before model files were data: model.joblib, recorded in the manifest."""
    d = tmp_path / "run"
    shutil.copytree(root / "run_a", d)
    marker = tmp_path / "marker"
    (d / BUNDLE).unlink()
    _old_envelope(d / "model.joblib", "builtins.dict", marker)
    m = json.loads((d / MANIFEST).read_text())
    del m["outputs"][BUNDLE]
    m["outputs"]["model.joblib"] = hashlib.sha256((d / "model.joblib").read_bytes()).hexdigest()
    (d / MANIFEST).write_text(json.dumps(m, indent=1))
    assert main(["report", str(d)]) == 1
    assert f"records no sha256 for {BUNDLE}" in capsys.readouterr().err
    assert main(["score", str(d), "--data", str(root / "new"), "--out", str(tmp_path / "s.csv"), "--quiet"]) == 1
    assert "older version" in capsys.readouterr().err
    assert not marker.exists()


@pytest.mark.parametrize("kind", PAYLOADS)
def test_typology_load_refuses_a_model_file_that_would_run_code(tmp_path, kind):
    path, marker = tmp_path / "typology.nordtowns", tmp_path / "marker"
    write_payload(kind, path, marker, declared="typology.estimator.TownTypology")
    with pytest.raises((ModelFileError, TypeError), match=REFUSAL[kind]):
        TownTypology.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("kind", PAYLOADS)
def test_persist_load_refuses_a_model_file_that_would_run_code(tmp_path, kind):
    path, marker = tmp_path / "x.nordtowns", tmp_path / "marker"
    write_payload(kind, path, marker)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for kw in ({}, {"expected_sha256": digest}, {"expected_type": dict}):
        with pytest.raises((ModelFileError, TypeError), match=REFUSAL[kind]):
            persist.load(path, **kw)
        assert not marker.exists()
    with pytest.raises(ModelFileError, match="not the recorded file"):
        persist.load(path, expected_sha256="0" * 64)
    if kind == "pickle":
        with pytest.raises(ModelFileError, match="must be refitted|Refit the run"):
            persist.read_header(path)
    assert not marker.exists()
