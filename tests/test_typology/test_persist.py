"""Model files: round trip of every supported value exactly, refusal of modified, truncated,
foreign or crafted files, version warnings, and values that cannot be saved as data."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_index_equal, assert_series_equal

from typology import ModelFileError, ModelVersionWarning, persist


@pytest.fixture()
def saved(tmp_path):
    obj = {"frame": pd.DataFrame({"a": np.arange(5.0)}), "names": {1: "corporate town"}}
    path = tmp_path / "bundle.nordtowns"
    digest = persist.dump(obj, path, meta={"run": "r1"})
    return obj, path, digest


def _parts(path):
    """(header, document, array bytes) of a model file, read with the format's description only."""
    raw = path.read_bytes()
    rest = raw[len(persist.MAGIC):]
    body = rest[rest.index(b"\n") + 1:]
    head, payload = body.split(b"\n", 1)
    header = json.loads(head)
    plain = zlib.decompress(payload)
    return header, json.loads(plain[:header["document_size"]]), plain[header["document_size"] + 1:]


def forge(path, header, doc=None, blob=b"", payload=None):
    """Write a model file with a correct digest around any header and document: what someone who
    can write the file can produce. ``payload`` replaces the compressed document and arrays."""
    if payload is None:
        text = json.dumps(doc).encode()
        raw = text + b"\n" + blob
        payload = zlib.compress(raw)
        header = {**header, "raw_size": len(raw), "document_size": len(text)}
    header = {**header, "size": len(payload)}
    body = json.dumps(header, sort_keys=True).encode() + b"\n" + payload
    path.write_bytes(persist.MAGIC + b"sha256=" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    return path


def test_round_trip_and_header(saved):
    obj, path, digest = saved
    back = persist.load(path, expected_type=dict, expected_sha256=digest)
    assert_frame_equal(back["frame"], obj["frame"], check_exact=True)
    assert back["names"] == obj["names"]
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    h = persist.read_header(path)
    assert h["type"] == "builtins.dict" and h["meta"] == {"run": "r1"} and h["compression"] == "zlib"
    assert h["versions"]["scikit-learn"] == persist.versions()["scikit-learn"]


def test_same_object_same_bytes(saved, tmp_path):
    obj, path, digest = saved
    assert persist.dump(obj, tmp_path / "again.nordtowns", meta={"run": "r1"}) == digest


def _frame():
    idx = pd.MultiIndex.from_arrays([pd.Index(["b", "a", "a"], name="town_id"),
                                     pd.Index([2020, 2020, 2021], name="year")])
    df = pd.DataFrame({
        "f64": [1.5, np.nan, -0.0],
        "i64": np.array([1, -2, 2**62], dtype=np.int64),
        "i8": np.array([1, 2, 3], dtype=np.int8),
        "u32": np.array([1, 2, 3], dtype=np.uint32),
        "f32": np.array([0.1, 0.2, np.inf], dtype=np.float32),
        "b": [True, False, True],
        "Int64": pd.array([1, None, 3], dtype="Int64"),
        "Float64": pd.array([0.5, None, 2.0], dtype="Float64"),
        "boolean": pd.array([True, None, False], dtype="boolean"),
        "str": pd.array(["x", None, "z"], dtype="str"),
        "str_na": pd.array(["x", None, "\u00e9\u0436"], dtype=pd.StringDtype("python", na_value=pd.NA)),
        "obj": pd.Series([("corp_share", ">", 0.2), None, 3], dtype=object).to_numpy(),
        "cat": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True),
        "when": pd.to_datetime(["2020-01-01", "2021-06-30", None]).to_numpy(),
    }, index=idx)
    df.attrs = {"gap_k1": (0.11, 0.02), "source": "test"}
    return df


