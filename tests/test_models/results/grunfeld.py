"""Reference results on Grunfeld's investment data: 10 firms, 1935-1954, ``inv ~ value + capital``
(Baltagi's version of the data = R's ``plm::Grunfeld``).

Every entry names its source (software, version, file or command, or the published table).
Published values are compared to the digits printed (half a unit of the last digit);
``data/panel_references.R`` (R 4.2.2, plm 2.6.2, sandwich 3.0.2) prints 10 significant
digits, compared with a relative tolerance of 1e-9.

Sources
-------
PLM_ESTIMATORS
    plm 2.6 (R), ``inst/tests/test_Estimators.Rout.save`` (the saved output of plm's own
    regression test of every estimator), which replicates Baltagi (2013), *Econometric
    Analysis of Panel Data*, 5th ed., Tables 2.1 and 3.1.
PLM_PWALDTEST
    plm 2.6, ``inst/tests/test_pwaldtest.Rout.save``, which quotes Gretl 2016b's output of
    ``panel INV 0 F C --robust`` (Gretl's clustered "HAC" errors with Stata's factor
    ``G/(G-1) (N-1)/(N-K)``, the constant counted in ``K``; two-way: time dummies in the
    regression) and Gretl's robust Hausman test.
PLM_PHTEST
    plm 2.6, ``inst/tests/test_phtest_Hausman_regression.Rout.save`` (Baltagi 2013, sec. 4.3.1).
PLM_PLMTEST
    plm 2.6, ``inst/tests/test_plmtest_unbalanced.Rout.save``: Baltagi (2013) Tables 4.1-4.2,
    Stata's ``xttest0`` (798.16) and EViews for the unbalanced panel.
PLM_PFTEST
    plm 2.6, ``inst/tests/test_pFtest.Rout.save``: SAS 9.4 PROC PANEL (F = 49.18).
R_SCRIPT
    ``Rscript tests/test_models/data/panel_references.R`` (R 4.2.2, plm 2.6.2, sandwich 3.0.2,
    lmtest 0.9.40); the case names below are the script's.
STATA_16
    Stata 16 MP, ``webuse grunfeld`` (Stata's copy of the same 10 firms, variables ``invest``,
    ``mvalue``, ``kstock``), ``xtset company year`` and ``xtreg invest mvalue kstock, fe``; log
    reproduced in a public R Markdown post run through RStata (2020-12-31), with coefficients
    .1101238 and .3100653 and ``F test that all u_i=0: F(9, 188) = 49.18``.
"""

FORMULA = "inv ~ value + capital"

PLM_ESTIMATORS = "plm 2.6, inst/tests/test_Estimators.Rout.save"
PLM_PWALDTEST = "plm 2.6, inst/tests/test_pwaldtest.Rout.save (Gretl 2016b)"
PLM_PHTEST = "plm 2.6, inst/tests/test_phtest_Hausman_regression.Rout.save"
PLM_PLMTEST = "plm 2.6, inst/tests/test_plmtest_unbalanced.Rout.save"
PLM_PFTEST = "plm 2.6, inst/tests/test_pFtest.Rout.save"
R_SCRIPT = "R 4.2.2, plm 2.6.2: Rscript tests/test_models/data/panel_references.R"
STATA_16 = "Stata 16 MP: webuse grunfeld; xtset company year; xtreg invest mvalue kstock, fe"

# ------------------------------------------------------------------------------ data
column_sums = {
    "source": f"{R_SCRIPT}, case grunfeld_data",
    "command": 'colSums(plm::Grunfeld[, c("inv", "value", "capital")])',
    "values": {"inv": 29191.65, "value": 216336.22, "capital": 55203.43},
}

# ------------------------------------------------------------------------------ estimators
pooled = {
    "source": f"{PLM_ESTIMATORS}, 'Pooling Model' (Baltagi 2013, Table 2.1, OLS)",
    "command": 'plm(inv ~ value + capital, data = Grunfeld, model = "pooling")',
    "params": {"Intercept": -42.7143694, "value": 0.1155622, "capital": 0.2306785},
    "std_errors": {"Intercept": 9.5116760, "value": 0.0058357, "capital": 0.0254758},
    "rsquared": 0.81241,
    "df_resid": 197,
}

