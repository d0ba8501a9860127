"""Munnell's public capital data (plm::Produc = linearmodels.datasets.munnell), 48 states,
1970-1986: every estimator against plm.

The numbers and their sources (R 4.2.2 with plm 2.6.2 through ``data/panel_references.R``;
plm's manual; plm's saved test output of first differences) are in ``results/produc.py``,
each with the command that produced it.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from models import PanelModelSpec, fit_panel_model, hausman

REF = runpy.run_path(str(Path(__file__).parent / "results" / "produc.py"))
F = REF["FORMULA"]


def fit(data, **kw):
    kw.setdefault("cov_type", "unadjusted")
    return fit_panel_model(data, PanelModelSpec(F, **kw))


def close(series, expected):
    """Equal to the published value to the digits printed (half a unit of the last digit)."""
    for k, v in expected.items():
        decimals = len(repr(v).split(".")[1].split("e")[0]) if "." in repr(v) else 0
        assert abs(float(series[k]) - v) <= 0.5 * 10.0 ** -decimals + 1e-15, (k, float(series[k]), v)


def digits(series, expected):
    """Equal to values printed with 10 significant digits (``data/panel_references.R``)."""
    for k, v in expected.items():
        assert float(series[k]) == pytest.approx(v, rel=1e-9), (k, float(series[k]), v)


def test_within(produc):
    ref = REF["within"]
    r = fit(produc)
    digits(r.params, ref["params"])
    digits(r.std_errors, ref["std_errors"])
    close(r.params, ref["published"]["params"])
    close(r.std_errors, ref["published"]["std_errors"])
    digits({"r2": r.rsquared}, {"r2": ref["rsquared"]})
    assert r.df_resid == ref["df_resid"]


def test_within_arellano_hc0(produc):
    r = fit(produc, cov_type="clustered", cluster_small_sample="none")
    digits(r.std_errors, REF["within_arellano_hc0"]["std_errors"])


def test_within_twoway(produc):
    ref = REF["within_twoway"]
    r = fit(produc, effects="twoway")
    digits(r.params, ref["params"])
    digits(r.std_errors, ref["std_errors"])
    digits({"r2": r.rsquared}, {"r2": ref["rsquared"]})
    assert r.df_resid == ref["df_resid"]


def test_random(produc):
    ref = REF["random"]
    r = fit(produc, estimator="random")
    digits(r.params, ref["params"])
    digits(r.std_errors, ref["std_errors"])
    digits(r.variance_components, ref["variance_components"])


def test_pooled(produc):
    ref = REF["pooled"]
    r = fit(produc, estimator="pooled")
    digits(r.params, ref["params"])
    digits(r.std_errors, ref["std_errors"])


def test_first_difference(produc):
    ref = REF["first_difference"]
    r = fit(produc, estimator="first_difference")
    close(r.params, ref["params"])
    close(r.std_errors, ref["std_errors"])
    assert r.nobs == ref["nobs"]
    close({"r2": r.rsquared}, {"r2": ref["rsquared"]})
    # the first year of every state has no difference, and is reported
    assert len(r.dropped) == ref["dropped"]
    # vcovHC(fd_plm): Arellano HC0 clustered by state, diagonal
    hc0 = fit(produc, estimator="first_difference", cov_type="clustered", cluster_small_sample="none")
    for k, v in ref["cov_hc0_diag"].items():
        assert hc0.cov.loc[k, k] == pytest.approx(v, rel=5e-7)
    nocons = fit_panel_model(produc, PanelModelSpec(F.replace("~", "~ 0 +"), estimator="first_difference",
                                                    cov_type="unadjusted"))
    close(nocons.params, REF["first_difference_nocons"]["params"])


def test_hausman_twoway_within_against_random(produc):
    ref = REF["hausman_twoway_random"]
    h = hausman(fit(produc, effects="twoway"), fit(produc, estimator="random"))
    digits({"H": h.statistic, "p": h.pvalue}, {"H": ref["statistic"], "p": ref["pvalue"]})
    assert h.df == ref["df"]
