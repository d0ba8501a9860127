"""Reference results of two-stage least squares (``models.iv``), each with its source.

Sources
-------
PYFIXEST
    pyfixest 0.60.0 on ``data/iv_panel.csv`` (100 towns, 5 regions, 2010-2017, unbalanced),
    printed by ``cd tests/test_models/data && python iv_reference_pyfixest.py`` (the script
    also wrote the CSV): ``feols("y ~ x1 | town_id + year + region^year | x2 ~ z1 + z2",
    vcov=..., fixef_tol=1e-12, fixef_rm="none")``; ``fit.first_stage()`` then
    ``fit._f_stat_1st_stage`` (the Wald F of the excluded instruments in the first stage, same
    covariance), ``fit.IV_Diag()`` then ``fit._eff_F`` (Montiel Olea-Pflueger effective F).
AER, PLM
    ``cd tests/test_models/data && Rscript iv_reference.R`` (R 4.2.2, AER 1.2.10, sandwich
    3.0.2, plm 2.6.2): AER's ``ivreg`` on Stock and Watson's cigarette demand
    (``data/iv_cigarettes_sw_1995.csv``, written by the script from ``AER::CigarettesSW``) and
    plm's IV within on ``data/iv_panel.csv``. The script prints 15 significant digits.
STOCK_WATSON
    Stock and Watson, *Introduction to Econometrics*, ch. 12 (cigarette demand, 48 states in
    1995, both tax instruments, heteroskedasticity-robust standard errors), as reproduced by
    AER's ``?CigarettesSW``: -1.28 (0.25), 0.28 (0.25), 9.89 (0.96). Compared to the printed
    digits.
IVREG2
    Stata's ``ivreg2`` (Baum, Schaffer and Stillman; SSC) output on three simulated data sets,
    as stored by the R package ivreg2r (MIT licence; github.com/restatr/ivreg2r, commit
    8c666db1f275793cd5fe6a6a3dcf1078e18f9314) in ``tests/stata-benchmarks/fixtures/`` and
    produced by its ``tests/stata-benchmarks/generate-fixtures.do`` and
    ``generate-twoway-fixtures.do`` (the Stata commands are quoted below). The data files here
    are those fixtures' ``*_data.csv`` with the unused columns dropped: ``iv_ivreg2_multi_endo.csv``
    (``sim_multi_endo_data.csv``), ``iv_ivreg2_cluster.csv`` (``sim_cluster_data.csv``),
    ``iv_ivreg2_twoway.csv`` (``sim_twoway_data.csv``). Stata generated the variables as
    ``float``, so the tests read them through float32, the numbers Stata held. ivreg2's
    ``small`` is the convention of ``models.iv``; ``widstat`` is the Kleibergen-Paap rk Wald F
    under robust or cluster errors.
FIXEST_JL
    FixedEffectModels.jl (github.com/FixedEffects/FixedEffectModels.jl, commit
    b0aabc3ffeecba7f6e028d89b9a44abe3051bf37), ``test/fit.jl``: ``reg(df, @formula(Y ~ fe(id)
    + (X1 + X2 ~ Z1 + Z2)), Vcov.robust()).F_kp`` on its ``dataset/Ftest.csv`` (copied as
    ``data/iv_fem_ftest.csv``): the Kleibergen-Paap rk Wald F with two endogenous regressors
    and an absorbed effect (exactly identified, where its degrees of freedom and ivreg2's
    agree).
"""

PYFIXEST = "pyfixest 0.60.0: cd tests/test_models/data && python iv_reference_pyfixest.py"
PYFIXEST_FORMULA = "y ~ x1 | town_id + year + region^year | x2 ~ z1 + z2"
R_SCRIPT = "R 4.2.2, AER 1.2.10, sandwich 3.0.2, plm 2.6.2: cd tests/test_models/data && Rscript iv_reference.R"
IVREG2 = "Stata ivreg2, fixtures of github.com/restatr/ivreg2r@8c666db (tests/stata-benchmarks)"

