"""Reference values of the fixed-effects spatial lag and error panel models from spreg 1.9.0
(``Panel_FE_Lag``, ``Panel_FE_Error``: town effects, the direct approach, log-determinant by
SuperLU, ``epsilon=1e-7``) and of the full-sample fits, on ``spatial_panel.csv`` with the
row-standardized weights of ``spatial_edges.csv``. Prints the values stored in
``tests/test_models/results/spatial.py``:

    python tests/test_models/data/spatial_reference_spreg.py
"""

import warnings
from pathlib import Path

import libpysal
import numpy as np
import pandas as pd
import spreg
from scipy import sparse

HERE = Path(__file__).parent
panel = pd.read_csv(HERE / "spatial_panel.csv").sort_values(["year", "town_id"])
edges = pd.read_csv(HERE / "spatial_edges.csv")
ids = sorted(panel["town_id"].unique())
pos = {t: i for i, t in enumerate(ids)}
n, T = len(ids), panel["year"].nunique()
Wb = sparse.csr_array((np.ones(len(edges)), (edges["town_id"].map(pos), edges["neighbor"].map(pos))), shape=(n, n))
w = libpysal.weights.WSP(Wb).to_W(silence_warnings=True)
w.transform = "r"
y = panel["y"].to_numpy()[:, None]          # year-major stacking (spreg's long format)
x = panel[["x1", "x2"]].to_numpy()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    lag = spreg.Panel_FE_Lag(y, x, w)
    err = spreg.Panel_FE_Error(y, x, w)
np.set_printoptions(precision=17)
print("spreg", spreg.__version__)
print("LAG_PARAMS =", repr(lag.betas.ravel().tolist()))
print("LAG_SE =", repr(np.asarray(lag.std_err).ravel().tolist()))
print("LAG_LOGLL =", repr(float(np.asarray(lag.logll).ravel()[0])))
print("LAG_SIG2 =", repr(float(np.asarray(lag.sig2).ravel()[0])))
print("ERR_PARAMS =", repr(err.betas.ravel().tolist()))
print("ERR_SE =", repr(np.asarray(err.std_err).ravel().tolist()))
print("ERR_LOGLL =", repr(float(np.asarray(err.logll).ravel()[0])))
print("ERR_SIG2 =", repr(float(np.asarray(err.sig2).ravel()[0])))