between = {
    "source": f"{PLM_ESTIMATORS}, 'Between Model'",
    "command": 'plm(inv ~ value + capital, data = Grunfeld, model = "between")',
    "params": {"Intercept": -8.527114, "value": 0.134646, "capital": 0.032031},
    "std_errors": {"Intercept": 47.515308, "value": 0.028745, "capital": 0.190938},
    "rsquared": 0.85777,
    "nobs": 10,
}

within = {
    "source": f"{PLM_ESTIMATORS}, 'Within Model' (Baltagi 2013, Table 2.1)",
    "command": 'plm(inv ~ value + capital, data = Grunfeld, model = "within")',
    "params": {"value": 0.110124, "capital": 0.310065},
    "std_errors": {"value": 0.011857, "capital": 0.017355},
    "rsquared": 0.76676,
    "df_resid": 188,
    # Stata's reported constant mean(y) - mean(x)'b, as Gretl prints it
    "intercept": {"source": PLM_PWALDTEST, "command": "panel INV 0 F C (Gretl)", "value": -58.7439},
}

within_time = {
    "source": f"{PLM_ESTIMATORS}, 'Oneway (time) effect Within Model'",
    "command": 'plm(inv ~ value + capital, data = Grunfeld, model = "within", effect = "time")',
    "params": {"value": 0.1167978, "capital": 0.2197066},
    "std_errors": {"value": 0.0063313, "capital": 0.0322961},
}

within_twoway = {
    "source": f"{PLM_ESTIMATORS}, 'Twoways effects Within Model' (Baltagi 2013, Table 3.1)",
    "command": 'plm(inv ~ value + capital, data = Grunfeld, model = "within", effect = "twoways")',
    "params": {"value": 0.117716, "capital": 0.357916},
    "std_errors": {"value": 0.013751, "capital": 0.022719},
    "rsquared": 0.72015,
    "df_resid": 169,
}

within_twoway_unbalanced = {
    "source": f"{PLM_ESTIMATORS}, twoways within on the unbalanced panel",
    "command": 'plm(inv ~ value + capital, data = Grunfeld[1:199, ], model = "within", effect = "twoways")',
    "dropped_row": ("Diamond Match", 1954),  # Grunfeld[1:199, ] leaves out the last row
    "params": {"value": 0.118504, "capital": 0.361140},
    "std_errors": {"value": 0.013775, "capital": 0.022951},
    "df_resid": 168,
}

random = {
    "source": f"{PLM_ESTIMATORS}, random.method = 'swar' (Baltagi 2013, Table 2.1)",
    "command": 'plm(inv ~ value + capital, data = Grunfeld, model = "random", random.method = "swar")',
    "params": {"Intercept": -57.834415, "value": 0.109781, "capital": 0.308113},
    "std_errors": {"Intercept": 28.898935, "value": 0.010493, "capital": 0.017180},
    "variance_components": {"sigma2_e": 2784.46, "sigma2_u": 7089.80, "theta": 0.8612},
}

random_unbalanced = {
    "source": f"{PLM_ESTIMATORS}, unbalanced 'swar' (Baltagi and Chang 1994)",
    "command": 'plm(inv ~ value + capital, data = Grunfeld[1:199, ], model = "random", random.method = "swar")',
    "params": {"Intercept": -57.846046, "value": 0.109784, "capital": 0.308110},
    "std_errors": {"Intercept": 28.969526, "value": 0.010519, "capital": 0.017224},
    "variance_components": {"sigma2_e": 2799.34, "sigma2_u": 7124.82},
}