# ----------------------------------------------------------------------------- pyfixest
pyfixest = {
    "iid": {
        "source": PYFIXEST, "command": f'feols("{PYFIXEST_FORMULA}", vcov="iid")',
        "params": {"x1": 0.42650146076471207, "x2": -1.0450775336262799},
        "std_errors": {"x1": 0.08221433347607354, "x2": 0.11850826376077651},
        "first_stage_f": 119.31662685435413,
        # fit._model_1st_stage.coef() / .se(): x2 on the instruments and x1, same effects and vcov
        "first_stage_params": {"z1": 0.4730248147961228, "z2": 0.4198608158270853, "x1": 0.28460724332568665},
        "first_stage_std_errors": {"z1": 0.040835245409721915, "z2": 0.03948349096829134, "x1": 0.03885228301354769},
    },
    "hetero": {
        "source": PYFIXEST, "command": f'feols("{PYFIXEST_FORMULA}", vcov="hetero")',
        "params": {"x1": 0.42650146076471207, "x2": -1.0450775336262799},
        "std_errors": {"x1": 0.0945923700968366, "x2": 0.11210537179055571},
        "first_stage_f": 107.47673119498637,
        # fit._model_1st_stage.coef() / .se(): x2 on the instruments and x1, same effects and vcov
        "first_stage_params": {"z1": 0.4730248147961228, "z2": 0.4198608158270853, "x1": 0.28460724332568665},
        "first_stage_std_errors": {"z1": 0.041605959073571744, "z2": 0.04148014696281253, "x1": 0.0388825257289929},
    },
    "crv1_town": {
        "source": PYFIXEST, "command": f'feols("{PYFIXEST_FORMULA}", vcov={{"CRV1": "town_id"}})',
        "params": {"x1": 0.42650146076471207, "x2": -1.0450775336262799},
        "std_errors": {"x1": 0.09490644366134825, "x2": 0.11794682440798655},
        "first_stage_f": 114.84200119300456,
        # fit._model_1st_stage.coef() / .se(): x2 on the instruments and x1, same effects and vcov
        "first_stage_params": {"z1": 0.4730248147961228, "z2": 0.4198608158270853, "x1": 0.28460724332568665},
        "first_stage_std_errors": {"z1": 0.03935440651800336, "z2": 0.04402362545711556, "x1": 0.03987831259562329},
    },
    "crv1_town_year": {
        "source": PYFIXEST, "command": f'feols("{PYFIXEST_FORMULA}", vcov={{"CRV1": "town_id+year"}})',
        "params": {"x1": 0.42650146076471207, "x2": -1.0450775336262799},
        "std_errors": {"x1": 0.15495579510999274, "x2": 0.16626398752116475},
    },
    "weighted_crv1_town": {
        "source": PYFIXEST, "command": f'feols("{PYFIXEST_FORMULA}", vcov={{"CRV1": "town_id"}}, weights="w")',
        "params": {"x1": 0.4301976605473486, "x2": -1.0765001460584283},
        "std_errors": {"x1": 0.09943130477644899, "x2": 0.125871517058923},
        "first_stage_f": 114.81795283698358,
        # fit._model_1st_stage.coef() / .se(): x2 on the instruments and x1, same effects and vcov
        "first_stage_params": {"z1": 0.47430893841642285, "z2": 0.4064013821808233, "x1": 0.2908020442263117},
        "first_stage_std_errors": {"z1": 0.03844325093145169, "z2": 0.04374579577848103, "x1": 0.040963048528264406},
    },
    "no_exog_hetero": {
        "source": PYFIXEST, "command": 'feols("y ~ 1 | town_id + year + region^year | x2 ~ z1 + z2", vcov="hetero")',
        "params": {"x2": -0.9682435708887513},
        "std_errors": {"x2": 0.1056140371372472},
        "first_stage_f": 110.35939512052093,
        # fit._model_1st_stage.coef() / .se(): x2 on the instruments and x1, same effects and vcov
        "first_stage_params": {"z1": 0.4857732731579951, "z2": 0.46018798228180263},
        "first_stage_std_errors": {"z1": 0.04459194703978788, "z2": 0.04256287221246877},
        "effective_f": 114.41183493498825,
    },
    "no_exog_crv1_town": {
        "source": PYFIXEST,
        "command": 'feols("y ~ 1 | town_id + year + region^year | x2 ~ z1 + z2", vcov={"CRV1": "town_id"})',
        "params": {"x2": -0.9682435708887513},
        "std_errors": {"x2": 0.10727463489625054},
        "first_stage_f": 115.49068264620456,
        # fit._model_1st_stage.coef() / .se(): x2 on the instruments and x1, same effects and vcov
        "first_stage_params": {"z1": 0.4857732731579951, "z2": 0.46018798228180263},
        "first_stage_std_errors": {"z1": 0.0433689717920115, "z2": 0.04342866889716487},
        "effective_f": 115.04820642815395,
    },
}

