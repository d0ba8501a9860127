"""Hash-checked persistence: round trip, refusal of modified, truncated or foreign files, version warnings."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from typology import ModelFileError, ModelVersionWarning, persist


@pytest.fixture()
def saved(tmp_path):
    obj = {"frame": pd.DataFrame({"a": np.arange(5.0)}), "names": {1: "corporate town"}}
    path = tmp_path / "bundle.joblib"
    digest = persist.dump(obj, path, meta={"run": "r1"})
    return obj, path, digest


def _rewrite(path, header_edit=None, payload=None):
    """Re-envelope a file after editing its header, with a correct digest (an honest rewrite)."""
    raw = path.read_bytes()
    rest = raw[len(persist.MAGIC):]
    body = rest[rest.index(b"\n") + 1:]
    head, pay = body.split(b"\n", 1)
    header = json.loads(head)
    if header_edit:
        header_edit(header)
    pay = payload if payload is not None else pay
    header["size"] = len(pay)
    new_body = json.dumps(header, sort_keys=True).encode() + b"\n" + pay
    path.write_bytes(persist.MAGIC + b"sha256=" + hashlib.sha256(new_body).hexdigest().encode() + b"\n" + new_body)


def test_round_trip_and_header(saved):
    obj, path, digest = saved
    back = persist.load(path, expected_type=dict, expected_sha256=digest)
    pd.testing.assert_frame_equal(back["frame"], obj["frame"])
    assert back["names"] == obj["names"]
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    h = persist.read_header(path)
    assert h["type"] == "builtins.dict" and h["meta"] == {"run": "r1"}
    assert h["versions"]["scikit-learn"] == persist.versions()["scikit-learn"]


def test_same_object_same_bytes(saved, tmp_path):
    obj, path, digest = saved
    assert persist.dump(obj, tmp_path / "again.joblib", meta={"run": "r1"}) == digest


@pytest.mark.parametrize("where", [0.3, 0.6, 0.95])
def test_a_flipped_byte_is_refused(saved, where):
    _, path, _ = saved
    raw = bytearray(path.read_bytes())
    pos = len(persist.MAGIC) + 72 + int(where * (len(raw) - len(persist.MAGIC) - 72))
    raw[pos] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="modified|damaged|truncated|appended"):
        persist.load(path)


def test_truncated_and_appended_files_are_refused(saved):
    _, path, _ = saved
    good = path.read_bytes()
    path.write_bytes(good[:-10])
    with pytest.raises(ModelFileError, match="truncated: the header announces a payload of"):
        persist.load(path)
    path.write_bytes(good[:40])
    with pytest.raises(ModelFileError, match="truncated"):
        persist.load(path)
    path.write_bytes(good + b"extra")
    with pytest.raises(ModelFileError, match="appended to"):
        persist.load(path)


def test_foreign_file_and_wrong_record_are_refused(saved, tmp_path):
    _, path, digest = saved
    other = tmp_path / "model.pkl"
    other.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ModelFileError, match="not a model file"):
        persist.load(other)
    with pytest.raises(ModelFileError, match="not the recorded file"):
        persist.load(path, expected_sha256="0" * 64)
    with pytest.raises(TypeError, match="holds a builtins.dict, expected pandas"):
        persist.load(path, expected_type=pd.DataFrame)
    with pytest.raises(FileNotFoundError):
        persist.load(tmp_path / "absent.joblib")


def test_other_scikit_learn_version_warns(saved):
    _, path, _ = saved
    _rewrite(path, header_edit=lambda h: h["versions"].update({"scikit-learn": "0.24.2"}))
    with pytest.warns(ModelVersionWarning, match="scikit-learn 0.24.2"):
        persist.load(path)


def test_write_is_atomic_and_meta_must_be_json(tmp_path):
    with pytest.raises(TypeError, match="JSON-serializable"):
        persist.dump({"a": 1}, tmp_path / "x.joblib", meta={"bad": object()})
    assert list(tmp_path.iterdir()) == []
