"""Model files that cannot run code: fitted objects as JSON and raw numeric arrays, hash-checked.

A file written by :func:`dump` has four parts::

    NORDTOWNS-PERSIST/2\\n          magic line (format and version of the file)
    sha256=<64 hex digits>\\n       digest of everything that follows this line
    {"type": ..., "size": ...}\\n   JSON header: type of the object, sizes, versions, meta
    <payload>                      zlib-compressed: a JSON document, then the raw arrays

The JSON document describes the object graph (``{"arrays": [...], "root": ...}``): JSON
numbers, strings, lists and tagged objects for what JSON lacks (``{"$": "tuple", ...}``,
``"dict"`` with keys of any supported type, non-finite floats, numpy arrays and scalars,
pandas ``Index`` / ``MultiIndex`` / ``RangeIndex`` / ``Series`` / ``DataFrame`` with their
dtypes and ``attrs``, and the fitted classes of this package by name). A numeric array is an
entry of the array table (dtype such as ``"<f8"``, shape, memory order, offset and size of
its bytes after the document, little-endian); arrays of strings or Python objects are JSON
lists of their items. The document has sorted keys and no time stamps, and the arrays are
written in the order met, so the same object written with the same library versions gives
the same bytes: two identical fits give byte-identical model files.

Trust model.

* The digest detects corruption and accidental edits. It is not a signature: whoever can
  write the file can recompute it.
* When the sha256 of the whole file is recorded elsewhere, pass it as ``expected_sha256``:
  the file is checked against the record before anything in it is parsed. A run folder's
  ``manifest.json`` records it, and ``typology score``, ``report`` and ``reproduce`` check it.
  A manifest is protected no better than the folder it sits in.
* Decoding cannot run code. No name read from the file is imported or called: a class name
  is only a key into :data:`CLASSES`, whose classes are created without calling their
  constructors and given their attributes from data. Arrays come from raw bytes with
  allowlisted dtypes (booleans, integers, floats, complex, datetimes; never ``object``).
  Python objects are only JSON values, tuples, sets, dicts and the allowlisted classes.
  pandas objects are built from those arrays. scikit-learn's decision tree is rebuilt from
  its node arrays after every child index and feature is checked to be in range, because its
  traversal does not check bounds. Every other name or tag is refused. So a crafted file can
  at worst hold wrong numbers; ``typology reproduce`` refits the run and (with the same
  package versions) compares the fitted state bit for bit.
* An attribute renamed since a file was written (:data:`_RENAMED`: ``TownTypology.transform``
  became ``feature_transform``) is read under its new name; a field of a dataclass or a
  parameter of an estimator of this package added since then (``TownTypology.backend``)
  takes its default.
* A file in the pickle-based format of earlier versions (``NORDTOWNS-PERSIST/1``, joblib
  inside) is refused without being unpickled: refit the run or save the typology again.

:func:`load` checks, in this order, ``expected_sha256`` (the whole file), the magic line, the
digest line, the header, the payload size and the digest, then the declared type against
``expected_type``, then decompresses (to the size the header announces, no more) and decodes.
Each refusal is a :class:`~typology.exceptions.ModelFileError` naming the file and what was
expected and found. A file written with another scikit-learn, numpy or pandas version loads
with a :class:`~typology.exceptions.ModelVersionWarning`.

:func:`dump` refuses, naming the attribute path (``object['typology'].partition_``), any
value it cannot write as data; it never falls back to pickle. The k-d tree of
:class:`~typology.TownTypology` is not stored: it is rebuilt from the stored reference points.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import json
import math
import os
import platform
import re
import tempfile
import warnings
import zlib
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import ModelFileError, ModelVersionWarning

__all__ = ["CLASSES", "MAGIC", "PACKAGES", "dump", "fingerprint", "load", "read_header", "versions"]

MAGIC = b"NORDTOWNS-PERSIST/2\n"
_OLD_MAGIC = b"NORDTOWNS-PERSIST/1\n"
_DIGEST_PREFIX = b"sha256="
_CHECKED = ("scikit-learn", "numpy", "pandas")
_LEVEL = 6  # zlib level of the payload
_MAX_RATIO = 1100  # zlib cannot expand data more than ~1032 times: a larger raw size is a crafted header

PACKAGES = ("nordtowns", "numpy", "pandas", "scipy", "scikit-learn", "statsmodels", "linearmodels", "joblib",
            "pyarrow", "matplotlib")

#: The classes a model file may hold: name in the file -> (public module, attribute). The names
#: in files stay as they were first written (they are not module paths), so files written before
#: a module moved still load. Nothing else is ever constructed by :func:`load`. A plain class or
#: dataclass of this package whose attributes are data (numbers, strings, arrays, pandas objects,
#: these classes) can be added.
CLASSES: dict[str, tuple[str, str]] = {
    "typology.estimator.TownTypology": ("typology.estimator", "TownTypology"),
    "typology.transforms.TransformPlan": ("typology.estimator", "TransformPlan"),
    "typology.clustering.Partition": ("typology.estimator", "Partition"),
    "typology.profiles.TypeProfiles": ("typology.estimator", "TypeProfiles"),
    "typology.surrogate.Surrogate": ("typology.estimator", "Surrogate"),
    "typology.rules.RuleTypology": ("typology.estimator", "RuleTypology"),
    "typology.rules.Reconciliation": ("typology.estimator", "Reconciliation"),
    "typology.transitions.Transitions": ("typology.estimator", "Transitions"),
    "features.builder.FeatureBuilder": ("features", "FeatureBuilder"),
    "models.spec.PanelModelSpec": ("models", "PanelModelSpec"),
    "models.results.PanelModelResult": ("models", "PanelModelResult"),
    "models.results.FitData": ("models", "FitData"),
    "models.results.WaldTest": ("models", "WaldTest"),
    "models.discrete.DiscreteModelResult": ("models", "DiscreteModelResult"),
    "models.iv.FirstStage": ("models", "FirstStage"),
    "models.iv.IVTest": ("models", "IVTest"),
    "models.iv.IVDiagnostics": ("models", "IVDiagnostics"),
    "models.compute.ComputeBackend": ("models", "ComputeBackend"),
    "sklearn.mixture.GaussianMixture": ("sklearn.mixture", "GaussianMixture"),
    "sklearn.tree.DecisionTreeClassifier": ("sklearn.tree", "DecisionTreeClassifier"),
}
#: Attributes renamed since model files were first written: name in the file -> {old: new}. A file
#: written before the rename loads with the attribute under its new name, in the same place.
_RENAMED: dict[str, dict[str, str]] = {
    "typology.estimator.TownTypology": {"transform": "feature_transform"},  # parameter renamed
}
# the other types a file may declare at its root
_ROOTS = {f"{t.__module__}.{t.__qualname__}": t for t in (
    dict, list, tuple, set, frozenset, str, int, float, bool, type(None), np.ndarray, pd.DataFrame, pd.Series,
    pd.Index, pd.RangeIndex, pd.MultiIndex, pd.CategoricalIndex, pd.DatetimeIndex, pd.TimedeltaIndex,
    pd.Categorical, np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64)}

# dtypes an array may have in the array table: booleans, integers, floats, complex, datetimes
_ARRAY_DTYPE = re.compile(r"^(\|b1|\|[iu]1|<[iu][248]|<f[248]|<c(8|16)|<[mM]8\[(Y|M|W|D|h|m|s|ms|us|ns)\])$")
_SCALAR_KINDS = "biuf"
_MASKED = ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64",
           "boolean")
_ATTR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_U_SLACK = 64  # a fixed-width string array may be this much wider than its longest string (no memory bombs)


def versions() -> dict[str, str | None]:
    """Versions of Python and of the distributions a fitted object or a run folder depends on
    (``None`` for one that is not installed); one list for model files and run manifests."""
    out: dict[str, str | None] = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    out["python"] = platform.python_version()
    return out


# ----------------------------------------------------------------------------- classes
def _class(name: str) -> type:
    module, attr = CLASSES[name]
    return getattr(importlib.import_module(module), attr)


_NAMES: dict[type, str | None] = {}


def _class_name(cls: type) -> str | None:
    """The allowlisted name of exactly ``cls`` (not of a subclass), or None."""
    if cls not in _NAMES:
        _NAMES[cls] = next((name for name, (module, attr) in CLASSES.items()
                            if attr == cls.__qualname__ and cls.__module__.split(".")[0] == module.split(".")[0]
                            and _class(name) is cls), None)
    return _NAMES[cls]


def _type_name(obj: Any) -> str:
    t = type(obj)
    return _class_name(t) or f"{t.__module__}.{t.__qualname__}"


# ----------------------------------------------------------------------------- encoding
def _float(x: float):
    if math.isfinite(x):
        return x
    return {"$": "float", "v": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


class _Encoder:
    """Object graph -> JSON-able tree plus the list of numeric arrays it refers to."""

    def __init__(self):
        self.arrays: list[np.ndarray] = []
        self.table: list[dict] = []
        self._memo: dict[int, tuple[np.ndarray, int]] = {}  # shared arrays are stored once
        self._stack: set[int] = set()
        self._offset = 0

    def fail(self, path: str, what: str):
        raise TypeError(f"cannot save {path}: {what}. A model file holds only data (numbers, strings, lists, "
                        f"tuples, dicts, numeric numpy arrays, pandas objects and the classes listed in "
                        f"typology.persist.CLASSES), so that loading it cannot run code")

    # -- values
    def enc(self, x: Any, path: str):
        t = type(x)
        if x is None or t is bool or t is int or t is str:
            return x
        if t is float:
            return _float(x)
        if isinstance(x, np.ndarray):
            return self.array(x, path)
        if isinstance(x, np.generic):
            return self.scalar(x, path)
        if x is pd.NA:
            return {"$": "NA"}
        if x is pd.NaT:
            return {"$": "NaT"}
        if t in (list, tuple, dict, set, frozenset) or isinstance(x, (pd.Index, pd.Series, pd.DataFrame)):
            key = id(x)
            if key in self._stack:
                self.fail(path, "the object refers to itself")
            self._stack.add(key)
            try:
                return self._container(x, t, path)
            finally:
                self._stack.discard(key)
        if isinstance(x, pd.Categorical):
            return self.column(x, path)
        if t.__module__ == "sklearn.tree._tree" and t.__name__ == "Tree":
            return self.sktree(x, path)
        name = _class_name(t)
        if name is None:
            self.fail(path, f"{t.__module__}.{t.__qualname__} is not a type a model file can hold")
        return self.obj(x, name, path)

    def _container(self, x, t, path):
        if t is list:
            return [self.enc(v, f"{path}[{i}]") for i, v in enumerate(x)]
        if t is tuple:
            return {"$": "tuple", "items": [self.enc(v, f"{path}[{i}]") for i, v in enumerate(x)]}
        if t is dict:
            keys, values = [], []
            for k, v in x.items():
                keys.append(self.enc(k, f"{path} key {k!r}"))
                values.append(self.enc(v, f"{path}[{k!r}]"))
            return {"$": "dict", "keys": keys, "values": values}
        if t in (set, frozenset):  # canonical order (string hashes vary between processes): by each item's JSON
            items = [self.enc(v, f"{path} item") for v in x]
            items.sort(key=lambda i: json.dumps(i, sort_keys=True))
            return {"$": t.__name__, "items": items}
        if isinstance(x, pd.Index):
            return self.index(x, path)
        if isinstance(x, pd.Series):
            if type(x) is not pd.Series:
                self.fail(path, f"{type(x).__qualname__} (a subclass of Series) is not a type a model file can hold")
            return {"$": "series", "values": self.column(x.array, f"{path}.values"),
                    "index": self.index(x.index, f"{path}.index"), "name": self.enc(x.name, f"{path}.name"),
                    "attrs": self.enc(dict(x.attrs), f"{path}.attrs")}
        if type(x) is not pd.DataFrame:
            self.fail(path, f"{type(x).__qualname__} (a subclass of DataFrame) is not a type a model file can hold")
        data = [self.column(x.iloc[:, j].array, f"{path}[{c!r}]") for j, c in enumerate(x.columns)]
        return {"$": "frame", "columns": self.index(x.columns, f"{path}.columns"),
                "index": self.index(x.index, f"{path}.index"), "data": data,
                "attrs": self.enc(dict(x.attrs), f"{path}.attrs")}

    def scalar(self, x: np.generic, path: str):
        if x.dtype.kind not in _SCALAR_KINDS:
            self.fail(path, f"a numpy scalar of dtype {x.dtype} (only booleans, integers and floats)")
        v = x.item()
        return {"$": "scalar", "dtype": x.dtype.newbyteorder("<").str if x.dtype.itemsize > 1 else x.dtype.str,
                "v": _float(v) if isinstance(v, float) else v}

    def array(self, a: np.ndarray, path: str, column: bool = False):
        """Numeric arrays go to the array table (stored once however often they are referred to);
        ``column``: the values of a pandas object, stored apart and always writeable."""
        if type(a) is not np.ndarray:
            self.fail(path, f"{type(a).__qualname__} (a subclass of ndarray) is not a type a model file can hold")
        kind = a.dtype.kind
        if kind == "U" and a.size and a.dtype.itemsize // 4 > max(_U_SLACK, int(np.char.str_len(a).max())):
            self.fail(path, f"a string array of dtype {a.dtype}, wider than its longest string and than "
                            f"{_U_SLACK} characters (shrink it with .astype(str))")
        if kind in ("O", "U"):
            items = [self.enc(v, f"{path}[{i}]") for i, v in enumerate(a.ravel(order="C").tolist()
                                                                           if kind == "U" else a.ravel(order="C"))]
            return {"$": "array", "dtype": "object" if kind == "O" else a.dtype.newbyteorder("<").str,
                    "shape": list(a.shape), "items": items}
        if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and not np.little_endian):
            le = a.astype(a.dtype.newbyteorder("<"))
        else:
            le = a
        dt = le.dtype.str
        if not _ARRAY_DTYPE.match(dt):
            self.fail(path, f"a numpy array of dtype {a.dtype} (only booleans, integers, floats, complex, "
                            "datetimes, strings and objects)")
        key = id(a)
        if not column and key in self._memo:
            return {"$": "array", "ref": self._memo[key][1]}
        order = "F" if (a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous) else "C"
        raw = np.asarray(le).tobytes(order=order)
        entry = {"dtype": dt, "shape": list(a.shape), "order": order, "offset": self._offset, "nbytes": len(raw)}
        if not a.flags.writeable and not column:
            entry["readonly"] = True
        self._offset += len(raw)
        self.arrays.append(raw)
        self.table.append(entry)
        if not column:
            self._memo[key] = (a, len(self.table) - 1)  # keeps ``a`` alive, so its id is not reused
        return {"$": "array", "ref": len(self.table) - 1}

    def column(self, arr, path: str):
        """The values of a Series, DataFrame column or Index (numpy or pandas extension array)."""
        if type(arr) is pd.arrays.NumpyExtensionArray:  # not its subclasses (python-backed strings)
            arr = arr.to_numpy()
        dtype = arr.dtype
        if isinstance(dtype, np.dtype):
            return self.array(np.asarray(arr), path, column=True)
        if isinstance(dtype, pd.StringDtype):
            if dtype.storage not in ("python", "pyarrow"):
                self.fail(path, f"strings stored as {dtype.storage!r}")
            obj = np.asarray(arr, dtype=object).copy()
            obj[np.asarray(pd.isna(arr), dtype=bool)] = None
            return {"$": "strings", "storage": dtype.storage, "na": "NA" if dtype.na_value is pd.NA else "nan",
                    "items": obj.tolist()}
        if isinstance(dtype, pd.CategoricalDtype):
            cat = pd.Categorical(arr)
            return {"$": "categorical", "codes": self.array(np.asarray(cat.codes), f"{path}.codes"),
                    "categories": self.index(cat.categories, f"{path}.categories"), "ordered": bool(cat.ordered)}
        if dtype.name in _MASKED and hasattr(arr, "_data") and hasattr(arr, "_mask"):
            mask = np.asarray(arr._mask, dtype=bool)
            data = np.where(mask, np.zeros((), dtype=arr._data.dtype), arr._data)  # no garbage under the mask
            return {"$": "masked", "dtype": dtype.name, "data": self.array(data, f"{path}.data"),
                    "mask": self.array(mask, f"{path}.mask")}
        self.fail(path, f"a pandas column of dtype {dtype}")

    def index(self, idx: pd.Index, path: str):
        if type(idx) is pd.RangeIndex:
            return {"$": "index", "range": [idx.start, idx.stop, idx.step], "name": self.enc(idx.name, f"{path}.name")}
        if type(idx) is pd.MultiIndex:
            return {"$": "index", "levels": [self.index(lv, f"{path}.levels[{i}]") for i, lv in enumerate(idx.levels)],
                    "codes": [self.array(np.asarray(c), f"{path}.codes[{i}]") for i, c in enumerate(idx.codes)],
                    "names": [self.enc(n, f"{path}.names[{i}]") for i, n in enumerate(idx.names)]}
        if type(idx) not in (pd.Index, pd.CategoricalIndex, pd.DatetimeIndex, pd.TimedeltaIndex):
            self.fail(path, f"an index of type {type(idx).__qualname__}")
        if isinstance(idx, pd.DatetimeIndex) and idx.freq is not None:
            idx = idx._with_freq(None)
        return {"$": "index", "values": self.column(idx.array, f"{path}.values"),
                "name": self.enc(idx.name, f"{path}.name")}

    def obj(self, x, name: str, path: str):
        state = x.__getstate__() if hasattr(x, "__getstate__") else vars(x)
        if state is None:
            state = {}
        if not isinstance(state, dict):
            self.fail(path, f"{name} keeps its state outside its __dict__")
        state = {k: v for k, v in state.items() if k != "_sklearn_version"}  # the header records versions
        bad = [k for k in state if not isinstance(k, str) or not _ATTR.match(k) or k.startswith("__")]
        if bad:
            self.fail(path, f"{name} has attributes that are not plain names: {bad}")
        return {"$": "object", "type": name, "attrs": list(state),
                "values": [self.enc(v, f"{path}.{k}") for k, v in state.items()]}

    def sktree(self, tree, path: str):
        """scikit-learn's Tree: its node and value arrays (what its own pickle stores)."""
        cls, (n_features, n_classes, n_outputs), state = tree.__reduce__()
        nodes = state["nodes"]
        fields = list(nodes.dtype.names)
        return {"$": "sklearn_tree", "n_features": int(n_features),
                "n_classes": self.array(np.asarray(n_classes, dtype=np.int64), f"{path}.n_classes"),
                "n_outputs": int(n_outputs), "max_depth": int(state["max_depth"]),
                "node_count": int(state["node_count"]), "fields": fields,
                "offsets": [int(nodes.dtype.fields[f][1]) for f in fields], "itemsize": int(nodes.dtype.itemsize),
                "nodes": [self.array(np.ascontiguousarray(nodes[f]), f"{path}.nodes.{f}") for f in fields],
                "values": self.array(np.asarray(state["values"]), f"{path}.values")}