def test_pandas_objects_round_trip_exactly(tmp_path):
    df = _frame()
    dup = pd.DataFrame(np.arange(6.0).reshape(2, 3), columns=["a", "a", "b"], index=pd.Index([7, 7], name="k"))
    wide = pd.DataFrame(np.ones((2, 2)), columns=pd.MultiIndex.from_tuples([("x", 1), ("y", 2)], names=["g", "n"]))
    s = pd.Series([1.0, 2.0], index=pd.RangeIndex(3, 7, 2, name="r"), name=("a", 1))
    s.attrs = {"note": "kept"}
    obj = {"df": df, "dup": dup, "wide": wide, "s": s, "empty": pd.DataFrame(index=pd.Index([], dtype="str")),
           "ci": pd.CategoricalIndex(["a", "b", "a"], name="c"), "idx": pd.Index([3, 1], dtype=np.int64),
           "obj_idx": pd.Index(["a", 1], dtype=object), "cat": pd.Categorical(["u", "v"])}
    path = tmp_path / "p.nordtowns"
    persist.dump(obj, path)
    back = persist.load(path)
    for k in ("df", "dup", "wide", "empty"):
        assert_frame_equal(back[k], obj[k], check_exact=True, check_index_type=True, check_column_type=True,
                           check_flags=True)
        assert back[k].attrs == obj[k].attrs
    assert [str(t) for t in back["df"].dtypes] == [str(t) for t in df.dtypes]
    assert back["df"]["obj"].iloc[0] == ("corp_share", ">", 0.2)
    assert np.signbit(back["df"]["f64"].iloc[2])
    assert_series_equal(back["s"], s, check_exact=True, check_index_type=True)
    assert type(back["s"].index) is pd.RangeIndex and back["s"].attrs == {"note": "kept"}
    for k in ("ci", "idx", "obj_idx"):
        assert_index_equal(back[k], obj[k], exact=True)
    assert back["cat"].equals(obj["cat"])
    # the columns are writeable (pandas writes into them under copy-on-write)
    back["df"].loc[back["df"].index[0], "f64"] = 9.0
    back["s"].iloc[0] = 5.0


def test_python_and_numpy_values_round_trip_exactly(tmp_path):
    shared = np.arange(6.0).reshape(2, 3)
    ro = np.linspace(0, 1, 4)
    ro.setflags(write=False)
    obj = {
        1: "int key", (2, "t"): "tuple key", None: "none key", 2.5: [1, 2.5, -0.0, float("nan"), float("inf"),
                                                                   -float("inf"), 10**30, True, None, "\u00e9"],
        "tuple": (1, (2, (3,))), "set": {"b", "a", "c"}, "frozen": frozenset({3, 1}),
        "scalars": [np.float64(0.1), np.float32(np.nan), np.int64(-3), np.uint8(7), np.bool_(True), np.int8(-1)],
        "f_order": np.asfortranarray(np.arange(12.0).reshape(3, 4)), "shared": [shared, shared], "ro": ro,
        "zero_d": np.array(3.5), "empty": np.zeros((0, 3)), "complex": np.array([1 + 2j]),
        "U": np.array(["ab", "c"]), "objects": np.array([("a", 1), None], dtype=object),
        "big_endian": np.arange(3, dtype=">i4"), "dt": np.array(["2020-01-01"], dtype="datetime64[D]"),
        "na": [pd.NA, pd.NaT],
    }
    path = tmp_path / "v.nordtowns"
    persist.dump(obj, path)
    back = persist.load(path)
    assert list(back) == list(obj)  # order kept
    lst = back[2.5]
    assert lst[:3] == [1, 2.5, 0.0] and np.signbit(lst[2]) and np.isnan(lst[3]) and lst[4:] == obj[2.5][4:]
    assert back["tuple"] == (1, (2, (3,))) and back["set"] == {"a", "b", "c"} and back["frozen"] == frozenset({1, 3})
    for a, b in zip(back["scalars"], obj["scalars"], strict=True):
        assert type(a) is type(b) and (a == b or (np.isnan(a) and np.isnan(b)))
    assert back["f_order"].flags.f_contiguous and np.array_equal(back["f_order"], obj["f_order"])
    assert back["shared"][0] is back["shared"][1]  # one array, stored once
    assert not back["ro"].flags.writeable and np.array_equal(back["ro"], ro)
    for k in ("zero_d", "empty", "complex", "U", "dt"):
        assert back[k].dtype == obj[k].dtype and back[k].shape == obj[k].shape and np.array_equal(back[k], obj[k])
    assert back["objects"].dtype == object and back["objects"][0] == ("a", 1) and back["objects"][1] is None
    assert back["big_endian"].tolist() == [0, 1, 2]
    assert back["na"][0] is pd.NA and back["na"][1] is pd.NaT


