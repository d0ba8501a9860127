"""Reading and writing dataset folders (the data contract of DESIGN.md section 3).

A dataset is a folder holding, for each table, ``<table>.csv`` or ``<table>.parquet``.
CSV files are read as text and every column is parsed by the validator, so nothing is guessed
by a CSV library:

* encodings: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark (Excel's
  "Unicode text"), and cp1251 (Windows Cyrillic) when the bytes are not valid UTF-8, with a note;
  a file that is really binary (Parquet, an Excel workbook, gzip, ... recognised by its leading
  bytes) or UTF-16 without a byte-order mark is named as such, with what to do;
* separators: ``,``, ``;`` or tab, detected from the header line;
* records: double quotes enclose a field holding separators, quotes (doubled) or newlines;
  blank lines are skipped; every record must have the header's number of fields (a short line,
  as in a truncated file, is an error, not a row of empty cells); malformed quoting is an error
  naming the line; rows are labelled with their physical line number in the file;
* a ``;``- or tab-separated file is a Russian-locale export: ``,`` is its decimal mark and
  spaces (also non-breaking) group digits (``1 234,5``); a value with both ``.`` and ``,`` is
  rejected, and a ``.`` is read as a decimal point only where no number of the file has a
  decimal comma and its column proves it (see :mod:`features.validation`);
* in a ``,``-separated file a number with a comma is rejected with a message saying how to
  convert the file;
* the firm registry may be a folder ``firms/`` of Parquet files (plain or hive-partitioned, e.g.
  ``firms/year=2019/part-0.parquet``): it is checked and aggregated out of core with Polars
  (:func:`typology.data.registry.aggregate_registry`, the ``registry`` extra) to the town-year
  quantities the feature builder reads, never loaded into memory;
* a table saved under another name or format (``towns.xlsx``, ``towns.csv.gz``, ``Towns.csv``,
  ``towns.tsv``) is an error naming the file and saying how to convert it. Spreadsheets are not
  read: Excel stores OKTMO codes as numbers (their leading zeros lost) and guesses types, the
  guessing this reader exists to avoid.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from features import TownData
from features.validation import TABLES, DataValidationError, Problem, TableSource, validate_tables

from .registry import sha256_registry

__all__ = ["BOUNDARIES", "boundary_problems", "check_dataset_folder", "dataset_files", "read_boundaries",
           "read_dataset", "read_dataset_hashed", "sha256_file", "write_dataset"]

_SUFFIXES = (".csv", ".parquet")


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dataset_files(path: str | os.PathLike) -> dict[str, Path]:
    """The contract files of a dataset folder, by table name (no validation); the optional
    ``boundaries.geojson`` as ``"boundaries"``."""
    p = Path(path)
    out = {}
    for name in TABLES:
        for suf in _SUFFIXES:
            f = p / f"{name}{suf}"
            if f.is_file():
                out[name] = f
                break
    if "firms" not in out and (p / "firms").is_dir():  # a registry read out of core
        out["firms"] = p / "firms"
    if (p / BOUNDARIES).is_file():
        out["boundaries"] = p / BOUNDARIES
    return out


def _decode(raw: bytes, name: str, notes: list[str]) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        notes.append(f"{name}: read as UTF-32 (byte-order mark found)")
        return raw.decode("utf-32")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append(f"{name}: read as UTF-16 (byte-order mark found)")
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1251")
        notes.append(f"{name}: not valid UTF-8, read as cp1251 (Windows Cyrillic); save files as UTF-8 to avoid this")
        return text


#: Leading bytes of the binary formats a table is found saved as, and what to do about them.
_MAGIC = (
    (b"PAR1", "a Parquet file (it starts with the Parquet signature 'PAR1')", "rename it to {stem}.parquet"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook, or a zipped file)", "{convert}"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-format Excel workbook (.xls)", "{convert}"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it (gunzip) to {stem}.csv"),
    (b"BZh", "a bzip2-compressed file", "decompress it (bunzip2) to {stem}.csv"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it (unxz) to {stem}.csv"),
    (b"(\xb5/\xfd", "a zstd-compressed file", "decompress it (unzstd) to {stem}.csv"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it to {stem}.csv"),
    (b"ARROW1", "an Arrow IPC / Feather file", "save it as {stem}.parquet"),
    (b"SQLite format 3\x00", "an SQLite database", "export the table to {stem}.csv"),
    (b"%PDF", "a PDF document", "export the table to {stem}.csv"),
)
_CONVERT = ("save the sheet as CSV (in Excel: File > Save As > 'CSV UTF-8'; keep identifier columns as text so "
            "OKTMO codes keep their leading zeros) or convert it with pandas: "
            "pandas.read_excel('{name}', dtype=str).to_csv('{stem}.csv', index=False)")


def _binary_kind(raw: bytes, f: Path) -> str | None:
    """What a file that should be CSV text really is, with what to do; None for text."""
    stem = f.name.split(".", 1)[0]
    for magic, what, todo in _MAGIC:
        if raw.startswith(magic):
            return f"{what}: {todo.format(stem=stem, convert=_CONVERT.format(name=f.name, stem=stem))}"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return None  # UTF-16 or UTF-32 text with a byte-order mark
    head = raw[:4096]
    if len(head) >= 8 and (head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4):
        return "UTF-16 text without a byte-order mark: save the file as UTF-8"
    control = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13)) + head.count(b"\x7f")
    if control > len(head) // 10:  # text has few control characters; a NUL or two is a damaged value
        return f"binary data, not text ({control} control bytes among the first {len(head)})"
    return None


def _sniff_separator(text: str) -> str:
    header = next((line for line in text.split("\n", 50) if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda k: (counts[k], k == ","))
    return best if counts[best] > 0 else ","


def _read_csv(raw: bytes, f: Path, notes: list[str], problems: list[Problem]) -> tuple[pd.DataFrame | None, TableSource]:
    what = _binary_kind(raw, f)
    if what is not None:
        problems.append(Problem(f.name, None, "a CSV text file", what))
        return None, TableSource(f.name)
    try:
        text = _decode(raw, f.name, notes)
    except UnicodeDecodeError as exc:
        problems.append(Problem(f.name, None, "a text file in UTF-8 or cp1251", f"undecodable bytes ({exc.reason})"))
        return None, TableSource(f.name)
    flat = text.replace("\r\n", "\n").replace("\r", "\n")  # line ends; inside quotes they stay as written
    sep = _sniff_separator(flat)
    src = TableSource(f.name, first_row=2, unit="line", decimal_comma=sep in (";", "\t"), text=True)
    if not flat.strip():
        problems.append(Problem(f.name, None, "a header line and data rows", "an empty file"))
        return None, src
    if src.decimal_comma:
        notes.append(f"{f.name}: '{'tab' if sep == chr(9) else sep}'-separated, read with ',' as the decimal mark "
                     "(Russian-locale export)")
    if not flat.endswith("\n"):
        notes.append(f"{f.name}: the last line has no line break; if the file was cut short (an interrupted "
                     "copy or download), its last row may be incomplete")
    if "\x00" in flat:
        problems.append(_nul_problem(flat, sep, f.name))
        return None, src
    parsed = _records_plain(flat, sep) if '"' not in text else None
    if parsed is None:
        parsed = _records_quoted(text, sep, f.name, problems)
        if parsed is None:
            return None, src
    header, df, lines, n_fields = parsed
    if not _same_field_counts(f.name, sep, len(header), n_fields, lines, problems):
        return None, src
    df = df.iloc[:, : len(header)] if df.shape[1] > len(header) else df
    df.columns = header
    return df, dataclasses.replace(src, lines=lines[1:])


def _nul_problem(text: str, sep: str, name: str) -> Problem:
    """A NUL character in a text file: its line, and its column when the line has no quotes."""
    pos = text.index("\x00")
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start:end if end >= 0 else len(text)]
    column = None
    header = next((x for x in text.split("\n", 50) if x.strip()), "")
    if '"' not in line and '"' not in header:
        j = line[: pos - start].count(sep)
        names = header.split(sep)
        column = names[j].strip() if j < len(names) else None
    return Problem(name, column, "text without NUL characters (a damaged file or a binary value)",
                   f"{text.count(chr(0))} NUL character(s), the first on this line", (text.count("\n", 0, pos) + 1,),
                   1, "line")


def _records_plain(text: str, sep: str):
    """Records of a file without quote characters: one per non-blank line (a line of spaces and
    tabs is blank unless tab is the separator, as pandas reads it). Returns ``(header, table,
    lines, n_fields)``: the physical line number of every record (the header's first) and the
    number of fields of every data record; None when pandas and the line scan disagree."""
    b = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    nl = np.flatnonzero(b == 10)
    starts = np.r_[0, nl + 1]
    ends = np.r_[nl, len(b)]
    blank_chars = " \t" if sep != "\t" else " "
    record = ends > starts
    maybe = np.flatnonzero(record)
    maybe = maybe[np.isin(b[starts[maybe]], np.frombuffer(blank_chars.encode(), dtype=np.uint8))]
    for i in maybe:  # lines starting with a space or tab (rare): blank if nothing else
        record[i] = bool(b[starts[i]:ends[i]].tobytes().strip(blank_chars.encode()))
    n_fields = np.bincount(np.searchsorted(nl, np.flatnonzero(b == ord(sep))), minlength=len(starts))[record] + 1
    lines = np.flatnonzero(record) + 1
    h = int(np.flatnonzero(record)[0])
    header = b[starts[h]:ends[h]].tobytes().decode("utf-8").split(sep)
    width = int(n_fields.max())
    df = pd.read_csv(io.StringIO(text), sep=sep, header=None, names=list(range(width)), dtype=str,
                     keep_default_na=False, na_filter=False, quoting=csv.QUOTE_NONE, skip_blank_lines=True,
                     engine="c")
    if len(df) != len(lines):  # a line pandas reads otherwise: let the exact reader decide
        return None
    return header, df.iloc[1:].reset_index(drop=True), lines, n_fields[1:]


def _records_quoted(text: str, sep: str, name: str, problems: list[Problem]):
    """Records of a file with quoted fields (a quoted field may hold separators, line breaks,
    kept as written, and doubled quotes), read by the standard library's strict CSV reader,
    which knows the physical line where each record starts (``\n``, ``\r\n`` and ``\r`` end a
    line)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', doublequote=True, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    prev = 0
    try:
        for row in reader:
            start, prev = prev + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip(" \t" if sep != "\t" else " ")):
                continue  # a blank line
            rows.append(row)
            lines.append(start)
    except csv.Error as exc:
        start = prev + 1
        if "unexpected end of data" in str(exc):
            found = f"a quoted field opened on line {start} and never closed (the file ends inside it)"
        else:
            found = f"{exc} (line {reader.line_num})"
        problems.append(Problem(name, None, "well-formed quoting: a field in double quotes, a doubled quote "
                                "inside it, and a separator or line end after the closing quote",
                                found, (start,), 1, "line"))
        return None
    if not rows:
        problems.append(Problem(name, None, "a header line and data rows", "an empty file"))
        return None
    header = rows[0]
    width = max(len(r) for r in rows)
    n_fields = np.fromiter((len(r) for r in rows[1:]), dtype=np.int64, count=len(rows) - 1)
    cols = [[] for _ in range(width)]
    for r in rows[1:]:
        for j in range(width):
            cols[j].append(r[j] if j < len(r) else "")
    df = pd.DataFrame({j: pd.array(c, dtype="str") for j, c in enumerate(cols)}, index=pd.RangeIndex(len(rows) - 1))
    return header, df, np.asarray(lines, dtype=np.int64), n_fields


