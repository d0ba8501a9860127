"""Reference p-values of the wild cluster bootstrap (WCR) with 4 clusters on
``data/wcr_4regions.csv`` (24 towns in 4 regions, 6 years; ``y ~ x + z`` with town effects,
clustered by region).

Source: wildboottest 0.3.2 (PyPI; numba 0.68.1, numpy 2.4.6), run in its own environment by
``data/wcr_reference_wildboottest.py`` (the commands are in its docstring): WCR
(``impose_null=True``), CRV1 (``bootstrap_type="11"``), Rademacher weights, B = 999 > 2^4, so the
16 sign vectors are enumerated. wildboottest counts ``|t*| > |t|``; the two constant vectors have
``|t*| = |t|``, so the script prints the count with ties (``>=``) too, which is the convention of
``models.bootstrap``.
"""

SOURCE = "wildboottest 0.3.2: cd tests/test_models/data && python wcr_reference_wildboottest.py"

rademacher = {
    "source": SOURCE,
    "command": ("WildboottestCL(X, Y, cluster, R, B=999, seed=1); get_scores(bootstrap_type='11', impose_null=True); "
                "get_weights('rademacher'); ...; p(|t*| >= |t|)"),
    "pvalues": {"x": 0.125, "z": 0.25},
    "tstats": {"x": 5.461087573000754, "z": -2.2627392559281763},
}
