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
from pathlib import Path

import pandas as pd

from features import TownData
from features.validation import TABLES, DataValidationError, Problem, TableSource, validate_tables

__all__ = ["check_dataset_folder", "dataset_files", "read_dataset", "read_dataset_hashed", "sha256_file",
           "write_dataset"]

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


def read_dataset(path: str | os.PathLike, progress=None) -> TownData:
    """Read and validate a dataset folder.

    Returns an immutable :class:`features.TownData`. Raises ``DataValidationError`` with every
    problem of every file (file, column, rows, expected, found) when the folder breaks the data
    contract; nothing is dropped or repaired silently. ``progress``, if given, is called with a
    short message after each file is read, before and after validation.
    """
    return read_dataset_hashed(path, progress)[0]


def read_dataset_hashed(path: str | os.PathLike, progress=None) -> tuple[TownData, dict]:
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
    tell = progress or (lambda _m: None)
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
        tell(f"read {f.name} ({len(data) / 1e6:.1f} MB)")
        if df is not None:
            raw[name] = df
            sources[name] = src
        else:
            raw[name] = None  # present but unreadable: not reported again as missing
    extra = sorted(f.name for f in p.iterdir() if f.suffix in _SUFFIXES and f.stem not in TABLES)
    if extra:
        notes.append(f"files that are not tables of the contract were ignored: {extra}")
    readable = {k: v for k, v in raw.items() if v is not None}
    tell(f"validating {len(readable)} tables ...")
    try:
        tables, more = validate_tables(readable, sources, source=str(p))
    except DataValidationError as exc:
        missing_reported = {k for k, v in raw.items() if v is None}
        rest = [q for q in exc.problems if not any(q.file.startswith(f"{k}.csv / ") for k in missing_reported)]
        raise DataValidationError(problems + rest, source=str(p)) from None
    if problems:
        raise DataValidationError(problems, source=str(p))
    tell(f"validated {len(tables)} tables")
    return TownData(tables, notes=tuple(notes) + tuple(more), source=str(p), _validated=True), hashes


DATASET_MARKER = ".nordtowns-dataset.json"
DATASET_FORMAT = "nordtowns-dataset/1"
_LEGACY_SYNTHETIC = {*(f"{t}{s}" for t in TABLES for s in _SUFFIXES), "truth.json", "truth_regressors.csv"}


def write_dataset(data: TownData, path: str | os.PathLike, fmt: str = "csv", truth: dict | None = None,
                  extra: dict[str, pd.DataFrame] | None = None, overwrite: bool = False,
                  files: dict[str, str] | None = None, progress=None) -> Path:
    """Write a dataset folder atomically (into a temporary folder renamed at the end).

    The folder is marked as written by the toolkit: ``.nordtowns-dataset.json`` lists every
    file with its sha256. Overwriting replaces only such a folder, holding nothing else and
    nothing changed (or a synthetic dataset of an earlier version: ``truth.json`` and tables
    only); any other folder is refused (``typology.folders.FolderRefusedError``), and a folder
    that another process is writing too (``FolderLockedError``). See :mod:`typology.folders`.

    Parameters
    ----------
    fmt : {"csv", "parquet"}
    truth : dict, optional
        Written as ``truth.json`` (synthetic datasets).
    extra : dict, optional
        Further CSV files (name -> DataFrame), e.g. the generator's true regressors.
    overwrite : bool
        Replace an existing dataset folder written by the toolkit; otherwise an existing
        non-empty folder is an error.
    files : dict, optional
        Further text files (file name -> UTF-8 text), e.g. a description of the sources.
    progress : callable, optional
        Called with a short message after each file is written.
    """
    from .folders import output_folder

    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    tell = progress or (lambda _m: None)
    with output_folder(path, overwrite=overwrite, check=check_dataset_folder, what="dataset folder",
                       marker=DATASET_MARKER) as tmp:
        for name, df in data.tables().items():
            if fmt == "csv":
                df.to_csv(tmp / f"{name}.csv", index=False)
            else:
                df.to_parquet(tmp / f"{name}.parquet", index=False)
            tell(f"wrote {name}.{fmt} ({len(df):,} rows)")
        if truth is not None:
            (tmp / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        for name, df in (extra or {}).items():
            df.to_csv(tmp / f"{name}.csv")
        for name, text in (files or {}).items():
            if Path(name).name != name or name == DATASET_MARKER:
                raise ValueError(f"files: {name!r} is not a plain file name")
            (tmp / name).write_text(text, encoding="utf-8")
        _write_marker(tmp)
    return Path(path)


def _write_marker(d: Path) -> None:
    from .folders import OWNER, files_under

    listed = {f: sha256_file(d / f) for f in files_under(d) if f not in (OWNER, DATASET_MARKER)}
    (d / DATASET_MARKER).write_text(json.dumps({"format": DATASET_FORMAT, "files": listed}, indent=1) + "\n",
                                    encoding="utf-8")


def check_dataset_folder(d: Path) -> None:
    """Raise ``FolderRefusedError`` unless ``d`` is a dataset folder that the toolkit wrote and
    that holds nothing else (what ``write_dataset(..., overwrite=True)`` may replace)."""
    from .folders import FolderRefusedError, contents_problems, files_under

    d = Path(d)
    how = ("only a dataset folder written by typology (synth, demo, write_dataset) is replaced; "
           "move the files you want to keep, or choose another folder")
    marker = d / DATASET_MARKER
    if marker.is_file():
        try:
            rec = json.loads(marker.read_text(encoding="utf-8"))
            listed = dict(rec["files"]) if rec.get("format") == DATASET_FORMAT else None
        except (ValueError, KeyError, TypeError, AttributeError):
            listed = None
        if listed is None:
            raise FolderRefusedError(f"{d} is not replaced: its {DATASET_MARKER} is not a dataset marker of "
                                     f"format {DATASET_FORMAT!r}; {how}")
        problems = contents_problems(d, {**listed, DATASET_MARKER: None})
    else:
        present = files_under(d)
        if "truth.json" not in present or not set(present) <= _LEGACY_SYNTHETIC:
            raise FolderRefusedError(f"{d} is not replaced: it is not a dataset folder written by typology "
                                     f"(no {DATASET_MARKER}); {how}")
        problems = []
    if problems:
        raise FolderRefusedError(f"{d} is not replaced: " + "; ".join(problems) + f"; {how}")