def _same_field_counts(name: str, sep: str, n: int, counts: np.ndarray, lines: np.ndarray,
                       problems: list[Problem]) -> bool:
    """Every record has the header's number of fields (pandas would pad a short one silently)."""
    bad = np.flatnonzero(counts != n)
    if not len(bad):
        return True
    k = int(counts[bad[0]])
    if k > n:
        hint = ("; a decimal comma in a ','-separated file splits numbers into two fields: save it with ';' as "
                "the separator" if sep == "," else "; a separator inside a value needs the value in double quotes")
    else:
        hint = "; a line cut short (a truncated file?) or a missing separator"
    problems.append(Problem(name, None, f"{n} fields on every line, as in the header",
                            f"{k} field(s){hint}", tuple(int(x) for x in lines[1:][bad[:5]]), len(bad), "line"))
    return False


def _misnamed(p: Path, name: str) -> list[Path]:
    """Files of the folder that look like table ``name`` saved under another name or format:
    ``towns.xlsx``, ``towns.csv.gz``, ``Towns.csv``, ``towns.tsv``..."""
    exact = {f"{name}{s}" for s in _SUFFIXES}
    out = []
    for f in sorted(p.iterdir()):
        low = f.name.lower()
        if f.name in exact or not f.is_file() or not (low.startswith(f"{name}.") or low in exact):
            continue
        out.append(f)
    return out


