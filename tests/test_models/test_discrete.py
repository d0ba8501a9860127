"""Discrete models against Stata, R and statsmodels: marginal effects, separation, Firth.

Reference values and where they come from:

* ``results/discrete.py``: Stata 11 ``margins, dydx(*)`` after ``logit grade gpa tuce i.psi``
  (Spector and Mazzeo 1980) and after ``mlogit pid logpopul selfLR age educ income i.vote``
  (ANES 1996), as stored in statsmodels 0.15.0; logistf 1.26.1's own test of the ``sex2`` fit
  and firthlogist 0.5.0's README for its Wald errors and penalized log-likelihood; statsmodels
  0.15.0 ``get_margeff`` on constructed data. Each entry names its source and command.
* R 4.2.2 by hand (``glm`` + counterfactual predictions + ``numDeriv::jacobian`` delta
  method; ``nnet``/``optim`` for the multinomial logit; ``brglm2`` 0.9 for Firth) in
  ``data/discrete_references.R``, output ``data/discrete_references.csv``; data
  ``data/birthwt.csv`` (``MASS::birthwt``, Hosmer and Lemeshow), ``data/sex2.csv`` (``logistf::sex2``,
  from logistf's repository), ``data/separation.csv`` (constructed in that script).
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from models import SeparationError, fit_discrete_model

DATA = Path(__file__).parent / "data"
REF = runpy.run_path(str(Path(__file__).parent / "results" / "discrete.py"))


def _panel(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df.index = pd.MultiIndex.from_arrays([np.arange(len(df)), np.full(len(df), 2000)], names=["town_id", "year"])
    return df


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(DATA / "discrete_references.csv", keep_default_na=False)


def _ref(ref, case, quantity) -> pd.Series:
    r = ref[(ref["case"] == case) & (ref["quantity"] == quantity)]
    return pd.Series(r["value"].to_numpy(float), index=r["term"].to_numpy())


def _ours(r_name: str) -> str:
    """R's coefficient names in ours: (Intercept) -> Intercept, race2:smoke -> smoke:C(race)[T.2]."""
    parts = [re.sub(r"^(race|ftv3)(\d)$", r"C(\1)[T.\2]", p) for p in r_name.replace("(Intercept)", "Intercept").split(":")]
    return ":".join(sorted(parts, key=lambda p: p.startswith("C(")))


@pytest.fixture(scope="module")
def birthwt():
    bw = _panel(pd.read_csv(DATA / "birthwt.csv"))
    bw["ftv3"] = np.minimum(bw["ftv"], 2)
    return bw


# ------------------------------------------------------------------------------ Stata
def test_spector_logit_dummy_is_a_discrete_change_as_stata():
    d = _panel(sm.datasets.spector.load_pandas().data)
    r = fit_discrete_model(d, "GRADE ~ GPA + TUCE + PSI", model="logit", cov_type="unadjusted")
    me = r.marginal_effects
    stata = REF["spector_logit"]
    assert tuple(me.index) == stata["terms"]
    # (Stata's own convergence tolerance leaves differences of a few 1e-8)
    np.testing.assert_allclose(me["dydx"], stata["dydx"], rtol=1e-7)
    np.testing.assert_allclose(me["std_error"], stata["std_error"], rtol=5e-6)
    assert me["kind"].tolist() == ["derivative", "derivative", "discrete change"]


def test_anes_mnlogit_dummy_is_a_discrete_change_as_stata():
    a = _panel(sm.datasets.anes96.load_pandas().data)
    a["PID"] = a["PID"].astype(int)
    r = fit_discrete_model(a, "PID ~ logpopul + selfLR + age + educ + income + vote", model="mnlogit",
                           cov_type="unadjusted")
    me = r.marginal_effects
    stata = REF["anes_mnlogit"]
    # agreement to Stata's convergence (statsmodels' own test: 6 decimals)
    for term in ("vote", "selfLR"):
        rows = [(lv, term) for lv in stata["levels"]]
        np.testing.assert_allclose(me.loc[rows, "dydx"], stata[term]["dydx"], rtol=5e-6)
        np.testing.assert_allclose(me.loc[rows, "std_error"], stata[term]["std_error"], rtol=5e-6)


def test_strong_dummy_effect_is_a_probability_change():
    # a strong 0/1 regressor: its derivative-based AME (statsmodels get_margeff()) is impossible for a change
    # of probability; the discrete change (get_margeff(dummy=True) = Stata's i.d for a single 0/1 column) is not
    ref = REF["strong_dummy"]
    rng = np.random.default_rng(7)
    n = 1500
    d = (rng.random(n) < 0.5).astype(float)
    x = 6 * d + rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + 3.0 * x - 18.0 * d)))).astype(float)
    r = fit_discrete_model(_panel(pd.DataFrame({"y": y, "x": x, "d": d})), "y ~ x + d", cov_type="unadjusted")
    me = r.marginal_effects
    assert -1.0 <= me.loc["d", "dydx"] <= 1.0
    assert me.loc["d", "dydx"] == pytest.approx(ref["discrete_change_d"], abs=5e-8)
    assert me.loc["x", "dydx"] == pytest.approx(ref["dydx_x"], abs=5e-8)


