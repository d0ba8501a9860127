"""Start-up of a fresh interpreter: the packages and the CLI against ``import numpy, pandas``.

Each case starts ``python -c ...`` in a subprocess (so nothing is cached in this process); the
baseline is an interpreter that imports numpy and pandas only, the floor of any command. The
heavy libraries (statsmodels, matplotlib, scikit-learn, ``scipy.stats``) load where they are
used (tests/test_startup.py checks which modules are loaded).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Case

ROOT = Path(__file__).resolve().parents[1]
BASE = "python -c 'import numpy, pandas'"


def _python(code: str):
    return lambda _state: subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                                         stdout=subprocess.DEVNULL)


def cases(quick: bool) -> list[Case]:
    rep = 3 if quick else 7
    out = [Case(BASE, run=_python("import numpy, pandas"), repeat=rep, measure_memory=False)]
    for name, code in (("import models", "import models"), ("import features", "import features"),
                       ("typology fit --help", "from typology.cli import main; main(['fit', '--help'])"),
                       ("import models + every heavy library (what each import cost before)",
                        "import models, statsmodels.api, matplotlib.pyplot, sklearn.mixture, scipy.stats")):
        out.append(Case(f"python -c '{name}'", run=_python(code), repeat=rep, baseline=BASE, measure_memory=False))
    return out