_HOW = {
    (".xlsx", ".xlsm", ".xls", ".ods"): "a spreadsheet workbook, which is not read: {convert}",
    (".tsv", ".txt", ".tab", ".dat"): "a text table: rename it to {stem}.csv (the separator, ',', ';' or tab, is "
                                      "detected from the header line)",
    (".gz", ".zip", ".bz2", ".xz", ".zst", ".7z"): "a compressed file: decompress it to {stem}.csv",
    (".json", ".jsonl", ".ndjson"): "JSON, which is not read: convert it with pandas, "
                                    "pandas.read_json('{name}', dtype=str).to_csv('{stem}.csv', index=False)",
    (".pq", ".parq"): "rename it to {stem}.parquet",
}


def _misnamed_problem(name: str, files: list[Path]) -> Problem:
    advice = []
    for f in files:
        low = f.name.lower()
        how = None
        if low in (f"{name}.csv", f"{name}.parquet"):
            how = f"file names are case-sensitive: rename it to {low}"
        else:
            for sufs, text in _HOW.items():
                if low.endswith(sufs):
                    how = text.format(convert=_CONVERT.format(name=f.name, stem=name), name=f.name, stem=name)
                    break
        advice.append(f"'{f.name}': {how or f'only {name}.csv or {name}.parquet is read'}")
    return Problem(", ".join(f.name for f in files), None, f"the '{name}' table as {name}.csv or {name}.parquet",
                   "; ".join(advice))