# ----------------------------------------------------------------------------- AER (cigarettes)
CIGARETTES = "ivreg(log(packs) ~ log(rprice) + log(rincome) | log(rincome) + tdiff + I(tax/cpi), data = cig)"
cigarettes = {
    "source": R_SCRIPT,
    "command": CIGARETTES,
    "params": {"Intercept": 9.89495554115524, "lrprice": -1.27742413342728, "lrincome": 0.28040482508342},
    "std_errors": {"Intercept": 1.058559947630009, "lrprice": 0.263198590279749, "lrincome": 0.238565436908244},
    # sqrt(diag(vcovHC(fm, type = "HC1")))
    "std_errors_hc1": {"Intercept": 0.959216942870531, "lrprice": 0.249610000397936, "lrincome": 0.253889653418557},
    # summary(fm, diagnostics = TRUE)$diagnostics
    "weak_instruments": {"statistic": 244.733753555918355, "df": 2, "df_denom": 44, "pvalue": 1.44405420153963e-24},
    "wu_hausman": {"statistic": 3.067816272944013, "df": 1, "df_denom": 44, "pvalue": 8.68250462413129e-02},
    "sargan": {"statistic": 0.332622141936497, "df": 1, "pvalue": 5.64119140017591e-01},
    # summary(fm, vcov. = function(x) vcovHC(x, type = "HC1"), diagnostics = TRUE)$diagnostics
    "weak_instruments_hc1": {"statistic": 209.676269396590016, "df": 2, "df_denom": 44,
                             "pvalue": 3.20556693651451e-23},
    "wu_hausman_hc1": {"statistic": 3.504844914865027, "df": 1, "df_denom": 44, "pvalue": 6.78453588164741e-02},
}
stock_watson = {
    "source": "Stock and Watson, Introduction to Econometrics, ch. 12 (cigarette demand, 1995); AER ?CigarettesSW",
    "params": {"Intercept": 9.89, "lrprice": -1.28, "lrincome": 0.28},
    "std_errors_robust": {"Intercept": 0.96, "lrprice": 0.25, "lrincome": 0.25},
}

# ----------------------------------------------------------------------------- plm IV within
PLM_ONEWAY = 'plm(y ~ x1 + x2 | x1 + z1 + z2, data = pdata.frame(d, index = c("town_id", "year")), model = "within")'
plm = {
    "oneway": {
        "source": R_SCRIPT, "command": PLM_ONEWAY,
        "params": {"x1": 0.350286447446370, "x2": -0.999810802657851},
        "std_errors": {"x1": 0.0910063435863122, "x2": 0.1214118293837692},
        "std_errors_hc0": {"x1": 0.096844982194507, "x2": 0.116178935161939},  # vcovHC(f)
        "std_errors_sss": {"x1": 0.0974019732508723, "x2": 0.1168471228817041},  # vcovHC(f, type = "sss")
        "df_resid": 604, "rss": 2279.19015589515,
    },
    "twoways": {
        "source": R_SCRIPT, "command": PLM_ONEWAY.replace('"within")', '"within", effect = "twoways")'),
        "params": {"x1": 0.453855058974532, "x2": -1.003051318134072},
        "std_errors": {"x1": 0.0823874519088409, "x2": 0.1082126991170954},
        "std_errors_hc0": {"x1": 0.0942236809603403, "x2": 0.1094926944409322},
        "std_errors_sss": {"x1": 0.0947655959507042, "x2": 0.1101224271349654},
        "df_resid": 597, "rss": 1824.75150509888,
    },
    "two_endog": {
        "source": R_SCRIPT, "command": PLM_ONEWAY.replace("x1 + x2 | x1 + z1 + z2", "x1 + x2 + x3 | x1 + z1 + z2 + z3"),
        "params": {"x1": 0.380276781966874, "x2": -0.942020545586227, "x3": 0.321493631229763},
        "std_errors": {"x1": 0.0808994523043093, "x2": 0.1077698270748936, "x3": 0.1219872703491370},
        "std_errors_hc0": {"x1": 0.0864527289639435, "x2": 0.0998715129900945, "x3": 0.1286866532630473},
        "std_errors_sss": {"x1": 0.0870117704490798, "x2": 0.1005173262526009, "x3": 0.1295187979347025},
        "df_resid": 603, "rss": 1749.49596279355,
    },
}

