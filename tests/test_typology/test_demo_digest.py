"""The demo's outputs are bit-identical to the stored digests (features, types, names, coefficients,
event studies).

A refactoring must not change a number: ``data/demo_digest.json`` holds the sha256 of the
demo run folder's tables, taken column by column on the exact bits of every value. It was
written by

    python tests/test_typology/test_demo_digest.py --write

with the package versions it records. The digests are compared exactly when numpy, pandas,
scipy, scikit-learn and statsmodels are those versions (another release may legitimately change
the last bit of a float); otherwise the test is skipped, naming the versions that differ.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DIGEST_FILE = Path(__file__).with_name("data") / "demo_digest.json"
PACKAGES = ("numpy", "pandas", "scipy", "scikit-learn", "statsmodels")
# table -> (file in the run folder, column to sort the rows by)
TABLES = {
    "features": ("features.parquet", None),
    "types": ("types.csv", "town_id"),
    "coefficients": ("coefficients.csv", None),
    "marginal_effects": ("marginal_effects.csv", None),
    "discrete_coefficients": ("discrete_coefficients.csv", None),
    "selection": ("selection.csv", "k"),
    "stability": ("stability.csv", "type"),
    "event_studies": ("event_studies.csv", None),
    "event_overall": ("event_overall.csv", None),
}


def column_digest(s: pd.Series) -> str:
    """sha256 of a column: float64 bits (every NaN as one NaN), or the text of other values."""
    h = hashlib.sha256(str(s.name).encode())
    if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        v = np.where(np.isnan(v), np.nan, v)
        h.update(np.ascontiguousarray(v).view(np.uint64).tobytes())
    else:
        h.update("\x1f".join("" if pd.isna(x) else str(x) for x in s.tolist()).encode())
    return h.hexdigest()


def table_digests(run: Path) -> dict:
    out = {}
    for name, (file, index) in TABLES.items():
        f = run / file
        if file.endswith(".parquet"):
            t = pd.read_parquet(f).reset_index()
        else:
            t = pd.read_csv(f, dtype={"town_id": str, "term": str, "outcome": str, "model": str})
        if index is not None:
            t = t.sort_values(index, kind="stable")
        out[name] = {"shape": list(t.shape), "columns": {str(c): column_digest(t[c]) for c in t.columns}}
    return out


def versions() -> dict:
    return {p: metadata.version(p) for p in PACKAGES}


def test_demo_tables_are_bit_identical_to_the_stored_digests(demo_run):
    stored = json.loads(DIGEST_FILE.read_text(encoding="utf-8"))
    differ = {p: (v, stored["versions"][p]) for p, v in versions().items() if v != stored["versions"][p]}
    if differ:
        pytest.skip("the digests were written with other package versions: "
                    + ", ".join(f"{p} {old} (now {new})" for p, (new, old) in differ.items()))
    now = table_digests(demo_run)
    for name, want in stored["tables"].items():
        got = now[name]
        assert got["shape"] == want["shape"], name
        changed = [c for c in want["columns"] if got["columns"].get(c) != want["columns"][c]]
        assert list(got["columns"]) == list(want["columns"]), name
        assert not changed, f"{name}: columns {changed} changed"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile

    from typology.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        assert main(["demo", "--out", f"{tmp}/runs/demo", "--data", f"{tmp}/data", "--quiet"]) == 0
        record = {"command": "python tests/test_typology/test_demo_digest.py --write (typology demo, seed 0)",
                  "versions": versions(), "tables": table_digests(Path(tmp) / "runs" / "demo")}
    DIGEST_FILE.parent.mkdir(exist_ok=True)
    DIGEST_FILE.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {DIGEST_FILE}")
