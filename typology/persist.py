"""Hash-checked persistence of fitted objects (joblib inside a self-describing envelope).

A file written by :func:`dump` has three parts::

    NORDTOWNS-PERSIST/1\\n          magic line (format and version of the envelope)
    sha256=<64 hex digits>\\n       digest of everything that follows this line
    {"type": ..., "size": ...}\\n   JSON header: type of the object, payload size, versions, meta
    <payload>                      the object serialized by ``joblib.dump`` (zlib level 3)

:func:`load` refuses a file whose magic line is missing (not a model file), whose payload is
shorter or longer than the header says (truncated or appended to), or whose digest does not
match (modified), each with an error naming the file and what was expected and found; it warns
(:class:`~typology.exceptions.ModelVersionWarning`) when the file was written with another
scikit-learn, numpy or pandas version, and checks the type of the loaded object.

The digest detects corruption and accidental edits. It is not a signature: whoever can write
the file can recompute it. Unpickling runs code, so load only files you trust; when the digest
of the whole file was recorded elsewhere (a run folder's ``manifest.json``), pass it as
``expected_sha256`` to :func:`load` so the file is also checked against that record. The same
object written with the same library versions gives the same bytes (no time stamps), so the
digest of a saved typology is reproducible.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import tempfile
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib

from .exceptions import ModelFileError, ModelVersionWarning

__all__ = ["MAGIC", "PACKAGES", "dump", "load", "read_header", "versions"]

MAGIC = b"NORDTOWNS-PERSIST/1\n"
_DIGEST_PREFIX = b"sha256="
_CHECKED = ("scikit-learn", "numpy", "pandas")


PACKAGES = ("nordtowns", "numpy", "pandas", "scipy", "scikit-learn", "statsmodels", "linearmodels", "joblib",
            "pyarrow", "matplotlib")


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


def _type_name(obj: Any) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def dump(obj: Any, path: str | os.PathLike, meta: dict | None = None) -> str:
    """Write ``obj`` to ``path`` with a sha256 digest; return the sha256 of the whole file.

    Parameters
    ----------
    obj : object
        Anything joblib can serialize (a fitted estimator, a dict of fitted objects).
    path : path-like
        Destination; written atomically (a temporary file in the same folder, then renamed),
        so a crash never leaves a half-written file under ``path``.
    meta : dict, optional
        JSON-serializable facts stored in the header (readable with :func:`read_header`
        without unpickling anything).

    Returns
    -------
    str
        Hex sha256 of the file's bytes (what ``sha256sum path`` prints).
    """
    buf = io.BytesIO()
    joblib.dump(obj, buf, compress=("zlib", 3))
    payload = buf.getvalue()
    header = {"type": _type_name(obj), "size": len(payload), "versions": versions(), "meta": meta or {}}
    try:
        head = json.dumps(header, sort_keys=True, ensure_ascii=True, allow_nan=False).encode("ascii") + b"\n"
    except (TypeError, ValueError) as exc:
        raise TypeError(f"meta must be JSON-serializable (str, numbers, lists, dicts): {exc}") from None
    body = head + payload
    digest = hashlib.sha256(body).hexdigest().encode("ascii")
    content = MAGIC + _DIGEST_PREFIX + digest + b"\n" + body
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return hashlib.sha256(content).hexdigest()


def _split(raw: bytes, path: Path) -> tuple[bytes, dict, bytes]:
    """Check magic, digest and size; return (digest, header, payload)."""
    if not raw.startswith(MAGIC):
        found = raw[: len(MAGIC)]
        raise ModelFileError(f"{path} is not a model file written by typology.persist.dump: expected it to start "
                             f"with {MAGIC!r}, found {found!r}")
    rest = raw[len(MAGIC):]
    end = rest.find(b"\n")
    line = rest[:end] if end >= 0 else rest
    if end < 0 or not line.startswith(_DIGEST_PREFIX) or len(line) != len(_DIGEST_PREFIX) + 64:
        raise ModelFileError(f"{path} is damaged: expected a line 'sha256=<64 hex digits>' after the magic line, "
                             f"found {line[:80]!r}")
    digest = line[len(_DIGEST_PREFIX):]
    body = rest[end + 1:]
    hend = body.find(b"\n")
    if hend < 0:
        raise ModelFileError(f"{path} is truncated: the header line is incomplete ({len(body)} bytes after the digest)")
    try:
        header = json.loads(body[:hend].decode("ascii"))
        size = int(header["size"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
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
    return digest, header, payload


def read_header(path: str | os.PathLike) -> dict:
    """The verified header of a saved file (type, size, versions, meta) without unpickling it."""
    path = Path(path)
    return _split(path.read_bytes(), path)[1]


def load(path: str | os.PathLike, expected_type: type | tuple[type, ...] | None = None,
         expected_sha256: str | None = None) -> Any:
    """Load an object written by :func:`dump`, refusing modified or truncated files.

    Parameters
    ----------
    path : path-like
        File written by :func:`dump`.
    expected_type : type or tuple of types, optional
        Raise ``TypeError`` unless the loaded object is an instance of it.
    expected_sha256 : str, optional
        Hex sha256 of the whole file as recorded elsewhere (e.g. a run manifest); raise
        :class:`~typology.exceptions.ModelFileError` when the file does not match it.

    Raises
    ------
    ModelFileError
        Not a model file, truncated, appended to, modified, or not the recorded file.

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
        if actual != expected_sha256.lower():
            raise ModelFileError(f"{path} is not the recorded file: its sha256 is {actual}, expected {expected_sha256}")
    _, header, payload = _split(raw, path)
    saved = header.get("versions", {})
    now = versions()
    differ = [f"{lib} {saved[lib]} (now {now.get(lib)})" for lib in _CHECKED if lib in saved and saved[lib] != now.get(lib)]
    if differ:
        warnings.warn(f"{path} was written with " + ", ".join(differ) + "; results may differ from the original fit",
                      ModelVersionWarning, stacklevel=2)
    obj = joblib.load(io.BytesIO(payload))
    if expected_type is not None and not isinstance(obj, expected_type):
        names = (expected_type,) if isinstance(expected_type, type) else expected_type
        raise TypeError(f"{path} holds a {header.get('type', _type_name(obj))}, expected "
                        + " or ".join(f"{t.__module__}.{t.__qualname__}" for t in names))
    return obj
