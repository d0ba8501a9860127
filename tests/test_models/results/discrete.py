"""Reference results of the discrete-choice models quoted in ``test_discrete.py`` (the values
computed by ``data/discrete_references.R`` are in ``data/discrete_references.csv``).

Sources
-------
STATA_11
    Stata 11 ``margins, dydx(*)`` as stored in statsmodels 0.15.0,
    ``statsmodels/discrete/tests/results/results_discrete.py``.
LOGISTF
    logistf 1.26.1 (R), ``tests/testthat/test-basic.R`` (the coefficients of its ``sex2`` fit;
    its own convergence criterion: ``lconv = xconv = 1e-5``).
FIRTHLOGIST
    firthlogist 0.5.0 (PyPI), README: Wald standard errors (``logistf(..., pl = FALSE)``) and the
    penalized log-likelihood of the same fit.
STATSMODELS
    statsmodels 0.15.0, ``Logit(y, exog).fit().get_margeff()`` (``dummy=False`` / ``True``) on the
    constructed data of ``test_strong_dummy_effect_is_a_probability_change``.
"""

STATA_11 = "Stata 11, as stored in statsmodels 0.15.0 statsmodels/discrete/tests/results/results_discrete.py"

spector_logit = {
    "source": f"{STATA_11}, Spector.logit: margeff_dummy_dydx, margeff_dummy_dydx_se",
    "command": "logit grade gpa tuce i.psi; margins, dydx(*)  (Spector and Mazzeo 1980)",
    "terms": ("GPA", "TUCE", "PSI"),
    "dydx": (.36258084688424, .01220841099085, .35751515254729),
    "std_error": (.1094412, .0177942, .1420034),
}

anes_mnlogit = {
    "source": f"{STATA_11}, Anes.mnlogit_basezero: margeff_dydx_dummy_overall(_se)",
    "command": "mlogit pid logpopul selfLR age educ income i.vote, base(0); margins, dydx(*)  (ANES 1996)",
    "levels": tuple(str(i) for i in range(7)),  # one value per outcome level 0..6
    "vote": {"dydx": (-0.26502967041815, -0.21040878091828, -0.15967397659686, -0.00094772782001,
                      0.12640653743480, 0.27175070356670, 0.23790291475181),
             "std_error": (.0243914836, .0317628806, 0.0262803561, .0219999601, .0331694192, .038600835,
                           .0255727127)},
    "selfLR": {"dydx": (-0.05348235321783, -0.00950322030929, 0.00401746940204, -0.00366545199370,
                        -0.00369080100124, -0.01279456622853, 0.07911868907484),
               "std_error": (.0094102332, .0095938828, .00785814, .0051031194, .0081732018, .0097296187,
                             .0098741227)},
}

strong_dummy = {
    "source": "statsmodels 0.15.0",
    "command": ("sm.Logit(y, sm.add_constant(np.column_stack([x, d]))).fit().get_margeff(dummy=True).margeff "
                "(and dummy=False for the derivative of d)"),
    "derivative_d": -2.034,          # get_margeff(): impossible for a change of probability
    "discrete_change_d": -0.50599865,  # get_margeff(dummy=True) = Stata's i.d for a single 0/1 column
    "dydx_x": 0.33894928,
}

sex2_firth_logit = {
    "source": "logistf 1.26.1, tests/testthat/test-basic.R; firthlogist 0.5.0 README",
    "command": "logistf(case ~ age + oc + vic + vicl + vis + dia, data = sex2, pl = FALSE)",
    "terms": ("Intercept", "age", "oc", "vic", "vicl", "vis", "dia"),
    "params": (0.12025404, -1.10598130, -0.06881673, 2.26887464, -2.11140816, -0.78831694, 3.09601263),
    "std_errors": (0.485542, 0.42366, 0.443793, 0.548416, 0.543082, 0.417368, 1.67501),  # firthlogist README
    "penalized_llf": -132.5394,  # logistf's loglik (penalized), as firthlogist's README prints it
}
