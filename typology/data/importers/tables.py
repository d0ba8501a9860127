"""Reading a sheet of an .xlsx workbook or a .csv export as a table of text cells.

Registry exports (SPARK, Contour.Focus) put one or more title rows above the header; the
header is the first row (of the first 30) holding one of the expected header names. Excel
cells are read by python-calamine; numbers that are whole become integer text (``7701234567``,
not ``7701234567.0``). CSV files are decoded as UTF-8 (with or without byte-order mark) or,
when they are not valid UTF-8, as cp1251 (Windows Cyrillic); the separator (``;``, ``,`` or tab)
is taken from the header line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from .report import ImportDataError

__all__ = ["read_sheet", "norm_header"]

HEADER_SEARCH = 30


def norm_header(text) -> str:
    """A header compared loosely: lower case, non-breaking spaces and runs of spaces as one."""
    return " ".join(str(text).replace("\u00a0", " ").split()).lower()


def _cell_text(v) -> str | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _excel_rows(path: Path, sheet: str | None) -> tuple[list[list], str]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    names = list(wb.sheet_names)
    if sheet is None:
        sheet = names[0]
    elif sheet not in names:
        raise ImportDataError(f"{path}: no sheet named {sheet!r}; the workbook has {names}")
    return wb.get_sheet_by_name(sheet).to_python(), sheet


def _csv_rows(path: Path, notes: list[str]) -> list[list]:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        text = raw[3:].decode("utf-8")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1251")
            notes.append(f"{path.name}: not valid UTF-8, read as cp1251 (Windows Cyrillic)")
    lines = text.splitlines()
    sample = max(lines[:HEADER_SEARCH], key=lambda s: max(s.count(";"), s.count(","), s.count("\t")), default="")
    sep = max((";", "\t", ","), key=sample.count)
    return list(csv.reader(io.StringIO(text), delimiter=sep))


def read_sheet(path, expected: list[str], sheet: str | None = None,
               notes: list[str] | None = None) -> tuple[pd.DataFrame, int, str]:
    """Rows below the header as a DataFrame of text (``None`` for empty cells).

    Returns the table, the 1-based row number of the header in the file and the sheet name
    (``""`` for CSV). Raises :class:`ImportDataError` naming the file and sheet when no row of
    the first 30 holds any of ``expected``.
    """
    path = Path(path)
    notes = notes if notes is not None else []
    if not path.is_file():
        raise ImportDataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        rows, sheet_name = _excel_rows(path, sheet)
    elif suffix in (".csv", ".txt", ".tsv"):
        rows, sheet_name = _csv_rows(path, notes), ""
    else:
        raise ImportDataError(f"{path}: expected an .xlsx workbook or a .csv file, got {suffix or 'no suffix'!r}")
    want = {norm_header(e) for e in expected}
    where = f"{path}" + (f", sheet {sheet_name!r}" if sheet_name else "")
    i = next((j for j, row in enumerate(rows[:HEADER_SEARCH])
              if want & {norm_header(c) for c in row if c is not None}), None)
    if i is None:
        raise ImportDataError(f"{where}: no header row with any of {sorted(expected)[:6]} in the first "
                              f"{HEADER_SEARCH} rows; give the column names in a mapping file (--mapping)")
    header = [str(c).replace("\u00a0", " ").strip() if c is not None else "" for c in rows[i]]
    body = [[_cell_text(v) for v in r] + [None] * (len(header) - len(r)) for r in rows[i + 1:]]
    body = [r[: len(header)] for r in body if any(v is not None for v in r)]
    df = pd.DataFrame(body, columns=header, dtype=object)
    if i:
        notes.append(f"{where}: {i} title row(s) above the header skipped")
    return df, i + 1, sheet_name