def _encode(obj: Any) -> tuple[bytes, list[bytes]]:
    enc = _Encoder()
    root = enc.enc(obj, "object")
    doc = {"arrays": enc.table, "root": root}
    text = json.dumps(doc, sort_keys=True, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.encode("ascii"), enc.arrays


# ----------------------------------------------------------------------------- decoding
class _Invalid(Exception):
    """A document that the encoder cannot have written."""


def _need(cond: bool, what: str):
    if not cond:
        raise _Invalid(what)


def _dtype(s: Any) -> np.dtype:
    _need(isinstance(s, str) and bool(_ARRAY_DTYPE.match(s)), f"array dtype {s!r} is not allowed")
    return np.dtype(s)


def _shape(s: Any) -> tuple[int, ...]:
    _need(isinstance(s, list) and all(type(v) is int and v >= 0 for v in s) and len(s) <= 32, f"bad shape {s!r}")
    return tuple(s)


def _str(x: Any, what: str) -> str:
    _need(type(x) is str, f"{what} must be a string, found {type(x).__name__}")
    return x


class _Decoder:
    def __init__(self, table: Any, blob: memoryview):
        _need(isinstance(table, list), "the array table is not a list")
        self.blob = blob
        self.table = table
        self.cache: dict[int, np.ndarray] = {}
        expected = 0
        for i, e in enumerate(table):  # the table must describe exactly the bytes after the document
            _need(isinstance(e, dict) and type(e.get("offset")) is int and type(e.get("nbytes")) is int,
                  f"array table entry {i} is malformed")
            dt, shape = _dtype(e.get("dtype")), _shape(e.get("shape"))
            _need(e["offset"] == expected, f"array {i} does not start where the previous one ends")
            _need(e["nbytes"] == math.prod(shape) * dt.itemsize, f"array {i}: size does not match dtype and shape")
            _need(e.get("order", "C") in ("C", "F"), f"array {i}: order must be C or F")
            expected += e["nbytes"]
        _need(expected == len(blob), f"the arrays take {expected} bytes, the file holds {len(blob)}")

    def ref(self, i: Any) -> np.ndarray:
        _need(type(i) is int and 0 <= i < len(self.table), f"array reference {i!r} out of range")
        if i not in self.cache:
            e = self.table[i]
            dt, shape = np.dtype(e["dtype"]), tuple(e["shape"])
            n = math.prod(shape)
            if n == 0:
                a = np.empty(shape, dtype=dt, order=e.get("order", "C"))
            else:
                flat = np.frombuffer(self.blob, dtype=dt, count=n, offset=e["offset"])
                a = flat.reshape(shape, order=e.get("order", "C")).copy(order="K")
            if dt.byteorder == "<" and not np.little_endian:  # pragma: no cover - big-endian machines
                a = a.astype(dt.newbyteorder("="))
            if e.get("readonly"):
                a.setflags(write=False)
            self.cache[i] = a
        return self.cache[i]

    def dec(self, x: Any):
        if x is None or type(x) in (bool, int, str, float):
            return x
        if type(x) is list:
            return [self.dec(v) for v in x]
        _need(type(x) is dict and type(x.get("$")) is str, "a JSON object without a type tag")
        tag = x["$"]
        handler = _HANDLERS.get(tag)
        _need(handler is not None, f"unknown tag {tag!r}")
        return handler(self, x)

    # -- handlers
    def t_float(self, x):
        v = x.get("v")
        _need(v in ("nan", "inf", "-inf"), f"bad float {v!r}")
        return float(v)

    def t_tuple(self, x):
        _need(type(x.get("items")) is list, "tuple without items")
        return tuple(self.dec(v) for v in x["items"])

    def t_set(self, x):
        _need(type(x.get("items")) is list, "set without items")
        items = [self.dec(v) for v in x["items"]]
        return set(items) if x["$"] == "set" else frozenset(items)

    def t_dict(self, x):
        keys, values = x.get("keys"), x.get("values")
        _need(type(keys) is list and type(values) is list and len(keys) == len(values), "dict: keys and values differ")
        out = {}
        for k, v in zip(keys, values, strict=True):
            key = self.dec(k)
            _need(not isinstance(key, (list, dict, set, np.ndarray, pd.Index, pd.Series, pd.DataFrame)),
                  "dict key of an unhashable type")
            out[key] = self.dec(v)
        return out

    def t_scalar(self, x):
        dt = _dtype(x.get("dtype"))
        _need(dt.kind in _SCALAR_KINDS, f"scalar dtype {dt} is not allowed")
        v = self.dec(x.get("v"))
        _need(type(v) in (bool, int, float), "scalar value is not a number")
        return dt.type(v)

    def t_array(self, x):
        if "ref" in x:
            return self.ref(x["ref"])
        shape = _shape(x.get("shape"))
        items = x.get("items")
        _need(type(items) is list and len(items) == math.prod(shape), "array items do not match its shape")
        dtype = x.get("dtype")
        if dtype == "object":
            vals = [self.dec(v) for v in items]
            return np.fromiter(vals, dtype=object, count=len(vals)).reshape(shape)
        _need(isinstance(dtype, str) and re.fullmatch(r"<U[0-9]{1,9}", dtype) is not None, f"bad dtype {dtype!r}")
        _need(all(type(v) is str for v in items), "string array with non-string items")
        width = int(dtype[2:])
        _need(width <= max([_U_SLACK, *map(len, items)]), f"string array of dtype {dtype} wider than its items")
        return np.array(items, dtype=dtype).reshape(shape)

    def column(self, x):
        v = self.dec(x)
        if isinstance(v, np.ndarray):
            _need(v.ndim == 1, "a column must be one-dimensional")
        else:
            _need(isinstance(v, pd.api.extensions.ExtensionArray), "a column must be an array")
        return v

    def t_strings(self, x):
        items, storage, na = x.get("items"), x.get("storage"), x.get("na")
        _need(type(items) is list and all(v is None or type(v) is str for v in items), "strings: bad items")
        _need(storage in ("python", "pyarrow") and na in ("NA", "nan"), "strings: bad dtype")
        dtype = pd.StringDtype(storage=storage, na_value=pd.NA if na == "NA" else np.nan)
        return pd.array(items, dtype=dtype)

    def t_categorical(self, x):
        codes = self.dec(x.get("codes"))
        _need(isinstance(codes, np.ndarray) and codes.dtype.kind == "i" and codes.ndim == 1, "categorical: bad codes")
        cats = self.dec(x.get("categories"))
        _need(isinstance(cats, pd.Index) and type(x.get("ordered")) is bool, "categorical: bad categories")
        return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(cats, ordered=x["ordered"]))

    def t_masked(self, x):
        name = x.get("dtype")
        _need(name in _MASKED, f"masked dtype {name!r} is not allowed")
        data, mask = self.dec(x.get("data")), self.dec(x.get("mask"))
        _need(isinstance(data, np.ndarray) and isinstance(mask, np.ndarray) and mask.dtype == bool
              and data.shape == mask.shape and data.ndim == 1, "masked: bad arrays")
        cls = {"b": pd.arrays.BooleanArray, "i": pd.arrays.IntegerArray, "u": pd.arrays.IntegerArray,
               "f": pd.arrays.FloatingArray}.get(data.dtype.kind)
        _need(cls is not None, "masked: bad data dtype")
        out = cls(data.copy(), mask.copy())
        _need(out.dtype.name == name, f"masked: data of dtype {data.dtype} for {name}")
        return out

    def t_index(self, x):
        name_of = x.get("name")
        if "range" in x:
            r = x["range"]
            _need(type(r) is list and len(r) == 3 and all(type(v) is int for v in r) and r[2] != 0, "bad RangeIndex")
            return pd.RangeIndex(r[0], r[1], r[2], name=self._label(name_of))
        if "levels" in x:
            levels, codes, names = x.get("levels"), x.get("codes"), x.get("names")
            _need(type(levels) is list and type(codes) is list and type(names) is list
                  and len(levels) == len(codes) == len(names) and len(levels) > 0, "bad MultiIndex")
            lv = [self.dec(v) for v in levels]
            cd = [self.dec(v) for v in codes]
            _need(all(isinstance(v, pd.Index) for v in lv), "MultiIndex levels must be indexes")
            _need(all(isinstance(c, np.ndarray) and c.dtype.kind == "i" and c.ndim == 1 for c in cd),
                  "MultiIndex codes must be integer arrays")
            return pd.MultiIndex(levels=lv, codes=cd, names=[self._label(n) for n in names], verify_integrity=True)
        values = self.column(x.get("values"))
        return pd.Index(values, dtype=values.dtype, name=self._label(name_of), copy=False)

    def _label(self, x):
        v = self.dec(x)
        _need(not isinstance(v, (list, dict, set, np.ndarray, pd.Index, pd.Series, pd.DataFrame)), "bad label")
        return v

    def _attrs(self, x) -> dict:
        v = self.dec(x) if x is not None else {}
        _need(isinstance(v, dict), "attrs must be a dict")
        return v

    def t_series(self, x):
        values = self.column(x.get("values"))
        index = self.dec(x.get("index"))
        _need(isinstance(index, pd.Index) and len(index) == len(values), "series: index and values differ in length")
        s = pd.Series(values, index=index, dtype=values.dtype, name=self._label(x.get("name")), copy=False)
        s.attrs = self._attrs(x.get("attrs"))
        return s

    def t_frame(self, x):
        columns, index, data = self.dec(x.get("columns")), self.dec(x.get("index")), x.get("data")
        _need(isinstance(columns, pd.Index) and isinstance(index, pd.Index) and type(data) is list
              and len(data) == len(columns), "frame: columns and data differ")
        cols = [self.column(c) for c in data]
        _need(all(len(c) == len(index) for c in cols), "frame: a column and the index differ in length")
        if cols:
            df = pd.DataFrame({j: pd.Series(c, index=index, dtype=c.dtype, copy=False) for j, c in enumerate(cols)},
                              index=index)
            df.columns = columns
        else:
            df = pd.DataFrame(index=index, columns=columns)
        df.attrs = self._attrs(x.get("attrs"))
        return df

    def t_object(self, x):
        name = _str(x.get("type"), "object type")
        if name not in CLASSES:
            raise _Invalid(f"it names the type {name!r}, which is not one a model file may hold "
                           "(typology.persist.CLASSES lists them)")
        attrs, values = x.get("attrs"), x.get("values")
        _need(type(attrs) is list and type(values) is list and len(attrs) == len(values), f"{name}: bad attributes")
        _need(all(type(a) is str and _ATTR.match(a) and not a.startswith("__") for a in attrs),
              f"{name}: attribute names must be plain names")
        cls = _class(name)
        new = _RENAMED.get(name, {})
        state = {new.get(a, a): self.dec(v) for a, v in zip(attrs, values, strict=True)}
        if dataclasses.is_dataclass(cls):  # a field added since the file was written takes its default
            for f in dataclasses.fields(cls):
                if f.name in state:
                    continue
                if f.default is not dataclasses.MISSING:
                    state[f.name] = f.default
                elif f.default_factory is not dataclasses.MISSING:
                    state[f.name] = f.default_factory()
                else:
                    raise _Invalid(f"{name} lacks its field {f.name!r} (written by another version?)")
        elif hasattr(cls, "_get_param_names") and cls.__module__.split(".")[0] in ("typology", "features", "models"):
            # an estimator of this package: a constructor parameter added since the file was written
            # (TownTypology.backend) takes its default
            for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
                if p.name not in state and p.default is not inspect.Parameter.empty:
                    state[p.name] = p.default
        obj = object.__new__(cls)
        obj.__dict__.update(state)
        return obj

    def t_sklearn_tree(self, x):
        from sklearn.tree._tree import Tree

        ints = ("n_features", "n_outputs", "max_depth", "node_count", "itemsize")
        _need(all(type(x.get(k)) is int and x[k] >= 0 for k in ints), "tree: bad sizes")
        fields, offsets, nodes = x.get("fields"), x.get("offsets"), x.get("nodes")
        _need(type(fields) is list and type(offsets) is list and type(nodes) is list
              and len(fields) == len(offsets) == len(nodes) and len(set(fields)) == len(fields)
              and all(type(f) is str and _ATTR.match(f) for f in fields)
              and all(type(o) is int and o >= 0 for o in offsets), "tree: bad node fields")
        cols = [self.dec(v) for v in nodes]
        n = x["node_count"]
        _need(all(isinstance(c, np.ndarray) and c.shape == (n,) for c in cols), "tree: node arrays of the wrong size")
        dt = np.dtype({"names": fields, "formats": [c.dtype for c in cols], "offsets": offsets,
                       "itemsize": x["itemsize"]})
        rec = np.zeros(n, dtype=dt)
        for f, c in zip(fields, cols, strict=True):
            rec[f] = c
        n_classes = self.dec(x.get("n_classes"))
        values = self.dec(x.get("values"))
        _need(isinstance(n_classes, np.ndarray) and n_classes.ndim == 1 and n_classes.dtype.kind == "i"
              and len(n_classes) == x["n_outputs"] and (n_classes >= 1).all(), "tree: bad n_classes")
        _need(isinstance(values, np.ndarray) and values.dtype == np.float64, "tree: bad values")
        # the tree is walked without bounds checks: children must be later nodes, features in range
        left, right, feat = rec["left_child"], rec["right_child"], rec["feature"]
        leaf = left == -1
        node = np.arange(n)
        _need(bool(((right == -1) == leaf).all()), "tree: a node with one child")
        inner = ~leaf
        _need(bool(((left[inner] > node[inner]) & (left[inner] < n) & (right[inner] > node[inner])
                    & (right[inner] < n)).all()), "tree: children out of range")
        _need(bool(((feat[inner] >= 0) & (feat[inner] < x["n_features"])).all()), "tree: features out of range")
        tree = Tree(x["n_features"], n_classes.astype(np.intp), x["n_outputs"])
        tree.__setstate__({"max_depth": x["max_depth"], "node_count": n, "nodes": rec, "values": values})
        return tree