# ------------------------------------------------------------------------------ R by hand
@pytest.mark.parametrize("link", ["logit", "probit"])
def test_birthwt_marginal_effects_against_r(birthwt, ref, link):
    r = fit_discrete_model(birthwt, "low ~ age + lwt + C(race) + smoke + ptl + ht + ui", model=link,
                           cov_type="unadjusted")
    coef = _ref(ref, f"birthwt_{link}", "coef")
    np.testing.assert_allclose(r.params[[_ours(t) for t in coef.index]], coef, rtol=1e-6)
    ame, se = _ref(ref, f"birthwt_{link}", "ame"), _ref(ref, f"birthwt_{link}", "ame_se")
    me = r.marginal_effects
    np.testing.assert_allclose(me.loc[ame.index, "dydx"], ame, rtol=1e-6)
    np.testing.assert_allclose(me.loc[se.index, "std_error"], se, rtol=1e-5)
    kinds = me["kind"]
    assert kinds["C(race)[T.2]"] == kinds["smoke"] == "discrete change" and kinds["ptl"] == "derivative"
    assert me["dydx"][kinds == "discrete change"].abs().le(1.0).all()


def test_birthwt_clustered_marginal_effects_against_r(birthwt, ref):
    r = fit_discrete_model(birthwt, "low ~ age + lwt + C(race) + smoke + ptl + ht + ui", cov_type="clustered",
                           cluster="grp")
    se = _ref(ref, "birthwt_logit_cluster", "ame_se")
    np.testing.assert_allclose(r.marginal_effects.loc[se.index, "std_error"], se, rtol=1e-5)


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_interactions_get_the_effect_of_the_whole_expression(birthwt, ref, link):
    r = fit_discrete_model(birthwt, "low ~ age * lwt + C(race) * smoke + age:smoke + ui", model=link,
                           cov_type="unadjusted")
    case = f"birthwt_inter_{link}"
    coef = _ref(ref, case, "coef")
    np.testing.assert_allclose(r.params[[_ours(t) for t in coef.index]], coef, rtol=1e-6)
    me = r.marginal_effects
    ame, se = _ref(ref, case, "ame"), _ref(ref, case, "ame_se")
    # one row per variable, none for the products
    assert sorted(me.index) == sorted(ame.index)
    np.testing.assert_allclose(me.loc[ame.index, "dydx"], ame, rtol=1e-6)
    np.testing.assert_allclose(me.loc[se.index, "std_error"], se, rtol=1e-5)
    # Ai and Norton (2003) interaction effects: cross-partial, difference of derivatives, double differences
    ie = r.interaction_effects
    eff, ese = _ref(ref, case, "interaction"), _ref(ref, case, "interaction_se")
    assert sorted(ie.index) == sorted(eff.index)
    np.testing.assert_allclose(ie.loc[eff.index, "effect"], eff, rtol=1e-5)
    np.testing.assert_allclose(ie.loc[ese.index, "std_error"], ese, rtol=1e-5)
    assert ie.loc["age:lwt", "kind"] == "cross-partial derivative"
    assert ie.loc["age:smoke", "kind"] == "difference of derivatives"
    assert ie.loc["smoke:C(race)[T.2]", "kind"] == "double difference"


def test_continuous_effect_under_interaction_by_hand(birthwt):
    # dP/d age = f(x'b) (b_age + b_age:lwt lwt + b_age:smoke smoke), averaged (Ai and Norton 2003)
    r = fit_discrete_model(birthwt, "low ~ age * lwt + smoke + age:smoke", cov_type="unadjusted")
    b = r.params
    X = np.column_stack([np.ones(len(birthwt)), birthwt["age"], birthwt["lwt"], birthwt["age"] * birthwt["lwt"],
                         birthwt["smoke"], birthwt["age"] * birthwt["smoke"]])
    p = 1 / (1 + np.exp(-X @ b.to_numpy()))
    slope = b["age"] + b["age:lwt"] * birthwt["lwt"] + b["age:smoke"] * birthwt["smoke"]
    assert r.marginal_effects.loc["age", "dydx"] == pytest.approx(float(np.mean(p * (1 - p) * slope)), rel=1e-12)
    assert "age:lwt" not in r.marginal_effects.index