def test_sets_of_strings_give_the_same_bytes_in_any_order(tmp_path):
    a, b = {"x", "y", "z", "w"}, set()
    for v in ["w", "z", "y", "x"]:
        b.add(v)
    assert persist.dump({"s": a}, tmp_path / "a") == persist.dump({"s": b}, tmp_path / "b")


class _Foreign:
    pass


@dataclasses.dataclass
class _Data:
    x: int


@pytest.mark.parametrize("value, where, what", [
    ({"a": {"b": [1, _Foreign()]}}, r"object\['a'\]\['b'\]\[1\]", "test_persist._Foreign"),
    ({"f": lambda x: x}, r"object\['f'\]", "builtins.function"),
    ({"d": _Data(1)}, r"object\['d'\]", "_Data"),
    ({"tree": "kdtree"}, r"object\['tree'\]", "cKDTree"),
    ({"rec": np.zeros(2, dtype=[("a", "<i8")])}, r"object\['rec'\]", "dtype"),
    ({"bytes": b"\x80"}, r"object\['bytes'\]", "builtins.bytes"),
    ({"wide": np.array(["a"], dtype="U100")}, r"object\['wide'\]", "<U100, wider than its longest string"),
    ({"tz": pd.Series(pd.to_datetime(["2020-01-01"]).tz_localize("UTC"))}, r"object\['tz'\]\.values", "datetime64"),
])
def test_values_that_are_not_data_are_refused_naming_their_path(tmp_path, value, where, what):
    if value.get("tree") == "kdtree":
        from scipy.spatial import cKDTree

        value = {"tree": cKDTree(np.zeros((3, 2)))}
    with pytest.raises(TypeError, match=rf"cannot save {where}: .*{what}"):
        persist.dump(value, tmp_path / "x.nordtowns")
    assert list(tmp_path.iterdir()) == []


def test_an_object_that_refers_to_itself_is_refused(tmp_path):
    a: list = [1]
    a.append(a)
    with pytest.raises(TypeError, match="refers to itself"):
        persist.dump(a, tmp_path / "x.nordtowns")


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
        persist.load(tmp_path / "absent.nordtowns")


def test_other_scikit_learn_version_warns(saved):
    _, path, _ = saved
    header, doc, blob = _parts(path)
    header["versions"]["scikit-learn"] = "0.24.2"
    forge(path, header, doc, blob)
    with pytest.warns(ModelVersionWarning, match="scikit-learn 0.24.2"):
        persist.load(path)


def test_write_is_atomic_and_meta_must_be_json(tmp_path):
    with pytest.raises(TypeError, match="JSON-serializable"):
        persist.dump({"a": 1}, tmp_path / "x.nordtowns", meta={"bad": object()})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ crafted documents (correct digest)
_HEADER = {"type": "builtins.dict", "compression": "zlib", "versions": {}, "meta": {}}


def _dict(**kw):
    return {"$": "dict", "keys": list(kw), "values": list(kw.values())}


@pytest.mark.parametrize("doc, blob, message", [
    ({"arrays": [], "root": _dict(a={"$": "object", "type": "os.system", "attrs": ["command"],
                                     "values": ["echo"]})}, b"", "names the type 'os.system'"),
    ({"arrays": [], "root": _dict(a={"$": "eval", "v": "1"})}, b"", "unknown tag 'eval'"),
    ({"arrays": [], "root": _dict(a={"$": "object", "type": "typology.clustering.Partition",
                                     "attrs": ["__class__"], "values": ["x"]})}, b"", "plain names"),
    ({"arrays": [{"dtype": "|O8", "shape": [1], "offset": 0, "nbytes": 8}],
      "root": _dict(a={"$": "array", "ref": 0})}, b"\0" * 8, "dtype '|O8' is not allowed"),
    ({"arrays": [{"dtype": "<f8", "shape": [2], "offset": 0, "nbytes": 16}],
      "root": _dict(a={"$": "array", "ref": 0})}, b"\0" * 8, "take 16 bytes, the file holds 8"),
    ({"arrays": [{"dtype": "<f8", "shape": [1], "offset": 8, "nbytes": 8}],
      "root": _dict(a={"$": "array", "ref": 0})}, b"\0" * 16, "does not start where"),
    ({"arrays": [], "root": _dict(a={"$": "array", "ref": 3})}, b"", "out of range"),
    ({"arrays": [], "root": _dict(a={"$": "array", "dtype": "object", "shape": [10**12], "items": []})}, b"",
     "items do not match"),
    ({"arrays": [], "root": _dict(a={"$": "scalar", "dtype": "|O8", "v": 1})}, b"", "not allowed"),
    ({"arrays": [], "root": _dict(a={"$": "array", "dtype": "<U999999999", "shape": [1], "items": ["a"]})}, b"",
     "wider than its items"),
    ({"arrays": [], "root": {"not": "tagged"}}, b"", "without a type tag"),
    ({"arrays": [], "root": [1, 2]}, b"", "declares a builtins.dict, it holds a builtins.list"),
])
def test_crafted_documents_are_refused(tmp_path, doc, blob, message):
    path = forge(tmp_path / "x.nordtowns", _HEADER, doc, blob)
    with pytest.raises(ModelFileError, match=message):
        persist.load(path)