_HANDLERS = {
    "float": _Decoder.t_float, "tuple": _Decoder.t_tuple, "set": _Decoder.t_set, "frozenset": _Decoder.t_set,
    "dict": _Decoder.t_dict, "scalar": _Decoder.t_scalar, "array": _Decoder.t_array, "NA": lambda self, x: pd.NA,
    "NaT": lambda self, x: pd.NaT, "strings": _Decoder.t_strings, "categorical": _Decoder.t_categorical,
    "masked": _Decoder.t_masked, "index": _Decoder.t_index, "series": _Decoder.t_series, "frame": _Decoder.t_frame,
    "object": _Decoder.t_object, "sklearn_tree": _Decoder.t_sklearn_tree,
}


def fingerprint(obj: Any) -> str:
    """sha256 of the encoded state of ``obj`` (its document and arrays, before compression and
    without the header): equal exactly when :func:`dump` would write the same object."""
    doc, arrays = _encode(obj)
    h = hashlib.sha256(doc + b"\n")
    for a in arrays:
        h.update(a)
    return h.hexdigest()


# ----------------------------------------------------------------------------- the file
def _content(obj: Any, meta: dict | None) -> bytes:
    """The bytes of a model file holding ``obj``."""
    doc, arrays = _encode(obj)
    raw = doc + b"\n" + b"".join(arrays)
    payload = zlib.compress(raw, _LEVEL)
    header = {"type": _type_name(obj), "compression": "zlib", "size": len(payload), "raw_size": len(raw),
              "document_size": len(doc), "versions": versions(), "meta": meta or {}}
    try:
        head = json.dumps(header, sort_keys=True, ensure_ascii=True, allow_nan=False).encode("ascii") + b"\n"
    except (TypeError, ValueError) as exc:
        raise TypeError(f"meta must be JSON-serializable (str, numbers, lists, dicts): {exc}") from None
    body = head + payload
    digest = hashlib.sha256(body).hexdigest().encode("ascii")
    return MAGIC + _DIGEST_PREFIX + digest + b"\n" + body


