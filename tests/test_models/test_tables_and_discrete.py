"""Regression tables, coefficient plots and discrete-choice models."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from models import PanelModelSpec, coefplot, compare, fit_discrete_model, fit_panel_model

GRUNFELD = runpy.run_path(str(Path(__file__).parent / "results" / "grunfeld.py"))
F = GRUNFELD["FORMULA"]


@pytest.fixture(scope="module")
def fits(grunfeld):
    return [fit_panel_model(grunfeld, PanelModelSpec(F, estimator="pooled", name="OLS")),
            fit_panel_model(grunfeld, PanelModelSpec(F, name="FE")),
            fit_panel_model(grunfeld, PanelModelSpec(F, effects="twoway", name="TWFE"))]


def test_compare_labels_relabel_the_fit_rows_and_the_note(fits):
    labels = {"Observations": "Наблюдений", "town, year": "город, год", "none": "нет",
              "Standard errors in parentheses.": "Стандартные ошибки в скобках."}
    tab = compare(fits, labels=labels)
    plain = compare(fits)
    assert "Наблюдений" in tab.cells.index and "Observations" not in tab.cells.index
    assert list(tab.cells.loc["Effects"]) == ["нет", "town", "город, год"]
    assert tab.note.startswith("Стандартные ошибки в скобках.") and "Стандартные ошибки в скобках." in tab.to_html()
    pd.testing.assert_frame_equal(tab.cells.iloc[:tab.n_coef_rows], plain.cells.iloc[:plain.n_coef_rows])
    assert "Observations" in plain.cells.index and plain.note.startswith("Standard errors in parentheses.")


def test_compare_renders_every_format(fits):
    tab = compare(fits)
    text = tab.to_text()
    # FE column: 0.110 with p = 0.0000 (t(9) = 7.25) gets three stars; CRV1 se 0.0152 (Gretl, results/grunfeld.py)
    assert "0.110***" in text and "(0.015)" in text
    assert "Observations" in text and "town, year" in text and "clustered by entity (stata)" in text
    md = tab.to_markdown()
    assert md.splitlines()[0] == "| | OLS | FE | TWFE |" and "0.110\\*\\*\\*" in md
    tex = tab.to_latex()
    assert tex.startswith(r"\begin{tabular}{lccc}") and r"0.110$^{***}$" in tex and tex.rstrip().endswith(r"\end{tabular}")
    htm = tab.to_html()
    assert htm.count("<tr") == len(tab.cells) + 1 and "0.110***" in htm
    csv = tab.to_csv()
    back = pd.read_csv(__import__("io").StringIO(csv), index_col=0, keep_default_na=False)
    assert list(back.columns) == ["OLS", "FE", "TWFE"]
    nums = tab.to_frame()
    gretl = GRUNFELD["gretl_clustered"]
    assert nums.loc["value", ("FE", "estimate")] == pytest.approx(gretl["within"]["params"]["value"], abs=5e-7)
    assert nums.loc["capital", ("OLS", "std_error")] == pytest.approx(gretl["pooled"]["std_errors"]["capital"],
                                                                      abs=5e-8)


def test_stars_follow_pvalues(fits):
    tab = compare(fits, terms=["value", "capital"], stars=(0.05,), digits=4)
    fe = fits[1]
    mark = "*" if fe.pvalues["capital"] < 0.05 else ""
    assert tab.cells.loc["capital", "FE"] == f"{fe.params['capital']:.4f}{mark}"
    assert tab.cells.index[:4].tolist() == ["value", "", "capital", ""]


def test_coefplot(fits):
    fig = coefplot(fits)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["value", "capital"]
    assert len(ax.get_legend().get_texts()) == 3


def _binary_panel(seed=0):
    rng = np.random.default_rng(seed)
    n_towns, n_years = 400, 5
    idx = pd.MultiIndex.from_product([[f"T{i}" for i in range(n_towns)], range(2015, 2015 + n_years)],
                                     names=["town_id", "year"])
    x = rng.normal(size=len(idx))
    d = rng.normal(size=len(idx))
    eta = -0.5 + 1.0 * x - 0.8 * d
    y = (rng.random(len(idx)) < 1 / (1 + np.exp(-eta))).astype(float)
    status = np.where(y == 1, "stagnating", "intermediate")
    return pd.DataFrame({"x": x, "d": d, "y": y, "status": status}, index=idx)


def test_logit_average_marginal_effects_by_hand():
    df = _binary_panel()
    r = fit_discrete_model(df, "status ~ x + d", model="logit", outcome_level="stagnating")
    b = r.params.to_numpy()
    X = np.column_stack([np.ones(len(df)), df["x"], df["d"]])
    p = 1 / (1 + np.exp(-X @ b))
    # AME of a logit: mean_i b_j p_i (1 - p_i)
    np.testing.assert_allclose(r.marginal_effects["dydx"].to_numpy(), b[1:] * np.mean(p * (1 - p)), rtol=1e-8)
    # the true coefficients (1.0, -0.8) are recovered
    assert abs(r.params["x"] - 1.0) < 3 * r.std_errors["x"] and abs(r.params["d"] + 0.8) < 3 * r.std_errors["d"]
    same = fit_discrete_model(df, "y ~ x + d", model="logit")
    np.testing.assert_allclose(same.params, r.params, rtol=1e-10)


def test_probit_average_marginal_effects_by_hand():
    df = _binary_panel(1)
    r = fit_discrete_model(df, "y ~ x + d", model="probit", cov_type="robust")
    b = r.params.to_numpy()
    X = np.column_stack([np.ones(len(df)), df["x"], df["d"]])
    np.testing.assert_allclose(r.marginal_effects["dydx"].to_numpy(), b[1:] * np.mean(stats.norm.pdf(X @ b)),
                               rtol=1e-8)


def test_mnlogit_of_types():
    rng = np.random.default_rng(2)
    n = 3000
    idx = pd.MultiIndex.from_arrays([[f"T{i}" for i in range(n)], np.full(n, 2020)], names=["town_id", "year"])
    x = rng.normal(size=n)
    util = np.column_stack([np.zeros(n), 0.5 + 1.0 * x, -0.5 - 1.0 * x]) + rng.gumbel(size=(n, 3))
    types = np.array(["detached", "integrated", "satellite"])[util.argmax(axis=1)]
    df = pd.DataFrame({"x": x, "type": types}, index=idx)
    df.loc[df.index[:5], "x"] = np.nan
    r = fit_discrete_model(df, "type ~ x", model="mnlogit", cov_type="robust")
    assert r.levels == ("detached", "integrated", "satellite")
    assert r.params.loc["x", "integrated"] == pytest.approx(1.0, abs=0.15)
    assert r.params.loc["x", "satellite"] == pytest.approx(-1.0, abs=0.15)
    # marginal effects of the probabilities of all types sum to zero
    me = r.marginal_effects
    assert me.xs("x", level="term")["dydx"].sum() == pytest.approx(0.0, abs=1e-10)
    assert r.nobs == n - 5 and len(r.dropped) == 5
    r2 = fit_discrete_model(df, "type ~ x", model="mnlogit", reference="satellite", cov_type="unadjusted")
    assert r2.levels[0] == "satellite"


def test_discrete_errors():
    df = _binary_panel()
    with pytest.raises(ValueError, match="give outcome_level"):
        fit_discrete_model(df, "status ~ x", model="logit")
    with pytest.raises(ValueError, match="model must be one of"):
        fit_discrete_model(df, "y ~ x", model="tobit")


def test_discrete_rows_without_a_cluster_are_dropped_and_reported():
    df = _binary_panel()
    df["region"] = np.where(df.index.get_level_values(0).isin(df.index.get_level_values(0).unique()[:3]), None,
                            "r" + (np.arange(len(df)) % 7).astype(str))
    r = fit_discrete_model(df, "y ~ x + d", model="logit", cov_type="clustered", cluster="region")
    missing = df["region"].isna()
    assert r.nobs == int((~missing).sum())
    assert (r.dropped["reason"] == "missing cluster region").sum() == int(missing.sum())
    same = fit_discrete_model(df[~missing], "y ~ x + d", model="logit", cov_type="clustered", cluster="region")
    np.testing.assert_allclose(r.std_errors.to_numpy(), same.std_errors.to_numpy(), rtol=1e-12)
    # the index level names a cluster too
    by_level = fit_discrete_model(df, "y ~ x + d", model="logit", cov_type="clustered",
                                  cluster=df.index.names[0])
    entity = fit_discrete_model(df, "y ~ x + d", model="logit", cov_type="clustered", cluster="entity")
    np.testing.assert_allclose(by_level.std_errors.to_numpy(), entity.std_errors.to_numpy(), rtol=1e-12)


# ------------------------------------------------------------------------------ discrete results in tables

def _cell(tab, term, column, below=0):
    """The estimate (below=0) or the standard error / interval under it (below=1) of a term."""
    i = list(tab.cells.index).index(term) + below
    col = column if isinstance(column, str) else tab.cells.columns[column]
    return tab.cells[col].iloc[i]

def _mixed(seed=0):
    df = _binary_panel(seed)
    rng = np.random.default_rng(seed + 10)
    df["type"] = np.array(["a", "b", "c"])[rng.integers(0, 3, len(df))]
    lpm = fit_panel_model(df, PanelModelSpec("y ~ x + d", estimator="pooled", name="LPM"))
    logit = fit_discrete_model(df, "y ~ x + d", model="logit", name="logit")
    mn = fit_discrete_model(df, "type ~ x", model="mnlogit", name="types")
    return lpm, logit, mn


def test_compare_takes_discrete_results():
    lpm, logit, mn = _mixed()
    tab = compare([lpm, logit, mn])
    assert tab.names == ["LPM", "logit", "types: b", "types: c"]
    cells = tab.cells
    b, se = logit.params["x"], logit.std_errors["x"]
    stars = "*" * sum(logit.pvalues["x"] < lv for lv in (0.10, 0.05, 0.01))
    assert _cell(tab, "x", "logit", 0) == f"{b:.3f}{stars}"
    assert _cell(tab, "x", "logit", 1) == f"({se:.3f})"
    assert _cell(tab, "x", "types: c", 0).startswith(f"{mn.params.loc['x', 'c']:.3f}")
    assert cells.loc["Pseudo R-squared", "logit"] == f"{logit.pseudo_rsquared:.3f}"
    assert cells.loc["Pseudo R-squared", "LPM"] == "" and cells.loc["R-squared", "logit"] == ""
    assert cells.loc["Estimator", "logit"] == "logit" and cells.loc["Standard errors", "logit"] == "clustered by entity"
    assert cells.loc["Estimates", "types: b"] == "coefficients vs a"
    assert cells.loc["Observations", "types: b"] == str(mn.nobs) and cells.loc["Towns", "logit"] == "400"
    for out in (tab.to_text(), tab.to_markdown(), tab.to_latex(), tab.to_html(), tab.to_csv()):
        assert "Pseudo R-squared" in out
    fr = tab.to_frame()
    assert fr.loc["d", ("logit", "estimate")] == logit.params["d"]


def test_compare_marginal_effects_of_discrete_models():
    lpm, logit, mn = _mixed()
    tab = compare({"LPM": lpm, "logit": logit, "types": mn}, what="marginal_effects")
    assert tab.names == ["LPM", "logit", "types: a", "types: b", "types: c"]
    me = logit.marginal_effects
    assert _cell(tab, "x", "logit", 0).startswith(f"{me.loc['x', 'dydx']:.3f}")
    assert _cell(tab, "Intercept", "logit", 0) == ""          # no AME of the intercept
    assert tab.cells.loc["Estimates", "logit"] == "average marginal effects"
    assert tab.cells.loc["Estimates", "LPM"] == "coefficients"
    assert "average marginal effects on the probability" in tab.note
    with pytest.raises(ValueError, match="what must be"):
        compare([logit], what="odds")


def test_coefplot_takes_discrete_results():
    lpm, logit, mn = _mixed()
    fig = coefplot([lpm, logit, mn], what="marginal_effects")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "d"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["LPM", "logit", "types: a", "types: b", "types: c"]


def test_no_star_without_a_usable_standard_error(fits):
    from dataclasses import replace

    fe = fits[1]
    se = fe.std_errors
    p = fe.pvalues
    se["value"], p["value"] = 0.0, 0.0            # a zero standard error with p = 0: no star
    se["capital"], p["capital"] = np.nan, np.nan  # nothing known: no star, "n/a"
    bad = replace(fe, _std_errors=se, _pvalues=p)
    tab = compare([bad], terms=["value", "capital"])
    assert _cell(tab, "value", 0, 0) == f"{fe.params['value']:.3f}"
    assert _cell(tab, "capital", 0, 0) == f"{fe.params['capital']:.3f}"
    assert _cell(tab, "capital", 0, 1) == "(n/a)"
    assert "*" not in "".join(tab.cells.iloc[:4, 0])


def _unbounded(fits):
    from dataclasses import replace

    fe = fits[1]
    boot = pd.DataFrame({"null": 0.0, "pvalue": [0.20, 0.04], "ci_lower": [-np.inf, 0.05], "ci_upper": [0.4, np.inf]},
                        index=pd.Index(["value", "capital"], name="term"))
    boot.attrs["level"] = 0.95
    return replace(fe, _bootstrap=boot)


def test_unbounded_intervals_are_never_numbers(fits):
    res = _unbounded(fits)
    tab = compare([res], terms=["value", "capital"], ci=0.95)
    assert _cell(tab, "value", 0, 1) == "[-inf, 0.400]"
    assert _cell(tab, "capital", 0, 1) == "[0.050, inf]"
    assert "95% confidence intervals in brackets" in tab.note
    assert "[-inf, 0.400]" in tab.to_text() and "[-inf, 0.400]" in tab.to_markdown()
    assert "[-inf, 0.400]" in tab.to_html() and "[0.050, inf]" in tab.to_csv()
    tex = tab.to_latex()
    assert r"[$-\infty$, 0.400]" in tex and r"[0.050, $\infty$]" in tex
    with pytest.raises(ValueError, match="ci must be a level"):
        compare([res], ci=95)


def test_coefplot_draws_unbounded_sides_as_arrows(fits):
    res = _unbounded(fits)
    fig = coefplot([res])
    ax = fig.axes[0]
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == 2
    lo, hi = ax.get_xlim()
    assert np.isfinite(lo) and np.isfinite(hi) and hi - lo < 10
    ends = sorted(a.xy[0] for a in arrows)
    assert ends == [lo, hi]
