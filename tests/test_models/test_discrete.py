"""Discrete models against Stata, R and statsmodels: marginal effects, separation, Firth.

Reference values and where they come from:

* Stata 11 ``margins, dydx(*)`` after ``logit grade gpa tuce i.psi`` (Spector and Mazzeo 1980)
  and after ``mlogit pid logpopul selfLR age educ income i.vote`` (ANES 1996), as stored in
  statsmodels 0.15.0, ``statsmodels/discrete/tests/results/results_discrete.py``
  (``Spector.logit``: ``margeff_dummy_dydx(_se)``; ``Anes.mnlogit_basezero``:
  ``margeff_dydx_dummy_overall(_se)``), quoted below.
* R 4.2.2 by hand (``glm`` + counterfactual predictions + ``numDeriv::jacobian`` delta
  method; ``nnet``/``optim`` for the multinomial logit; ``brglm2`` 0.9 for Firth) in
  ``data/discrete_references.R``, output ``data/discrete_references.csv``; data
  ``data/birthwt.csv`` (``MASS::birthwt``, Hosmer and Lemeshow), ``data/sex2.csv`` (``logistf::sex2``,
  from logistf's repository), ``data/separation.csv`` (constructed in that script).
* logistf 1.26.1's own test (``tests/testthat/test-basic.R``: the sex2 coefficients) and the
  penalized log-likelihood -132.5394 that firthlogist 0.5.0's README prints for the same fit.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from models import SeparationError, fit_discrete_model

DATA = Path(__file__).parent / "data"


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
    # Stata 11: logit grade gpa tuce i.psi; margins, dydx(*)  (statsmodels results_discrete.Spector.logit)
    # (Stata's own convergence tolerance leaves differences of a few 1e-8)
    np.testing.assert_allclose(me["dydx"], [.36258084688424, .01220841099085, .35751515254729], rtol=1e-7)
    np.testing.assert_allclose(me["std_error"], [.1094412, .0177942, .1420034], rtol=5e-6)
    assert me["kind"].tolist() == ["derivative", "derivative", "discrete change"]


def test_anes_mnlogit_dummy_is_a_discrete_change_as_stata():
    a = _panel(sm.datasets.anes96.load_pandas().data)
    a["PID"] = a["PID"].astype(int)
    r = fit_discrete_model(a, "PID ~ logpopul + selfLR + age + educ + income + vote", model="mnlogit",
                           cov_type="unadjusted")
    me = r.marginal_effects
    # Stata 11: mlogit pid logpopul selfLR age educ income i.vote, base(0); margins, dydx(*)
    # (statsmodels results_discrete.Anes.mnlogit_basezero.margeff_dydx_dummy_overall), one row per outcome 0..6
    vote = [-0.26502967041815, -0.21040878091828, -0.15967397659686, -0.00094772782001, 0.12640653743480,
            0.27175070356670, 0.23790291475181]
    vote_se = [.0243914836, .0317628806, 0.0262803561, .0219999601, .0331694192, .038600835, .0255727127]
    selflr = [-0.05348235321783, -0.00950322030929, 0.00401746940204, -0.00366545199370, -0.00369080100124,
              -0.01279456622853, 0.07911868907484]
    selflr_se = [.0094102332, .0095938828, .00785814, .0051031194, .0081732018, .0097296187, .0098741227]
    levels = [str(i) for i in range(7)]
    # agreement to Stata's convergence (statsmodels' own test: 6 decimals)
    np.testing.assert_allclose(me.loc[[(lv, "vote") for lv in levels], "dydx"], vote, rtol=5e-6)
    np.testing.assert_allclose(me.loc[[(lv, "vote") for lv in levels], "std_error"], vote_se, rtol=5e-6)
    np.testing.assert_allclose(me.loc[[(lv, "selfLR") for lv in levels], "dydx"], selflr, rtol=5e-6)
    np.testing.assert_allclose(me.loc[[(lv, "selfLR") for lv in levels], "std_error"], selflr_se, rtol=5e-6)


def test_strong_dummy_effect_is_a_probability_change():
    # a strong 0/1 regressor: its derivative-based AME is -2.034 (statsmodels 0.15.0 get_margeff()), impossible
    # for a change of probability; the discrete change is -0.50599865 (statsmodels get_margeff(dummy=True),
    # which equals Stata's i.d for a single 0/1 column)
    rng = np.random.default_rng(7)
    n = 1500
    d = (rng.random(n) < 0.5).astype(float)
    x = 6 * d + rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + 3.0 * x - 18.0 * d)))).astype(float)
    r = fit_discrete_model(_panel(pd.DataFrame({"y": y, "x": x, "d": d})), "y ~ x + d", cov_type="unadjusted")
    me = r.marginal_effects
    assert -1.0 <= me.loc["d", "dydx"] <= 1.0
    assert me.loc["d", "dydx"] == pytest.approx(-0.50599865, abs=5e-8)
    assert me.loc["x", "dydx"] == pytest.approx(0.33894928, abs=5e-8)


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
    # logistf 1.26.1 tests/testthat/test-basic.R (its own convergence: lconv = xconv = 1e-5)
    logistf = [0.12025404, -1.10598130, -0.06881673, 2.26887464, -2.11140816, -0.78831694, 3.09601263]
    np.testing.assert_allclose(r.params.to_numpy(), logistf, atol=1e-5)
    # Wald standard errors of logistf(pl = FALSE), as printed by firthlogist 0.5.0's README for the same fit
    np.testing.assert_allclose(r.std_errors.to_numpy(),
                               [0.485542, 0.42366, 0.443793, 0.548416, 0.543082, 0.417368, 1.67501], atol=6e-6)
    assert r.penalized_llf == pytest.approx(-132.5394, abs=5e-5)      # logistf's loglik (penalized)
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