def dump(obj: Any, path: str | os.PathLike, meta: dict | None = None) -> str:
    """Write ``obj`` to ``path`` as a model file (see the module docstring); return its sha256.

    Parameters
    ----------
    obj : object
        A fitted object of this package (:data:`CLASSES`) or a dict, list or tuple of such
        objects, numbers, strings, numpy arrays and pandas objects.
    path : path-like
        Destination; written atomically (a temporary file in the same folder, then renamed),
        so a crash never leaves a half-written file under ``path``.
    meta : dict, optional
        JSON-serializable facts stored in the header (readable with :func:`read_header`
        without decoding the object).

    Returns
    -------
    str
        Hex sha256 of the file's bytes (what ``sha256sum path`` prints).

    Raises
    ------
    TypeError
        ``obj`` holds a value a model file cannot hold (the message names its attribute
        path and type), or ``meta`` is not JSON-serializable. Nothing is written.
    """
    content = _content(obj, meta)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return hashlib.sha256(content).hexdigest()


def _split(raw: bytes, path: Path) -> tuple[dict, bytes]:
    """Check magic, digest line, header, size and digest; return (header, payload)."""
    if raw.startswith(_OLD_MAGIC):
        raise ModelFileError(f"{path} was written by an older version of nordtowns, whose model files were "
                             "pickles (NORDTOWNS-PERSIST/1); loading a pickle can run code, so this version "
                             "refuses it. Refit the run (typology fit) or save the typology again")
    if not raw.startswith(MAGIC):
        found = raw[: len(MAGIC)]
        raise ModelFileError(f"{path} is not a model file written by typology.persist.dump: expected it to start "
                             f"with {MAGIC!r}, found {found!r}")
    rest = raw[len(MAGIC):]
    end = rest.find(b"\n")
    line = rest[:end] if end >= 0 else rest
    if (end < 0 or not line.startswith(_DIGEST_PREFIX) or len(line) != len(_DIGEST_PREFIX) + 64
            or re.fullmatch(rb"[0-9a-f]{64}", line[len(_DIGEST_PREFIX):]) is None):
        raise ModelFileError(f"{path} is damaged: expected a line 'sha256=<64 hex digits>' after the magic line, "
                             f"found {line[:80]!r}")
    digest = line[len(_DIGEST_PREFIX):]
    body = rest[end + 1:]
    hend = body.find(b"\n")
    if hend < 0:
        raise ModelFileError(f"{path} is truncated: the header line is incomplete ({len(body)} bytes after the digest)")
    try:
        header = json.loads(body[:hend].decode("ascii"))
        size = header["size"]
        if not isinstance(header, dict) or type(size) is not int:
            raise TypeError
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
        raise ModelFileError(f"{path} was modified: its header is not the JSON written by dump "
                             f"(found {body[:hend][:120]!r})") from None
    payload = body[hend + 1:]
    if len(payload) != size:
        what = "truncated" if len(payload) < size else "appended to"
        raise ModelFileError(f"{path} was {what}: the header announces a payload of {size} bytes, "
                             f"found {len(payload)} bytes")
    actual = hashlib.sha256(body).hexdigest().encode("ascii")
    if actual != digest:
        raise ModelFileError(f"{path} was modified after it was written: sha256 of its content is "
                             f"{actual.decode()}, the file records {digest.decode()}; refusing to load it")
    return header, payload


