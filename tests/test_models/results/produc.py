"""Reference results on Munnell's public capital data: 48 states, 1970-1986,
``log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp`` (``plm::Produc`` =
``linearmodels.datasets.munnell``).

Every entry names its source. ``data/panel_references.R`` (R 4.2.2, plm 2.6.2, sandwich 3.0.2)
prints 10 significant digits, compared with a relative tolerance of 1e-9; published values are
compared to the digits printed.

Sources
-------
R_SCRIPT
    ``Rscript tests/test_models/data/panel_references.R``; the case names below are the script's.
PLM_MANUAL
    plm 2.6 reference manual, example of ``?plm``: ``zz <- plm(log(gsp) ~ log(pcap) + log(pc) +
    log(emp) + unemp, data = Produc, index = c("state", "year")); summary(zz)``.
PLM_FD
    plm 2.6, ``inst/tests/test_FD_models.Rout.save`` (``summary(fd_plm)``, ``vcovHC(fd_plm)``,
    ``summary(fd_plm2)`` without intercept).
"""

FORMULA = "log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp"

R_SCRIPT = "R 4.2.2, plm 2.6.2: Rscript tests/test_models/data/panel_references.R"
PLM_MANUAL = "plm 2.6 manual, ?plm example: summary(zz)"
PLM_FD = "plm 2.6, inst/tests/test_FD_models.Rout.save"

within = {
    "source": f"{R_SCRIPT}, case produc_within (= {PLM_MANUAL})",
    "command": 'plm(log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp, data = pdata.frame(Produc, index = '
               'c("state", "year")), model = "within")',
    "params": {"log(pcap)": -0.02614965359, "log(pc)": 0.2920069251, "log(emp)": 0.7681594726,
               "unemp": -0.00529774126},
    "std_errors": {"log(pcap)": 0.02900157547, "log(pc)": 0.02511967285, "log(emp)": 0.03009173942,
                   "unemp": 0.0009887256688},
    "rsquared": 0.9413356148,
    "df_resid": 764,
    # the same fit as printed in the manual (8 significant digits)
    "published": {"source": PLM_MANUAL,
                  "params": {"log(pcap)": -0.02614965, "log(pc)": 0.29200693, "log(emp)": 0.76815947,
                             "unemp": -0.00529774},
                  "std_errors": {"log(pcap)": 0.02900158, "log(pc)": 0.02511967, "log(emp)": 0.03009174,
                                 "unemp": 0.00098873}},
}

within_arellano_hc0 = {
    "source": f"{R_SCRIPT}, case produc_within_arellano_hc0",
    "command": 'vcovHC(within, method = "arellano", type = "HC0", cluster = "group")',
    "std_errors": {"log(pcap)": 0.0603262169, "log(pc)": 0.06174249306, "log(emp)": 0.08166523414,
                   "unemp": 0.002495840277},
}

within_twoway = {
    "source": f"{R_SCRIPT}, case produc_within_twoway",
    "command": 'plm(..., model = "within", effect = "twoways")',
    "params": {"log(pcap)": -0.03017605658, "log(pc)": 0.1688280354, "log(emp)": 0.7693061962,
               "unemp": -0.004221092604},
    "std_errors": {"log(pcap)": 0.02693654371, "log(pc)": 0.02765633895, "log(emp)": 0.02814179408,
                   "unemp": 0.00113883742},
    "rsquared": 0.7549578745,
    "df_resid": 748,
}

random = {
    "source": f"{R_SCRIPT}, case produc_random",
    "command": 'plm(..., model = "random", random.method = "swar"); ercomp(random)',
    "params": {"Intercept": 2.135411002, "log(pcap)": 0.004438588468, "log(pc)": 0.3105484342,
               "log(emp)": 0.7296705326, "unemp": -0.006172473013},
    "std_errors": {"Intercept": 0.1334614885, "log(pcap)": 0.02341731698, "log(pc)": 0.01980474778,
                   "log(emp)": 0.02492021915, "unemp": 0.00090728202},
    "variance_components": {"sigma2_e": 0.001454435221, "sigma2_u": 0.006837719321, "theta": 0.8888352846},
}

pooled = {
    "source": f"{R_SCRIPT}, case produc_pooled",
    "command": "lm(log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp, data = Produc)",
    "params": {"Intercept": 1.643302263, "log(pcap)": 0.1550070052, "log(pc)": 0.3091901674,
               "log(emp)": 0.5939348976, "unemp": -0.006732975578},
    "std_errors": {"Intercept": 0.05758725228, "log(pcap)": 0.01715376846, "log(pc)": 0.01027198688,
                   "log(emp)": 0.01374746207, "unemp": 0.00141637611},
}

first_difference = {
    "source": f"{PLM_FD}, summary(fd_plm) and vcovHC(fd_plm)",
    "command": 'plm(..., model = "fd"); vcovHC(fd_plm)  (Arellano, HC0, clustered by state)',
    "params": {"Intercept": 0.01068526, "log(pcap)": -0.00660507, "log(pc)": -0.03243575,
               "log(emp)": 0.83147269, "unemp": -0.00598593},
    "std_errors": {"Intercept": 0.00137639, "log(pcap)": 0.04593751, "log(pc)": 0.02305050,
                   "log(emp)": 0.03696857, "unemp": 0.00076141},
    "nobs": 768,
    "rsquared": 0.69166,
    "dropped": 48,  # the first year of every state
    "cov_hc0_diag": {"Intercept": 1.535028e-06, "log(pcap)": 1.904713e-03, "log(pc)": 6.851179e-04,
                     "log(emp)": 1.004051e-03, "unemp": 6.273753e-07},
}

first_difference_nocons = {
    "source": f"{PLM_FD}, summary(fd_plm2)",
    "command": 'plm(log(gsp) ~ log(pcap) + log(pc) + log(emp) + unemp - 1, ..., model = "fd")',
    "params": {"log(pcap)": 0.12347223, "log(pc)": 0.01838177, "log(emp)": 0.95943399, "unemp": -0.00428020},
}

hausman_twoway_random = {
    "source": f"{R_SCRIPT}, case produc_hausman_twoway_random",
    "command": 'phtest(plm(..., model = "within", effect = "twoways"), plm(..., model = "random"))',
    "statistic": 116.6887638,
    "df": 4,
    "pvalue": 2.721049832e-24,
}

hausman_within_random = {
    "source": ("R 4.2.2, plm 2.6.2: Rscript tests/test_models/data/hausman_reference.R (Baltagi 2021, sec. 4.3; "
               "plm's ?phtest example)"),
    "command": 'phtest(plm(..., model = "within"), plm(..., model = "random"))',
    "statistic": 9.525415635,
    "df": 4,
    "pvalue": 0.04922762418,
}