# ------------------------------------------------------------------------------ clustered errors
gretl_clustered = {
    "source": PLM_PWALDTEST,
    "command": "Gretl 2016b: panel INV 0 F C --robust (and --pooled, --random-effects; time dummies for two-way)",
    "within": {"params": {"Intercept": -58.7439, "value": 0.110124, "capital": 0.310065},
               "std_errors": {"Intercept": 27.6029, "value": 0.0151945, "capital": 0.0527518},
               "f_statistic": 28.3096, "df_dist": 9},
    "within_twoway": {"std_errors": {"value": 0.0108244, "capital": 0.0478484}, "f_statistic": 60.0821},
    "pooled": {"std_errors": {"Intercept": 20.4252, "value": 0.0158943, "capital": 0.0849671}},
    "random": {"std_errors": {"Intercept": 24.8432, "value": 0.0137557, "capital": 0.0549728},
               "chi2_statistic": 70.1267},
}

plm_clustered = {
    "source": f"{R_SCRIPT}, case grunfeld_within_arellano",
    "command": ('pwaldtest(fe, test = "Chisq", vcov = vcovHC); pwaldtest(fe, test = "F", vcov = vcovHC); '
                'pwaldtest(fe, test = "F", vcov = function(x) vcovHC(x, cluster = "time"))'),
    "chi2_statistic": 63.54886403,
    "f_statistic": 31.77443201,
    "f_statistic_time_clusters": 109.316805,
    "df_dist_time_clusters": 19,
}

# ------------------------------------------------------------------------------ tests
hausman = {
    "classical": {"source": f"{PLM_PHTEST} (Baltagi 2013, sec. 4.3.1: m1 = 2.33)", "command": "phtest(fe, re)",
                  "statistic": 2.3303669, "df": 2, "pvalue": 0.3118654},
    "robust_plm": {"source": f"{R_SCRIPT}, case grunfeld_hausman",
                   "command": 'phtest(inv ~ value + capital, data = Grunfeld, method = "aux", vcov = vcovHC)',
                   "statistic": 8.299836617},
    "robust_gretl": {"source": PLM_PWALDTEST, "command": "Gretl 2016b: panel INV 0 F C --random-effects --robust",
                     "statistic": 7.31971, "pvalue": 0.0257363},
}

mundlak = {
    "source": f"{R_SCRIPT}, case grunfeld_hausman (Baltagi 2013, sec. 4.3.1: m3 = 2.131)",
    "command": 'phtest(inv ~ value + capital, data = Grunfeld, method = "aux")',
    "statistic": 2.131366225,
    "df": 2,
}

breusch_pagan = {
    "source": f"{PLM_PLMTEST} (Baltagi 2013, Table 4.2; Stata xttest0 chi2(1) = 798.16)",
    "command": 'plmtest(inv ~ value + capital, data = Grunfeld, type = "bp", effect = "individual" / "time" / '
               '"twoways")',
    "entity": 798.16155,
    "time": 6.4538816,
    "twoway": 804.61543,
    "unbalanced": {"source": f"{PLM_PLMTEST} (EViews, panel without its last row)", "entity": 796.66152,
                   "time": 6.4545778},
}

f_test_effects = {
    "source": f"{PLM_PFTEST} (SAS 9.4 PROC PANEL: F = 49.18)",
    "command": "pFtest(within, pooled) with effect = individual, time, twoways",
    "entity": {"statistic": 49.177, "df": 9, "df_denom": 188},
    "time": {"statistic": 0.23451, "df": 19, "df_denom": 178},
    "twoway": {"statistic": 17.403, "df": 28, "df_denom": 169},
}

stata_rsquared = {
    "source": STATA_16,
    "values": {"within": 0.7668, "between": 0.8194, "overall": 0.8060},
    # the same definitions recomputed in R: squared correlations of the fitted index x b with
    # the outcome within firms, between firm means and overall ([XT] xtreg, Methods and formulas)
    "recomputed": {"source": f"{R_SCRIPT}, case grunfeld_within",
                   "values": {"within": 0.7667575837, "between": 0.819430178, "overall": 0.8059782118}},
}