def read_header(path: str | os.PathLike) -> dict:
    """The verified header of a model file (type, sizes, versions, meta) without decoding the object."""
    path = Path(path)
    return _split(path.read_bytes(), path)[0]


def _expected_names(expected_type) -> tuple[tuple[type, ...], list[str]]:
    types = (expected_type,) if isinstance(expected_type, type) else tuple(expected_type)
    return types, [_class_name(t) or f"{t.__module__}.{t.__qualname__}" for t in types]


def _check_declared_type(header: dict, expected_type, path: Path) -> None:
    """Refuse a file whose header declares another type, before anything is decoded."""
    types, names = _expected_names(expected_type)
    declared = header.get("type")
    cls = _ROOTS.get(declared) if isinstance(declared, str) else None
    if cls is None and isinstance(declared, str) and declared in CLASSES:
        cls = _class(declared)
    if cls is None or not issubclass(cls, types):
        raise TypeError(f"{path} holds a {declared}, expected " + " or ".join(names))


def _decode(header: dict, payload: bytes, path: Path) -> Any:
    raw_size, doc_size = header.get("raw_size"), header.get("document_size")
    if (header.get("compression") != "zlib" or type(raw_size) is not int or type(doc_size) is not int
            or not 0 <= doc_size < raw_size <= _MAX_RATIO * len(payload) + 1024):
        raise ModelFileError(f"{path} is not a valid model file: its header does not describe a zlib payload "
                             f"(compression {header.get('compression')!r}, raw_size {raw_size!r}, "
                             f"document_size {doc_size!r})")
    try:
        d = zlib.decompressobj()
        raw = d.decompress(payload, raw_size)
        if len(raw) != raw_size or not d.eof or d.unconsumed_tail:
            raise _Invalid(f"the payload does not decompress to the {raw_size} bytes the header announces")
        if raw[doc_size:doc_size + 1] != b"\n":
            raise _Invalid("the document does not end where the header says")
        doc = json.loads(raw[:doc_size].decode("ascii"))
        _need(isinstance(doc, dict) and "root" in doc, "the document has no root")
        blob = memoryview(raw)[doc_size + 1:]
        dec = _Decoder(doc.get("arrays"), blob)
        return dec.dec(doc["root"])
    except _Invalid as exc:
        raise ModelFileError(f"{path} is not a valid model file: {exc}; refusing to load it") from None
    except (zlib.error, UnicodeDecodeError, ValueError, TypeError, KeyError, IndexError, OverflowError,
            AttributeError, RecursionError) as exc:
        raise ModelFileError(f"{path} is not a valid model file: decoding failed ({type(exc).__name__}: {exc}); "
                             "refusing to load it") from None