def test_mnlogit_factor_levels_against_r(birthwt, ref):
    r = fit_discrete_model(birthwt, "race ~ age + lwt + smoke + ht + C(ftv3)", model="mnlogit", cov_type="unadjusted")
    assert r.llf == pytest.approx(_ref(ref, "birthwt_mnlogit", "loglik").iloc[0], rel=1e-10)
    ame, se = _ref(ref, "birthwt_mnlogit", "ame"), _ref(ref, "birthwt_mnlogit", "ame_se")
    idx = [tuple(t.split("|")) for t in ame.index]
    me = r.marginal_effects
    np.testing.assert_allclose(me.loc[idx, "dydx"].to_numpy(), ame.to_numpy(), rtol=1e-6, atol=1e-9)
    # R's covariance comes from numDeriv::hessian of the log-likelihood (about 5 significant digits)
    np.testing.assert_allclose(me.loc[idx, "std_error"].to_numpy(), se.to_numpy(), rtol=1e-4)
    # changes of the probabilities of all outcome levels sum to zero
    assert me.xs("C(ftv3)[T.2]", level="term")["dydx"].sum() == pytest.approx(0.0, abs=1e-12)


def test_factor_level_switches_the_other_levels_off(birthwt):
    # C(race)[T.3]: mean P(race = 3) - P(race = 1) with every row moved to those levels, as Stata's i.race;
    # statsmodels' get_margeff(dummy=True) moves the column alone and keeps race = 2 rows at race = 2
    r = fit_discrete_model(birthwt, "low ~ lwt + C(race)", cov_type="unadjusted")
    b = r.params.to_numpy()
    X = np.column_stack([np.ones(len(birthwt)), birthwt["lwt"], np.zeros(len(birthwt)), np.zeros(len(birthwt))])
    X3 = X.copy()
    X3[:, 3] = 1.0
    hand = np.mean(1 / (1 + np.exp(-X3 @ b)) - 1 / (1 + np.exp(-X @ b)))
    assert r.marginal_effects.loc["C(race)[T.3]", "dydx"] == pytest.approx(hand, rel=1e-12)
    exog = pd.DataFrame({"const": 1.0, "lwt": birthwt["lwt"].to_numpy(float),
                         "r2": (birthwt["race"] == 2).to_numpy(float), "r3": (birthwt["race"] == 3).to_numpy(float)})
    sm_me = sm.Logit(birthwt["low"].to_numpy(float), exog).fit(disp=0).get_margeff(dummy=True).margeff
    assert abs(sm_me[2] - hand) > 1e-4


# ------------------------------------------------------------------------------ separation
@pytest.fixture(scope="module")
def sep():
    return _panel(pd.read_csv(DATA / "separation.csv"))


@pytest.fixture(scope="module")
def sex2():
    return _panel(pd.read_csv(DATA / "sex2.csv"))


def _diverging(ref, case) -> set:
    # R: standard errors after 20 IRLS iterations / after 1 (Lesaffre and Albert 1989); > 100 = infinite estimate
    ratio = _ref(ref, case, "se_ratio_20")
    return set(ratio.index[ratio > 100])


def test_quasi_separation_by_a_dummy_is_named(sex2, ref):
    with pytest.raises(SeparationError) as err:
        fit_discrete_model(sex2, "case ~ age + oc + vic + vicl + vis + dia", cov_type="unadjusted")
    e = err.value
    assert isinstance(e, ValueError)
    assert e.terms == ("dia",) and e.outcome_values == ("1",) and e.rows == int(sex2["dia"].sum()) == 7
    assert "quasi-complete separation of case" in str(e) and "dia = 1" in str(e) and "penalty='firth'" in str(e)
    assert _diverging(ref, "sex2_detect") == {"dia"}


def test_separation_on_constructed_data(sep, ref):
    with pytest.raises(SeparationError) as err:
        fit_discrete_model(sep, "y ~ x + C(g) + d", cov_type="unadjusted")
    assert err.value.terms == ("d",) and err.value.rows == int(sep["d"].sum())
    assert _diverging(ref, "sep_d") == {"d"}
    # a level of a factor: g = "c" only with yg = 0
    with pytest.raises(SeparationError) as err:
        fit_discrete_model(sep, "yg ~ x + C(g)", model="probit", cov_type="unadjusted")
    assert err.value.terms == ("C(g)[T.c]",) and err.value.outcome_values == ("0",)
    assert err.value.rows == int((sep["g"] == "c").sum())
    assert _diverging(ref, "sep_level") == {"gc"}
    # complete: yc = 1 exactly when x > 0.2; every coefficient diverges in R
    with pytest.raises(SeparationError, match="^complete separation of yc: where x > ") as err:
        fit_discrete_model(sep, "yc ~ x + C(g)", cov_type="unadjusted")
    assert err.value.terms == ("x",) and err.value.rows == len(sep) and set(err.value.outcome_values) == {"0", "1"}
    assert _diverging(ref, "sep_complete") == {"(Intercept)", "x", "gb", "gc"}


