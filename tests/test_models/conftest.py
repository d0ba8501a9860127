"""Classic public panels shipped with statsmodels and linearmodels, in the layout plm uses.

* Grunfeld: ``statsmodels.datasets.grunfeld`` holds the 11 firms of Grunfeld's thesis as
  recreated by Kleiber and Zeileis (2010). Dropping American Steel leaves the 10 firms of
  Baltagi's textbook and R's ``plm::Grunfeld`` (checked value by value against plm's data
  while these tests were written; ``test_grunfeld_is_baltagis_version`` pins totals).
* Munnell's public capital data: ``linearmodels.datasets.munnell`` is ``plm::Produc``
  (48 states, 1970-1986).
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def grunfeld():
    import statsmodels.api as sm

    g = sm.datasets.grunfeld.load_pandas().data
    g = g[g["firm"] != "American Steel"].copy()
    g["year"] = g["year"].astype(int)
    g = g.rename(columns={"invest": "inv"})
    return g.set_index(["firm", "year"]).sort_index()


@pytest.fixture(scope="session")
def produc():
    from linearmodels.datasets import munnell

    d = munnell.load().rename(columns=str.lower).rename(columns={"yr": "year", "p_cap": "pcap"})
    d["year"] = d["year"].astype(int)
    return d.set_index(["state", "year"]).sort_index()