def _read_parquet(data: bytes, f: Path, problems: list[Problem]) -> pd.DataFrame | None:
    if not data.startswith(b"PAR1"):
        what = _binary_kind(data, f)
        if what is None:
            what = ("text, not Parquet (a CSV file?): rename it to "
                    f"{f.name.split('.', 1)[0]}.csv" if data.strip() else "an empty file")
        problems.append(Problem(f.name, None, "a Parquet file", what))
        return None
    try:
        import pyarrow.parquet as pq

        names = pq.ParquetFile(io.BytesIO(data)).schema_arrow.names
        if len(set(names)) < len(names):  # pandas refuses repeated names: the validator reports them
            t = pq.ParquetFile(io.BytesIO(data)).read()
            df = t.rename_columns([str(i) for i in range(len(names))]).to_pandas(ignore_metadata=True)
            df.columns = names
            return df
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # any reader failure is a data problem
        problems.append(Problem(f.name, None, "a readable Parquet file", f"{type(exc).__name__}: {exc}"))
        return None


def read_dataset(path: str | os.PathLike, progress=None, firms: str | os.PathLike | None = None) -> TownData:
    """Read and validate a dataset folder.

    Returns an immutable :class:`features.TownData`. Raises ``DataValidationError`` with every
    problem of every file (file, column, rows, expected, found) when the folder breaks the data
    contract; nothing is dropped or repaired silently. A ``firms`` folder of Parquet files is
    aggregated out of core (:func:`typology.aggregate_registry`): the dataset then carries the
    registry's town-year aggregates (``data.registry``) instead of a ``firms`` table. ``progress``, if given, is called with a
    short message after each file is read, before and after validation. ``firms``: a registry
    folder of Parquet files kept elsewhere, read out of core as the dataset's firm registry (the
    dataset folder then has no ``firms`` of its own).
    """
    return read_dataset_hashed(path, progress, firms=firms)[0]