def test_no_separation_no_error(birthwt):
    r = fit_discrete_model(birthwt, "low ~ age + C(race) + smoke", cov_type="unadjusted")
    assert r.nobs == 189 and not any("separation" in n for n in r.notes)


def test_mnlogit_separation_is_named():
    rng = np.random.default_rng(3)
    n = 600
    d = (rng.random(n) < 0.2).astype(float)
    x = rng.normal(size=n)
    types = np.array(["detached", "integrated", "satellite"])[rng.integers(0, 3, n)]
    types[d == 1] = "satellite"
    df = _panel(pd.DataFrame({"type": types, "x": x, "d": d}))
    with pytest.raises(SeparationError) as err:
        fit_discrete_model(df, "type ~ x + d", model="mnlogit", cov_type="unadjusted")
    assert err.value.terms == ("d",) and "'satellite' against 'detached' by d" in str(err.value)
    with pytest.raises(ValueError, match="not for the multinomial logit"):
        fit_discrete_model(df, "type ~ x + d", model="mnlogit", penalty="firth", cov_type="unadjusted")


# ------------------------------------------------------------------------------ Firth
@pytest.mark.parametrize("link", ["logit", "probit"])
def test_firth_against_brglm2(sex2, ref, link):
    r = fit_discrete_model(sex2, "case ~ age + oc + vic + vicl + vis + dia", model=link, penalty="firth",
                           cov_type="unadjusted")
    coef, se = _ref(ref, f"sex2_firth_{link}", "coef"), _ref(ref, f"sex2_firth_{link}", "se")
    np.testing.assert_allclose(r.params.to_numpy(), coef.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(r.std_errors.to_numpy(), se.to_numpy(), rtol=1e-7)
    assert r.estimator == f"{link} (Firth)" and r.cov_label == "penalized information"
    assert any("separation" in n for n in r.notes)
    assert r.marginal_effects["dydx"].abs().le(1.0).all()


def test_firth_logit_against_logistf(sex2):
    r = fit_discrete_model(sex2, "case ~ age + oc + vic + vicl + vis + dia", penalty="firth", cov_type="unadjusted")
    ref = REF["sex2_firth_logit"]
    assert tuple(r.params.index) == ref["terms"]
    # logistf's own convergence: lconv = xconv = 1e-5
    np.testing.assert_allclose(r.params.to_numpy(), ref["params"], atol=1e-5)
    # Wald standard errors of logistf(pl = FALSE), as printed by firthlogist 0.5.0's README for the same fit
    np.testing.assert_allclose(r.std_errors.to_numpy(), ref["std_errors"], atol=6e-6)
    assert r.penalized_llf == pytest.approx(ref["penalized_llf"], abs=5e-5)
    ci = r.conf_int(0.95)
    np.testing.assert_allclose(ci["upper"] - ci["lower"], 2 * 1.959963984540054 * r.std_errors, rtol=1e-12)


def test_firth_on_constructed_separation_against_brglm2(sep, ref):
    r = fit_discrete_model(sep, "y ~ x + C(g) + d", penalty="firth", cov_type="unadjusted")
    np.testing.assert_allclose(r.params.to_numpy(), _ref(ref, "sep_d_firth", "coef").to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(r.std_errors.to_numpy(), _ref(ref, "sep_d_firth", "se").to_numpy(), rtol=1e-7)


def test_firth_needs_the_penalized_information(sex2):
    with pytest.raises(ValueError, match="set cov_type='unadjusted'"):
        fit_discrete_model(sex2, "case ~ age + dia", penalty="firth")
    with pytest.raises(ValueError, match="penalty must be None or 'firth'"):
        fit_discrete_model(sex2, "case ~ age + dia", penalty="ridge", cov_type="unadjusted")


def test_constant_outcome_is_refused(sex2):
    df = sex2.assign(one=1)
    with pytest.raises(ValueError, match="single value"):
        fit_discrete_model(df, "one ~ age", cov_type="unadjusted")


def test_to_frame_has_the_columns_of_panel_results(birthwt):
    r = fit_discrete_model(birthwt, "low ~ age + C(race)", cov_type="unadjusted")
    f = r.to_frame()
    assert list(f.columns) == ["estimate", "std_error", "tstat", "pvalue", "ci_lower", "ci_upper"]
    assert f.loc["age", "ci_upper"] == pytest.approx(r.params["age"] + 1.959963984540054 * r.std_errors["age"])
    mn = fit_discrete_model(birthwt, "race ~ age + smoke", model="mnlogit", cov_type="unadjusted")
    m = mn.to_frame()
    assert m.index.names == ["outcome", "term"] and len(m) == 6
    assert m.loc[("3", "smoke"), "estimate"] == mn.params.loc["smoke", "3"]
    assert m.loc[("2", "age"), "std_error"] == mn.std_errors.loc["age", "2"]
