"""Reading and writing dataset folders (the data contract of DESIGN.md section 3).

A dataset is a folder holding, for each table, ``<table>.csv`` or ``<table>.parquet``.
CSV files are read as text and every column is parsed by the validator, so nothing is guessed
by a CSV library:

* encodings: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark (Excel's
  "Unicode text"), and cp1251 (Windows Cyrillic) when the bytes are not valid UTF-8, with a note;
* separators: ``,``, ``;`` or tab, detected from the header line;
* a ``;``- or tab-separated file is a Russian-locale export: ``,`` is its decimal mark and
  spaces (also non-breaking) group digits (``1 234,5``); a value with both ``.`` and ``,``, or a
  column mixing both marks, is rejected rather than guessed;
* in a ``,``-separated file a number with a comma is rejected with a message saying how to
  convert the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from features import TownData
from features.validation import TABLES, DataValidationError, Problem, TableSource, validate_tables

__all__ = ["dataset_files", "read_dataset", "read_dataset_hashed", "sha256_file", "write_dataset"]

_SUFFIXES = (".csv", ".parquet")


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dataset_files(path: str | os.PathLike) -> dict[str, Path]:
    """The contract files of a dataset folder, by table name (no validation)."""
    p = Path(path)
    out = {}
    for name in TABLES:
        for suf in _SUFFIXES:
            f = p / f"{name}{suf}"
            if f.is_file():
                out[name] = f
                break
    return out


def _decode(raw: bytes, name: str, notes: list[str]) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append(f"{name}: read as UTF-16 (byte-order mark found)")
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1251")
        notes.append(f"{name}: not valid UTF-8, read as cp1251 (Windows Cyrillic); save files as UTF-8 to avoid this")
        return text


def _sniff_separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda k: (counts[k], k == ","))
    return best if counts[best] > 0 else ","


def _read_csv(raw: bytes, f: Path, notes: list[str], problems: list[Problem]) -> tuple[pd.DataFrame | None, TableSource]:
    try:
        text = _decode(raw, f.name, notes)
    except UnicodeDecodeError as exc:
        problems.append(Problem(f.name, None, "a text file in UTF-8 or cp1251", f"undecodable bytes ({exc.reason})"))
        return None, TableSource(f.name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sep = _sniff_separator(text)
    src = TableSource(f.name, first_row=2, unit="line", decimal_comma=sep in (";", "\t"), text=True)
    if src.decimal_comma:
        notes.append(f"{f.name}: '{'tab' if sep == chr(9) else sep}'-separated, read with ',' as the decimal mark "
                     "(Russian-locale export)")
    if not text.strip():
        problems.append(Problem(f.name, None, "a header line and data rows", "an empty file"))
        return None, src
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                         quoting=csv.QUOTE_MINIMAL, skip_blank_lines=True, engine="c")
    except pd.errors.ParserError as exc:
        hint = ""
        if sep == ",":
            hint = "; a decimal comma in a ','-separated file splits numbers into two fields: save it with ';' as the separator"
        problems.append(Problem(f.name, None, "the same number of fields on every line", f"{exc}".strip() + hint))
        return None, src
    except pd.errors.EmptyDataError:
        problems.append(Problem(f.name, None, "a header line and data rows", "an empty file"))
        return None, src
    if src.decimal_comma:
        _check_mixed_marks(df, src, problems)
    return df, src


def _check_mixed_marks(df: pd.DataFrame, src: TableSource, problems: list[Problem]) -> None:
    """In a decimal-comma file, a column with some '1,5' and some '1.5' values is ambiguous."""
    for c in df.columns:
        s = df[c].astype("string").str.strip()
        num = s.str.fullmatch(r"-?[\d\s\u00a0\u202f]*[.,]\d+").fillna(False)
        if not num.any():
            continue
        comma = (num & s.str.contains(",", regex=False)).to_numpy()
        dot = (num & s.str.contains(".", regex=False)).to_numpy()
        if comma.any() and dot.any():
            pos = [i for i, d in enumerate(dot) if d][:5]
            problems.append(Problem(src.name, str(c).strip().lstrip("\ufeff"), "one decimal mark per column",
                                    f"both ',' and '.' decimals (e.g. {s.iloc[pos[0]]!r} beside a comma decimal)",
                                    tuple(p + src.first_row for p in pos), int(dot.sum()), src.unit))


def read_dataset(path: str | os.PathLike) -> TownData:
    """Read and validate a dataset folder.

    Returns an immutable :class:`features.TownData`. Raises ``DataValidationError`` with every
    problem of every file (file, column, rows, expected, found) when the folder breaks the data
    contract; nothing is dropped or repaired silently.
    """
    return read_dataset_hashed(path)[0]


def read_dataset_hashed(path: str | os.PathLike) -> tuple[TownData, dict]:
    """:func:`read_dataset` and the sha256 of the bytes it parsed, ``{table: {"file", "sha256"}}``
    (what a run folder's manifest records: the hash is of exactly the data analysed)."""
    p = Path(path)
    if not p.is_dir():
        raise DataValidationError([Problem(str(p), None, "a folder of CSV or Parquet tables",
                                           "no such folder" if not p.exists() else "a file")], source=str(p))
    problems: list[Problem] = []
    notes: list[str] = []
    raw: dict[str, pd.DataFrame] = {}
    sources: dict[str, TableSource] = {}
    hashes: dict[str, dict] = {}
    for name in TABLES:
        found = [p / f"{name}{s}" for s in _SUFFIXES if (p / f"{name}{s}").is_file()]
        if len(found) > 1:
            problems.append(Problem(", ".join(f.name for f in found), None, f"one file for table '{name}'",
                                    "both a CSV and a Parquet file: keep one"))
            continue
        if not found:
            continue
        f = found[0]
        data = f.read_bytes()
        hashes[name] = {"file": f.name, "sha256": hashlib.sha256(data).hexdigest()}
        if f.suffix == ".csv":
            df, src = _read_csv(data, f, notes, problems)
        else:
            src = TableSource(f.name, first_row=1, unit="row", decimal_comma=False, text=False)
            try:
                df = pd.read_parquet(io.BytesIO(data))
            except Exception as exc:  # any reader failure is a data problem
                problems.append(Problem(f.name, None, "a readable Parquet file", f"{type(exc).__name__}: {exc}"))
                df = None
        if df is not None:
            raw[name] = df
            sources[name] = src
        else:
            raw[name] = None  # present but unreadable: not reported again as missing
    extra = sorted(f.name for f in p.iterdir() if f.suffix in _SUFFIXES and f.stem not in TABLES)
    if extra:
        notes.append(f"files that are not tables of the contract were ignored: {extra}")
    readable = {k: v for k, v in raw.items() if v is not None}
    try:
        tables, more = validate_tables(readable, sources, source=str(p))
    except DataValidationError as exc:
        missing_reported = {k for k, v in raw.items() if v is None}
        rest = [q for q in exc.problems if not any(q.file.startswith(f"{k}.csv / ") for k in missing_reported)]
        raise DataValidationError(problems + rest, source=str(p)) from None
    if problems:
        raise DataValidationError(problems, source=str(p))
    return TownData(tables, notes=tuple(notes) + tuple(more), source=str(p), _validated=True), hashes


def write_dataset(data: TownData, path: str | os.PathLike, fmt: str = "csv", truth: dict | None = None,
                  extra: dict[str, pd.DataFrame] | None = None, overwrite: bool = False) -> Path:
    """Write a dataset folder atomically (into a temporary folder renamed at the end).

    Parameters
    ----------
    fmt : {"csv", "parquet"}
    truth : dict, optional
        Written as ``truth.json`` (synthetic datasets).
    extra : dict, optional
        Further CSV files (name -> DataFrame), e.g. the generator's true regressors.
    overwrite : bool
        Replace an existing folder; otherwise an existing non-empty folder is an error.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    dest = Path(path)
    if dest.exists() and any(dest.iterdir()) and not overwrite:
        raise FileExistsError(f"{dest} exists and is not empty; choose another folder or allow overwriting")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        for name, df in data.tables().items():
            if fmt == "csv":
                df.to_csv(tmp / f"{name}.csv", index=False)
            else:
                df.to_parquet(tmp / f"{name}.parquet", index=False)
        if truth is not None:
            (tmp / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        for name, df in (extra or {}).items():
            df.to_csv(tmp / f"{name}.csv")
        _replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _replace_dir(tmp: Path, dest: Path) -> None:
    """Move ``tmp`` to ``dest``; an existing ``dest`` is moved aside first and removed after."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
