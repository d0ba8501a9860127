"""Reference results of the classical Hausman test on two synthetic two-way panels where
``V_W - V_R`` is not positive definite (``data/hausman_twoway_seed36.csv``, ``..._seed1.csv``:
40 towns x 10 years drawn once with numpy, regressors correlated with the town and year effects,
rounded to 6 decimals).

Source: R 4.2.2, plm 2.6.2, ``cd tests/test_models/data && Rscript hausman_reference.R``, which
fits ``y ~ x1 + x2 + x3`` two-way within (``model = "within", effect = "twoways"``) against
random town effects with year dummies (``update(f, . ~ . + factor(year))``, ``random.method =
"swar"``) and prints ``phtest(fe, re)`` and the eigenvalues of ``V_W - V_R``.
"""

SOURCE = "R 4.2.2, plm 2.6.2: cd tests/test_models/data && Rscript hausman_reference.R"
COMMAND = 'phtest(plm(f, model = "within", effect = "twoways"), plm(update(f, . ~ . + factor(year)), model = "random"))'
FORMULA = "y ~ x1 + x2 + x3"

seed36 = {
    "source": SOURCE,
    "command": COMMAND,
    "statistic": 46.71581068,
    "df": 3,
    "pvalue": 3.994638638e-10,
    "eigenvalues": (4.58706e-05, -1.55277e-05, -6.05118e-05),  # two negative: indefinite
}

seed1 = {
    "source": SOURCE,
    "command": COMMAND,
    # plm prints |H| (chisq = 2147.980344, p = 0); V_W - V_R is negative definite, so the statistic is
    # -2147.980344, which Stata's hausman reports with no p-value ("chi2<0 ==> model fitted on these data
    # fails to meet the asymptotic assumptions of the Hausman test")
    "statistic": -2147.980344,
    "df": 3,
    "eigenvalues": (-7.16972e-06, -0.000205157, -0.0002757),
}