def read_dataset_hashed(path: str | os.PathLike, progress=None,
                        firms: str | os.PathLike | None = None) -> tuple[TownData, dict]:
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
    registry_dir = p / "firms" if (p / "firms").is_dir() else None
    if firms is not None:  # a registry kept elsewhere
        if registry_dir is not None or any((p / f"firms{s}").is_file() for s in _SUFFIXES):
            problems.append(Problem(str(p), None, f"no firm registry of its own when one is given ({firms})",
                                    "a firms table or folder: keep one registry"))
        registry_dir = Path(firms)
    for name in TABLES:
        found = [p / f"{name}{s}" for s in _SUFFIXES if (p / f"{name}{s}").is_file()]
        if name == "firms" and registry_dir is not None:
            if found and firms is None:
                problems.append(Problem(", ".join(f.name for f in [*found, registry_dir]), None,
                                        "one firm registry: a firms.csv / firms.parquet file or a firms/ folder of "
                                        "Parquet files", "both: keep one"))
            continue
        if len(found) > 1:
            problems.append(Problem(", ".join(f.name for f in found), None, f"one file for table '{name}'",
                                    "both a CSV and a Parquet file: keep one"))
            continue
        if not found:
            near = _misnamed(p, name)
            if near:
                problems.append(_misnamed_problem(name, near))
                raw[name] = None  # reported: not reported again as missing
            continue
        f = found[0]
        data = f.read_bytes()
        hashes[name] = {"file": f.name, "sha256": hashlib.sha256(data).hexdigest()}
        if f.suffix == ".csv":
            df, src = _read_csv(data, f, notes, problems)
        else:
            src = TableSource(f.name, first_row=1, unit="row", decimal_comma=False, text=False)
            df = _read_parquet(data, f, problems)
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
        rest = [q for q in exc.problems  # a present but unreadable table is not missing as well
                if not any(q.file.startswith(f"{k}.csv / ") or f"no {k}.csv / {k}.parquet" in q.found
                           for k in missing_reported)]
        if registry_dir is not None and not problems:  # the registry's own problems, in the same pass
            rest += _registry(registry_dir, {}, tell)[1]
        raise DataValidationError(problems + rest, source=str(p)) from None
    registry = None
    if registry_dir is not None and not problems:
        hashes["firms"] = {"file": f"{registry_dir.name}/" if firms is None else str(registry_dir),
                           "sha256": sha256_registry(registry_dir)}
        registry, more_problems = _registry(registry_dir, tables, tell)
        problems += more_problems
        more = [n for n in more if not n.startswith("groups given without firms")]
    bf = p / BOUNDARIES
    if bf.is_file():  # optional: municipal boundaries for the maps, checked in the same pass
        data = bf.read_bytes()
        hashes["boundaries"] = {"file": bf.name, "sha256": hashlib.sha256(data).hexdigest()}
        problems += boundary_problems(data, bf.name, tables["towns"]["town_id"])[1]
    if problems:
        raise DataValidationError(problems, source=str(p))
    tell(f"validated {len(tables)} tables")
    return TownData(tables, notes=tuple(notes) + tuple(more), source=str(p), _validated=True,
                    registry=registry), hashes


def _registry(folder: Path, tables: dict, tell):
    """The registry folder aggregated out of core against the validated tables: ``(aggregates or
    None, problems)``."""
    from .registry import aggregate_registry

    try:
        no_groups = pd.DataFrame({"group_id": pd.Series([], dtype="str")})  # firms in groups are then an error
        reg = aggregate_registry(folder, towns=tables.get("towns"),
                                 groups=tables.get("groups", no_groups if tables else None),
                                 sectors=tables.get("sectors"), progress=tell)
    except DataValidationError as exc:
        return None, list(exc.problems)
    return reg, []


# ------------------------------------------------------------------------ boundaries (optional)
#: the optional boundaries file of a dataset folder: a GeoJSON FeatureCollection of Polygon or
#: MultiPolygon features, each with ``properties.town_id`` (a town of towns.csv), coordinates
#: in decimal degrees (longitude, latitude), at most one feature per town; never required
BOUNDARIES = "boundaries.geojson"


def _rings_ok(poly) -> bool:
    """A GeoJSON polygon: a non-empty list of rings, each of >= 4 [lon, lat] pairs in range."""
    if not isinstance(poly, list) or not poly:
        return False
    for ring in poly:
        try:
            r = np.asarray(ring, dtype=float)
        except (TypeError, ValueError):
            return False
        if r.ndim != 2 or r.shape[0] < 4 or r.shape[1] < 2 or not np.isfinite(r[:, :2]).all():
            return False
        if (np.abs(r[:, 0]) > 180).any() or (np.abs(r[:, 1]) > 90).any():
            return False
    return True