# ----------------------------------------------------------------------------- Stata ivreg2
# sim_multi_endo: two endogenous regressors, four excluded instruments, 1000 observations
MULTI_ENDO = "ivreg2 y x1 x2 (endo1 endo2 = z1 z2 z3 z4), first small endog(endo1 endo2)"
ivreg2_multi_endo = {
    "iid": {
        "source": IVREG2, "command": MULTI_ENDO, "fixtures": "sim_multi_endo_*_iid_small.csv",
        "params": {"endo1": 1.118382648825934, "endo2": -.7077599836560448, "x1": .5108719887218234,
                   "x2": -.3101559390111835, "_cons": 1.007661670928165},
        "std_errors": {"endo1": .0613470108922073, "endo2": .064753190180369, "x1": .0349711029326648,
                       "x2": .0349581926482464, "_cons": .0325146994709638},
        "first_stage_f": {"endo1": 118.3811728701513, "endo2": 135.5305444531161},  # e(first) F, df (4, 993)
        "partial_r2": {"endo1": .3228890002544274, "endo2": .3531459486729477},  # e(first) pr2
        "cdf": 89.17502349196864,  # e(cdf), Cragg-Donald Wald F
        "sargan": .913822819732298, "sargandf": 2,  # e(sargan), e(sargandf)
        "sarganp": .6332364360785778,  # e(sarganp)
        # e(estat), e(estatp), e(estatdf): endog(endo1 endo2), the C (difference-in-Sargan) statistic
        "estat": 93.81388181441589, "estatp": 4.25181540422e-21, "estatdf": 2,
    },
    "hc1": {
        "source": IVREG2, "command": MULTI_ENDO.replace("first small", "first robust small"),
        "fixtures": "sim_multi_endo_*_hc1_small.csv",
        "params": {"endo1": 1.118382648825934, "endo2": -.7077599836560448, "x1": .5108719887218234,
                   "x2": -.3101559390111835, "_cons": 1.007661670928165},
        "std_errors": {"endo1": .0590777462257745, "endo2": .0658233920226788, "x1": .0347799200835716,
                       "x2": .0363300057611125, "_cons": .0325405513493143},
        "first_stage_f": {"endo1": 122.6189240571199, "endo2": 143.3440022024959},
        "cdf": 89.17502349196864,
        "widstat": 94.0640227755177,  # e(widstat) = e(rkf), Kleibergen-Paap rk Wald F
        "j": .9855568510109313, "jdf": 2,  # e(j), Hansen J
        "jp": .6109266198271781,  # e(jp)
        "estat": 79.31872013222329, "estatp": 5.97253588028e-18, "estatdf": 2,  # e(estat) with robust
    },
}
# sim_cluster: 50 clusters of 20, one endogenous regressor, two instruments
ivreg2_cluster = {
    "source": IVREG2, "command": "ivreg2 y x1 (endo1 = z1 z2), first cluster(cluster_id) small endog(endo1)",
    "fixtures": "sim_cluster_*_cl_small.csv",
    "params": {"endo1": 1.723484266871061, "x1": .9149490987304749, "_cons": .9534483100302316},
    "std_errors": {"endo1": .0763834842486458, "x1": .0419904341116165, "_cons": .0684317119558707},
    "first_stage_f": 430.4330995878935, "cdf": 381.6398487182848, "widstat": 430.4330995878938,
    "j": 1.964417695331189, "jdf": 1, "jp": .1610416409003634,
    "pr2": .4338592087140764,  # e(first) pr2
    "estat": 23.67352883945368, "estatp": 1.14141794817e-06, "estatdf": 1,  # e(estat), cluster-robust C
}
# the same data, robust and homoskedastic (fixtures sim_cluster_diagnostics_hc1_small.csv, _iid_small.csv)
ivreg2_cluster_hc1 = {
    "source": IVREG2, "command": "ivreg2 y x1 (endo1 = z1 z2), first robust small endog(endo1)",
    "fixtures": "sim_cluster_*_hc1_small.csv",
    "widstat": 372.301858955308, "j": 1.654607246563862, "jp": .1983330184296438,
    "estat": 45.51169674861114, "estatp": 1.51730019647e-11,
}
ivreg2_cluster_iid = {
    "source": IVREG2, "command": "ivreg2 y x1 (endo1 = z1 z2), first small endog(endo1)",
    "fixtures": "sim_cluster_diagnostics_iid_small.csv",
    "estat": 55.9568977096206, "estatp": 7.40773799920e-14,
}
# the same data with ivreg2's large-sample adjustment dofminus(1) (and sdofminus(1)): Sargan's
# statistic divides by the residual variance u'u / (N - dofminus), the convention of models.iv
# with df_absorbed = dofminus (fixture sim_cluster_dofminus_diagnostics_iid.csv, data read back
# from the CSV by the do-file's import delimited)
ivreg2_cluster_dofminus = {
    "source": IVREG2, "command": "ivreg2 y x1 (endo1 = z1 z2), first dofminus(1) sdofminus(1) endog(endo1)",
    "fixtures": "sim_cluster_dofminus_diagnostics_iid.csv",
    "sargan": 1.779213800961588, "sargandf": 1,
    "estat": 55.90094080073892,  # e(estat): the C statistic with s^2 = u'u / (N - 1)
    "sargan_without_dofminus": 1.780994787868388,  # sim_cluster_diagnostics_iid_small.csv
}
# sim_twoway: 25 firms x 10 years, clustered by both (Cameron-Gelbach-Miller)
TWOWAY = "ivreg2 y x1 (endo1 = z1 z2), cluster(firm_id year_id) first small endog(endo1)"
ivreg2_twoway = {
    "unweighted": {
        "source": IVREG2, "command": TWOWAY, "fixtures": "sim_twoway_*_cl2_small.csv",
        "params": {"endo1": 1.634124805054596, "x1": .8877612227786381, "_cons": .7223666872877581},
        "std_errors": {"endo1": .071104730388347, "x1": .0424596741507642, "_cons": .1073119446211838},
        "first_stage_f": 724.9100093790734, "cdf": 202.774097110968, "widstat": 724.9100093790726,
        "j": 1.052057430354376, "jdf": 1, "n_clusters": (25, 10),
        "pr2": .4498352909152422,  # e(first) pr2
        "estat": 5.684988657056294,  # e(estat), two-way cluster-robust C
    },
    "weighted": {
        "source": IVREG2, "command": TWOWAY.replace("(endo1 = z1 z2),", "(endo1 = z1 z2) [aw=wt],"),
        "fixtures": "sim_twoway_*_cl2_wt_small.csv",
        "params": {"endo1": 1.682369757340236, "x1": .8701687296675507, "_cons": .7244581960023317},
        "std_errors": {"endo1": .0842233642697452, "x1": .042071703613398, "_cons": .1067076184357964},
        "first_stage_f": 759.4655375492123, "cdf": 206.1582129599638, "widstat": 759.4655375492146,
        "j": None,  # e(j) missing: the two-way covariance of the moment conditions is not positive definite
        "estat": None,  # e(estat) missing too
        "pr2": .4539347898529308,  # e(first) pr2 (sim_twoway_firststage_cl2_wt_small.csv)
    },
}

# ----------------------------------------------------------------------------- FixedEffectModels.jl
fixest_jl_ftest = {
    "source": "FixedEffectModels.jl@b0aabc3, test/fit.jl",
    "command": "reg(df, @formula(Y ~ fe(id) + (X1 + X2 ~ Z1 + Z2)), Vcov.robust()).F_kp",
    "kleibergen_paap_f": 14.5348449357,
}
