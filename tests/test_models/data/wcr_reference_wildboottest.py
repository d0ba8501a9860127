"""Reference p-values of the WCR bootstrap with 4 clusters (tests/test_models/test_bootstrap_few_clusters.py).

wildboottest 0.3.2 (PyPI; numba 0.68.1, numpy 2.4.6), in its own environment since it is no
dependency of this project:

    python -m venv /tmp/wbt && /tmp/wbt/bin/pip install wildboottest==0.3.2 numba pandas
    cd tests/test_models/data && /tmp/wbt/bin/python wcr_reference_wildboottest.py

The within regression of ``y ~ x + z`` with town effects is formed here with pandas (town
means removed, grand means added back, an intercept column), clustered by region (4 regions);
WCR (``impose_null=True``), CRV1 (``bootstrap_type="11"``), Rademacher weights, B = 999 > 2^4,
so wildboottest enumerates the 16 sign vectors. It counts ``|t*| > |t|``; the two constant
vectors have ``|t*| = |t|``, so the count with ties (``>=``) is printed too.

Output (the strict count of z includes the constant vectors, whose |t*| rounds above |t|;
that of x does not: ties decided by rounding):
    x: t = 5.461087573000754, p(|t*| > |t|) = 0.0, p(|t*| >= |t|) = 0.125
    z: t = -2.2627392559281763, p(|t*| > |t|) = 0.25, p(|t*| >= |t|) = 0.25
"""

import numpy as np
import pandas as pd
from wildboottest.wildboottest import WildboottestCL

d = pd.read_csv("wcr_4regions.csv")
cols = ["y", "x", "z"]
dm = d[cols] - d.groupby("town_id")[cols].transform("mean") + d[cols].mean()
X = np.column_stack([np.ones(len(d)), dm["x"], dm["z"]])
cluster = pd.factorize(d["region"], sort=True)[0]
for j, name in ((1, "x"), (2, "z")):
    R = np.zeros(3)
    R[j] = 1.0
    wb = WildboottestCL(X=X, Y=dm["y"].to_numpy(), cluster=cluster, R=R, B=999, seed=1)
    wb.get_scores(bootstrap_type="11", impose_null=True)
    wb.get_weights(weights_type="rademacher")
    wb.get_numer()
    wb.get_denom()
    wb.get_tboot()
    wb.get_vcov()
    wb.get_tstat()
    wb.get_pvalue(pval_type="two-tailed")
    t, tb = float(np.ravel(wb.t_stat)[0]), np.ravel(wb.t_boot)
    ties = float(np.mean(np.abs(tb) >= abs(t) * (1 - 1e-9)))
    print(f"{name}: t = {t!r}, p(|t*| > |t|) = {float(wb.pvalue)!r}, p(|t*| >= |t|) = {ties!r}")