def boundary_problems(raw: bytes, name: str, town_ids) -> tuple[dict, list[Problem]]:
    """Parse and check a boundaries GeoJSON: ``(town_id -> list of polygons, problems)``.

    Each polygon is a list of rings of ``[lon, lat]`` pairs. Problems (one pass, the first few
    features named): not JSON, not a FeatureCollection, a feature without ``properties.town_id``,
    a town_id not in towns.csv, a town given twice, a geometry that is not a Polygon or
    MultiPolygon, rings with fewer than 4 positions or coordinates out of range.
    """
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return {}, [Problem(name, None, "a GeoJSON FeatureCollection (UTF-8 JSON)", f"not valid JSON: {exc}")]
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        return {}, [Problem(name, None, 'a GeoJSON object with "type": "FeatureCollection" and "features"',
                            f"type {doc.get('type') if isinstance(doc, dict) else type(doc).__name__!r}")]
    known = set(pd.Index(town_ids).astype(str))
    out: dict[str, list] = {}
    bad: dict[str, list[int]] = {"id": [], "unknown": [], "twice": [], "geometry": []}
    for i, f in enumerate(doc["features"]):
        props = f.get("properties") if isinstance(f, dict) else None
        tid = props.get("town_id") if isinstance(props, dict) else None
        if not isinstance(tid, str | int) or isinstance(tid, bool) or str(tid) == "":
            bad["id"].append(i)
            continue
        tid = str(tid)
        geom = f.get("geometry") or {}
        kind, coords = geom.get("type"), geom.get("coordinates")
        polys = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else None
        if tid not in known:
            bad["unknown"].append(i)
        elif tid in out:
            bad["twice"].append(i)
        elif not isinstance(polys, list) or not polys or not all(_rings_ok(q) for q in polys):
            bad["geometry"].append(i)
        else:
            out[tid] = polys
    texts = {"id": ("every feature with properties.town_id (a string)", "features without town_id"),
             "unknown": ("town_id of towns.csv", "town_id not in towns.csv"),
             "twice": ("at most one feature per town_id (a MultiPolygon for several parts)", "a town given twice"),
             "geometry": ("a Polygon or MultiPolygon of rings of >= 4 [lon, lat] positions, lon in [-180, 180], "
                          "lat in [-90, 90]", "another geometry, or rings out of range")}
    problems = [Problem(name, "properties.town_id" if k != "geometry" else "geometry", texts[k][0],
                        f"{texts[k][1]} (features {', '.join(str(j + 1) for j in rows[:5])}"
                        f"{', ...' if len(rows) > 5 else ''} of {len(doc['features'])})")
                for k, rows in bad.items() if rows]
    return out, problems


def read_boundaries(path: str | os.PathLike, town_ids=None) -> dict | None:
    """The boundaries of a dataset folder (``boundaries.geojson``), or None when it has none.

    Returns ``town_id -> list of polygons`` (each a list of rings of ``[lon, lat]``); raises
    ``DataValidationError`` naming the file and the features at fault. ``town_ids``: the towns
    the ids must belong to (default: read from the folder's towns table).
    """
    f = Path(path) / BOUNDARIES if Path(path).is_dir() else Path(path)
    if not f.is_file():
        return None
    if town_ids is None:
        town_ids = read_dataset(f.parent).towns["town_id"]
    out, problems = boundary_problems(f.read_bytes(), f.name, town_ids)
    if problems:
        raise DataValidationError(problems, source=str(f.parent))
    return out


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
    from ..folders import output_folder

    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    if data.registry is not None:
        raise ValueError(f"write_dataset: the firm registry of {data.source} is held as town-year aggregates (read "
                         "out of core), not as firm rows; copy its folder of Parquet files as firms/ into the new "
                         "dataset folder, or write data.replace(firms=None) and name the registry with "
                         "read_dataset(..., firms=FOLDER)")
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
    from ..folders import OWNER, files_under

    listed = {f: sha256_file(d / f) for f in files_under(d) if f not in (OWNER, DATASET_MARKER)}
    (d / DATASET_MARKER).write_text(json.dumps({"format": DATASET_FORMAT, "files": listed}, indent=1) + "\n",
                                    encoding="utf-8")


def check_dataset_folder(d: Path) -> None:
    """Raise ``FolderRefusedError`` unless ``d`` is a dataset folder that the toolkit wrote and
    that holds nothing else (what ``write_dataset(..., overwrite=True)`` may replace)."""
    from ..folders import FolderRefusedError, contents_problems, files_under

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