def load(path: str | os.PathLike, expected_type: type | tuple[type, ...] | None = None,
         expected_sha256: str | None = None) -> Any:
    """Load an object written by :func:`dump`, refusing modified, truncated or foreign files.

    Parameters
    ----------
    path : path-like
        File written by :func:`dump`.
    expected_type : type or tuple of types, optional
        Raise ``TypeError`` unless the file declares (and holds) an instance of it; the
        declared type is checked before anything is decoded.
    expected_sha256 : str, optional
        Hex sha256 of the whole file as recorded elsewhere (e.g. a run manifest); the file is
        checked against it before it is parsed.

    Raises
    ------
    ModelFileError
        Not a model file, a pickle-based file of an older version, truncated, appended to,
        modified, not the recorded file, or naming a type it may not hold.

    Warns
    -----
    ModelVersionWarning
        The file was written with another version of scikit-learn, numpy or pandas.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    raw = path.read_bytes()
    if expected_sha256 is not None:
        actual = hashlib.sha256(raw).hexdigest()
        if actual != str(expected_sha256).lower():
            raise ModelFileError(f"{path} is not the recorded file: its sha256 is {actual}, expected {expected_sha256}")
    header, payload = _split(raw, path)
    if expected_type is not None:
        _check_declared_type(header, expected_type, path)
    saved = header.get("versions") if isinstance(header.get("versions"), dict) else {}
    now = versions()
    differ = [f"{lib} {saved[lib]} (now {now.get(lib)})" for lib in _CHECKED if lib in saved and saved[lib] != now.get(lib)]
    if differ:
        warnings.warn(f"{path} was written with " + ", ".join(differ) + "; results may differ from the original fit",
                      ModelVersionWarning, stacklevel=2)
    obj = _decode(header, payload, path)
    if _type_name(obj) != header.get("type"):
        raise ModelFileError(f"{path} is not a valid model file: its header declares a {header.get('type')}, "
                             f"it holds a {_type_name(obj)}")
    if expected_type is not None and not isinstance(obj, expected_type):  # pragma: no cover - checked above
        raise TypeError(f"{path} holds a {_type_name(obj)}, expected " + " or ".join(_expected_names(expected_type)[1]))
    return obj
