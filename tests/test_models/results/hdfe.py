"""Reference values of linear models with absorbed effects (tests/test_models/test_absorb.py).

pyfixest 0.60.0 (PyPI, Rust demeaner), printed by ``data/hdfe_reference_pyfixest.py --print``
(which also wrote the CSVs ``data/hdfe_panel.csv``, ``data/hdfe_singletons.csv``,
``data/hdfe_flows.csv``): ``pf.feols(formula, data=pd.read_csv(csv), vcov=vcov,
demeaner=MapDemeaner(fixef_tol=1e-12))``, pyfixest's default small-sample correction
``ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")`` and ``fixef_rm="singleton"``.
``dropped`` is ``len(data) - fit._N`` (the singletons pyfixest removed; no value is missing),
``df_k`` pyfixest's ``K`` of the ``(N-1)/(N-K)`` factor (``fit._df_k``).

Three-way clustering (pyfixest clusters at most two ways): R 4.2.2, sandwich 3.0.22,
``data/hdfe_threeway_sandwich.R`` (the calls are in its header).
"""

SOURCE = "pyfixest 0.60.0: cd tests/test_models/data && python hdfe_reference_pyfixest.py --print"

PYFIXEST = {
    'panel_crv1_town': {
        "csv": 'hdfe_panel.csv', "formula": 'y ~ x1 + x2 | town_id + year + region^year', "vcov": {'CRV1': 'town_id'},
        "nobs": 755, "dropped": 0, "df_k": 91,
        "params": {'x1': 0.4645669201023165, 'x2': -0.2955092469360643},
        "std_errors": {'x1': 0.04211286952824428, 'x2': 0.04198468089104416},
    },
    'panel_hetero': {
        "csv": 'hdfe_panel.csv', "formula": 'y ~ x1 + x2 | town_id + year + region^year', "vcov": 'hetero',
        "nobs": 755, "dropped": 0, "df_k": 170,
        "params": {'x1': 0.4645669201023165, 'x2': -0.2955092469360643},
        "std_errors": {'x1': 0.04251257276454027, 'x2': 0.037093499631568425},
    },
    'panel_iid': {
        "csv": 'hdfe_panel.csv', "formula": 'y ~ x1 + x2 | town_id + year + region^year', "vcov": 'iid',
        "nobs": 755, "dropped": 0, "df_k": 170,
        "params": {'x1': 0.4645669201023165, 'x2': -0.2955092469360643},
        "std_errors": {'x1': 0.04369575816402687, 'x2': 0.03494303380766218},
    },
    'panel_crv1_region': {
        "csv": 'hdfe_panel.csv', "formula": 'y ~ x1 + x2 | town_id + year + region^year', "vcov": {'CRV1': 'region'},
        "nobs": 755, "dropped": 0, "df_k": 12,
        "params": {'x1': 0.4645669201023165, 'x2': -0.2955092469360643},
        "std_errors": {'x1': 0.02357570549815281, 'x2': 0.04405796794841611},
    },
    'panel_twoway_town_ry': {
        "csv": 'hdfe_panel.csv', "formula": 'y ~ x1 + x2 | town_id + year + region^year', "vcov": {'CRV1': 'town_id + region_year'},
        "nobs": 755, "dropped": 0, "df_k": 12,
        "params": {'x1': 0.4645669201023165, 'x2': -0.2955092469360643},
        "std_errors": {'x1': 0.044142053959595064, 'x2': 0.044560365523482824},
    },
    'panel_twoway_town_year': {
        "csv": 'hdfe_panel.csv', "formula": 'y ~ x1 + x2 | town_id + year', "vcov": {'CRV1': 'town_id + year'},
        "nobs": 755, "dropped": 0, "df_k": 3,
        "params": {'x1': 0.9499036352305722, 'x2': -0.2930433975938832},
        "std_errors": {'x1': 0.08253983548755292, 'x2': 0.06580744550979996},
    },
    'singletons_crv1_town': {
        "csv": 'hdfe_singletons.csv', "formula": 'y ~ x1 + x2 | town_id + region^year', "vcov": {'CRV1': 'town_id'},
        "nobs": 199, "dropped": 7, "df_k": 45,
        "params": {'x1': 0.9981104779893296, 'x2': 0.16099703264665077},
        "std_errors": {'x1': 0.10203022760838029, 'x2': 0.12114711943064564},
    },
    'singletons_hetero': {
        "csv": 'hdfe_singletons.csv', "formula": 'y ~ x1 + x2 | town_id + year + region^year', "vcov": 'hetero',
        "nobs": 199, "dropped": 7, "df_k": 93,
        "params": {'x1': 0.9981104779893296, 'x2': 0.16099703264665083},
        "std_errors": {'x1': 0.099001626001151, 'x2': 0.10831384751866312},
    },
    'flows_od_pair': {
        "csv": 'hdfe_flows.csv', "formula": 'y ~ log_dist + x | origin + destination + year', "vcov": {'CRV1': 'pair'},
        "nobs": 507, "dropped": 0, "df_k": 32,
        "params": {'log_dist': -1.208199333472999, 'x': 0.45362743513669446},
        "std_errors": {'log_dist': 0.0962347086006177, 'x': 0.050229698851152006},
    },
    'flows_oy_dy_origin': {
        "csv": 'hdfe_flows.csv', "formula": 'y ~ log_dist + x | origin^year + destination^year', "vcov": {'CRV1': 'origin'},
        "nobs": 507, "dropped": 0, "df_k": 58,
        "params": {'log_dist': -1.169546052342029, 'x': 0.47702132265885006},
        "std_errors": {'log_dist': 0.08815577277347918, 'x': 0.04839377505140964},
    },
}

SANDWICH_THREEWAY = {
    "source": "R 4.2.2, sandwich 3.0.22: cd tests/test_models/data && Rscript hdfe_threeway_sandwich.R",
    "csv": "hdfe_panel.csv", "formula": "y ~ x1 + x2 | town_id + year + region^year",
    "cluster": "town_id + year + region",
    "params": {"x1": 0.46456692010232303, "x2": -0.2955092469360639},
    # vcovCL(fit, cluster = ~town_id + year + region, type = "HC0", cadjust = FALSE)
    "none": {"x1": 0.025509261377140754, "x2": 0.049963881751442119},
    # vcovCL(fit, cluster = ~town_id + year + region, type = "HC1", cadjust = TRUE)
    "plm": {"x1": 0.030201875054630706, "x2": 0.054544648273513935},
    # none * sqrt(G_min/(G_min-1) * (N-1)/(N-3)), G_min = 8 regions, N = 755
    "stata": {"x1": 0.027306787449919764, "x2": 0.053484617958486746},
}