def test_a_declared_type_that_is_not_expected_is_refused_before_decoding(tmp_path):
    doc = {"arrays": [], "root": {"$": "object", "type": "builtins.eval", "attrs": [], "values": []}}
    path = forge(tmp_path / "x.nordtowns", {**_HEADER, "type": "builtins.eval"}, doc)
    with pytest.raises(TypeError, match="holds a builtins.eval, expected builtins.dict"):
        persist.load(path, expected_type=dict)
    with pytest.raises(ModelFileError, match="names the type 'builtins.eval'"):
        persist.load(path)


def test_a_decompression_bomb_is_refused(tmp_path):
    payload = zlib.compress(b"\0" * 10_000_000)
    header = {**_HEADER, "raw_size": 10**13, "document_size": 1}
    path = forge(tmp_path / "x.nordtowns", header, payload=payload)
    with pytest.raises(ModelFileError, match="does not describe a zlib payload"):
        persist.load(path)
    header = {**_HEADER, "raw_size": 5_000_000, "document_size": 1}
    path = forge(tmp_path / "x.nordtowns", header, payload=payload)
    with pytest.raises(ModelFileError, match="does not decompress to the 5000000 bytes"):
        persist.load(path)


def test_a_crafted_decision_tree_is_refused(tmp_path):
    from sklearn.tree import DecisionTreeClassifier

    X = np.random.default_rng(0).normal(size=(40, 2))
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, X[:, 0] > 0)
    path = tmp_path / "t.nordtowns"
    persist.dump({"tree": tree}, path)
    back = persist.load(path)["tree"]
    assert np.array_equal(back.predict_proba(X), tree.predict_proba(X)) and np.array_equal(back.apply(X), tree.apply(X))
    header, doc, blob = _parts(path)
    node = doc["root"]["values"][0]["values"][doc["root"]["values"][0]["attrs"].index("tree_")]
    ref = node["nodes"][node["fields"].index("left_child")]["ref"]
    entry = doc["arrays"][ref]
    left = np.frombuffer(blob, "<i8", count=entry["shape"][0], offset=entry["offset"]).copy()
    left[0] = 10**6  # a child far outside the node array
    blob = blob[:entry["offset"]] + left.tobytes() + blob[entry["offset"] + entry["nbytes"]:]
    forge(path, header, doc, blob)
    with pytest.raises(ModelFileError, match="children out of range"):
        persist.load(path)


def test_a_field_added_to_a_class_since_the_file_was_written_takes_its_default(tmp_path):
    from models.results import WaldTest

    path = tmp_path / "w.nordtowns"
    persist.dump(WaldTest(3.0, 2, 0.2, "x", 4.0), path)
    header, doc, blob = _parts(path)
    root = doc["root"]
    i = root["attrs"].index("df_denom")
    del root["attrs"][i], root["values"][i]
    forge(path, header, doc, blob)
    back = persist.load(path, expected_type=WaldTest)
    assert back == WaldTest(3.0, 2, 0.2, "x", None)
    i = root["attrs"].index("statistic")
    del root["attrs"][i], root["values"][i]
    forge(path, header, doc, blob)
    with pytest.raises(ModelFileError, match="lacks its field 'statistic'"):
        persist.load(path)
