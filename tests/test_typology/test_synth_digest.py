"""The synthetic generator's output is bit-identical to the stored digests.

``typology.data.synth.generate`` draws everything from seeded ``numpy`` Generators; a change
of its code that keeps the draws and their order keeps every table bit for bit, and anything
else (one draw more, two draws swapped, another dtype) changes a digest. ``data/synth_digest.json``
holds, for ``generate()`` and ``generate(n_towns=40, n_years=6, seed=3)`` of both versions of
the generator (``world=1``, the static world, whose digests are those stored before world 2
existed, unchanged; and the default ``world=2``), the sha256 of every column of every table
(its dtype, and the exact bits of its values), of the true regressors and of ``truth.json``;
and ``world=3`` (world 2 with the spatial wage spillover, small case; added with it, the other
cases' digests unchanged).
It was written by

    python tests/test_typology/test_synth_digest.py --write

with the numpy and pandas versions it records (numpy's Generator streams are stable across
releases, but a float may change its last bit with another release of numpy's math); with
other versions the test is skipped, naming them.
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

DIGEST_FILE = Path(__file__).with_name("data") / "synth_digest.json"
PACKAGES = ("numpy", "pandas")
CASES = {"default": {}, "small": {"n_towns": 40, "n_years": 6, "seed": 3},
         "world1_default": {"world": 1}, "world1_small": {"n_towns": 40, "n_years": 6, "seed": 3, "world": 1},
         "world3_small": {"n_towns": 40, "n_years": 6, "seed": 3, "world": 3}}
FIXTURES = {"world1_default": "synthetic", "world1_small": "small_synthetic"}  # the session fixtures (world 1)


def column_digest(s: pd.Series) -> str:
    """sha256 of a column: its name and dtype, then the float64 bits of numbers (every NaN as
    one NaN) or the text of other values."""
    h = hashlib.sha256(f"{s.name}\x1f{s.dtype}".encode())
    if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        v = np.where(np.isnan(v), np.nan, v)
        h.update(np.ascontiguousarray(v).view(np.uint64).tobytes())
    else:
        h.update("\x1f".join("<NA>" if pd.isna(x) else str(x) for x in s.tolist()).encode())
    return h.hexdigest()


def dataset_digests(ds) -> dict:
    tables = dict(ds.data.tables())
    tables["regressors"] = ds.regressors.reset_index()
    out = {name: {"shape": list(t.shape), "columns": {str(c): column_digest(t[c]) for c in t.columns}}
           for name, t in tables.items()}
    out["truth"] = hashlib.sha256(json.dumps(ds.truth, sort_keys=True).encode()).hexdigest()
    return out


def versions() -> dict:
    return {p: metadata.version(p) for p in PACKAGES}


@pytest.mark.parametrize("case", list(CASES))
def test_generated_tables_are_bit_identical_to_the_stored_digests(case, request):
    stored = json.loads(DIGEST_FILE.read_text(encoding="utf-8"))
    differ = {p: (v, stored["versions"][p]) for p, v in versions().items() if v != stored["versions"][p]}
    if differ:
        pytest.skip("the digests were written with other package versions: "
                    + ", ".join(f"{p} {old} (now {new})" for p, (new, old) in differ.items()))
    if case in FIXTURES:
        ds = request.getfixturevalue(FIXTURES[case])  # the session fixtures are these two calls
    else:
        from typology.data.synth import generate

        ds = generate(**CASES[case])
    assert stored["cases"][case]["kwargs"] == CASES[case]
    want, got = stored["cases"][case]["digests"], dataset_digests(ds)
    assert list(got) == list(want)
    assert got["truth"] == want["truth"], "truth.json changed"
    for name in (n for n in want if n != "truth"):
        assert got[name]["shape"] == want[name]["shape"], name
        assert list(got[name]["columns"]) == list(want[name]["columns"]), name
        changed = [c for c in want[name]["columns"] if got[name]["columns"][c] != want[name]["columns"][c]]
        assert not changed, f"{name}: columns {changed} changed"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    from typology.data.synth import generate

    record = {"command": "python tests/test_typology/test_synth_digest.py --write", "versions": versions(),
              "cases": {c: {"kwargs": kw, "digests": dataset_digests(generate(**kw))} for c, kw in CASES.items()}}
    DIGEST_FILE.parent.mkdir(exist_ok=True)
    DIGEST_FILE.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {DIGEST_FILE}")
