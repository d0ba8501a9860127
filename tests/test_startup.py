"""Start-up: importing the packages or calling the CLI does not load the heavy libraries.

statsmodels (about 2 s), matplotlib (0.6 s), scikit-learn and ``scipy.stats`` are imported
where they are used (a discrete model's fit, a figure, a typology's fit, a p-value), not with the
packages: every ``typology`` command pays for them only when it needs them. The times are in
``make bench`` (area ``startup``); here only which modules a fresh interpreter has loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("statsmodels", "matplotlib", "sklearn", "scipy.stats", "linearmodels", "esda", "libpysal", "polars",
         "distributed")


def _loaded(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code", ["import features", "import models", "import typology",
                                  "import typology.cli",
                                  "from typology.cli import build_parser; build_parser()"])
def test_import_loads_no_heavy_library(code):
    assert _loaded(code) == []


def test_heavy_libraries_load_where_they_are_used():
    # the probe can fail: using a name that needs a library loads it
    assert "sklearn" in _loaded("import typology; typology.TownTypology")
    assert "scipy.stats" in _loaded("import models, numpy as np; models.results.scipy.stats.norm.sf(1.0)")


def test_cli_help_answers_without_the_workflow():
    code = ("import contextlib, io, sys\nfrom typology.cli import main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):\n    main(['fit', '--help'])\n"
            "assert '--out' in buf.getvalue()")
    assert _loaded(code) == []
