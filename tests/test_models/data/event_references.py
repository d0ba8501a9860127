"""Produce the event-study reference values in ``tests/test_models/results/event_*.py``.

Run from the repository root with the development extras installed (never runtime dependencies):

    pip install csdid==0.4.3          # a port of R did 2.x (att_gt, aggte), with drdid 1.1.7
    python tests/test_models/data/event_references.py --panel   # (re)write event_panel.csv
    python tests/test_models/data/event_references.py           # write the results files

The panel ``event_panel.csv`` (240 towns x 9 years, 2000-2008; cohorts 2003, 2005, 2006 and
never treated; a covariate ``x`` that shifts trends; effects growing with event time and differing
by cohort; a ``region`` of 20 clusters) is simulated with numpy's default_rng(20260) by
``simulate``, so the panel is pinned by the CSV and the references by the packages below:

* ``event_csdid.py``: csdid 0.4.3 ``ATTgt(...).fit(est_method=..., bstrap=False)`` and
  ``.aggte(typec=..., bstrap=False)`` (analytic standard errors);
* ``event_pyfixest.py``: pyfixest 0.60.0 ``feols`` with explicit event-time dummies and town + year
  effects, ``vcov={"CRV1": "town_id"}`` (two-way event study, static DiD, Sun-Abraham saturated
  regression aggregated with cell counts by ``w' b`` and ``sqrt(w' V w)``) and ``did2s``
  (Gardner's two-stage; its point estimates equal the imputation estimator's).
"""

from __future__ import annotations

import pprint
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"


def simulate(n=240, T=9, seed=20260):
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2000 + T)
    g = rng.choice([2003, 2005, 2006, 0], size=n, p=[0.25, 0.25, 0.25, 0.25])
    x = rng.normal(size=n)
    y = rng.normal(size=n)[:, None] + 0.3 * rng.normal(size=T).cumsum()[None, :] + rng.normal(size=(n, T))
    y += 0.4 * x[:, None] * (years - 2000)[None, :] / T
    e = years[None, :] - g[:, None]
    y += np.where((g[:, None] > 0) & (e >= 0), (1 + e) * (0.2 + 0.1 * (g[:, None] - 2003)), 0.0)
    return pd.DataFrame({"town_id": np.repeat([f"t{i:03d}" for i in range(n)], T), "year": np.tile(years, n),
                         "y": y.ravel().round(6), "g": np.repeat(g, T), "x": np.repeat(x, T).round(6),
                         "region": np.repeat(rng.integers(0, 20, n), T)})


def csdid_refs(df):
    from csdid.att_gt import ATTgt

    d = df.assign(id=df["town_id"].str[1:].astype(int))
    out = {}
    for control, xf, est in [("nevertreated", "~ x", "dr"), ("notyettreated", "~ x", "dr"),
                             ("notyettreated", "~ x", "ipw"), ("notyettreated", "~ x", "reg"),
                             ("notyettreated", None, "dr"), ("nevertreated", None, "reg")]:
        m = ATTgt(yname="y", tname="year", idname="id", gname="g", data=d, control_group=control,
                  xformla=xf).fit(est_method=est, bstrap=False)
        r = m.results
        key = f"{control}|{xf or '1'}|{est}"
        out[key] = {"cell_group": [int(v) for v in r["group"]], "cell_year": [int(v) for v in r["year"]],
                    "att": [float(v) for v in r["att"]], "se": [float(v) for v in r["se"]]}
        for typ in ("simple", "dynamic", "group", "calendar"):
            m.aggte(typec=typ, bstrap=False)
            a = m.atte
            if typ == "simple":
                out[key][typ] = {"att": float(a["overall_att"]), "se": float(a["overall_se"])}
            else:
                out[key][typ] = {"label": [int(v) for v in a["egt"]], "att": [float(v) for v in a["att_egt"]],
                                 "se": [float(v) for v in np.ravel(a["se_egt"])]}
    return out


def pyfixest_refs(df):
    import pyfixest as pf

    out = {}
    e = np.where(df["g"] > 0, df["year"] - df["g"], np.nan)
    X = df.copy()
    eb = np.clip(e, -3, 3)
    cols = []
    for v in range(-3, 4):
        if v != -1:
            c = f"e{v}".replace("-", "m")
            X[c] = (eb == v).astype(float)
            cols.append(c)
    m = pf.feols("y ~ " + " + ".join(cols) + " | town_id + year", data=X, vcov={"CRV1": "town_id"})
    out["twfe_binned_m3_3"] = {"event_time": [v for v in range(-3, 4) if v != -1],
                               "estimate": m.coef().tolist(), "std_error": m.se().tolist()}
    X["D"] = ((df["g"] > 0) & (df["year"] >= df["g"])).astype(float)
    m = pf.feols("y ~ D | town_id + year", data=X, vcov={"CRV1": "town_id"})
    out["static"] = {"estimate": float(m.coef().iloc[0]), "std_error": float(m.se().iloc[0])}
    cols, cg, ce = [], [], []
    for g in sorted(df["g"][df["g"] > 0].unique()):
        for v in sorted(np.unique(e[np.isfinite(e)])):
            mask = (df["g"] == g) & (e == v)
            if v != -1 and mask.any():
                c = f"g{g}e{int(v)}".replace("-", "m")
                X[c] = mask.astype(float)
                cols.append(c), cg.append(int(g)), ce.append(int(v))
    m = pf.feols("y ~ " + " + ".join(cols) + " | town_id + year", data=X, vcov={"CRV1": "town_id"})
    b, V, cnt, ce = m.coef().to_numpy(), np.asarray(m._vcov), X[cols].sum().to_numpy(), np.array(ce)
    est, se = [], []
    for v in np.unique(ce):
        w = np.where(ce == v, cnt, 0.0) / cnt[ce == v].sum()
        est.append(float(w @ b))
        se.append(float(np.sqrt(w @ V @ w)))
    out["sun_abraham_never"] = {"cohort": cg, "event_time": ce.tolist(), "delta": b.tolist(),
                                "delta_se": m.se().tolist(), "dynamic_event_time": np.unique(ce).tolist(),
                                "dynamic": est, "dynamic_se": se}
    X["treat"] = ((df["g"] > 0) & (df["year"] >= df["g"])).astype(bool)
    X["rel"] = np.where(df["g"] > 0, df["year"] - df["g"], -1000).astype(int)
    fit = pf.did2s(X, yname="y", first_stage="~ 0 | town_id + year", second_stage="~ i(rel, ref=-1000)",
                   treatment="treat", cluster="town_id")
    co = fit.coef()
    post = [(int(k.split("::")[1]), float(v)) for k, v in co.items() if int(k.split("::")[1]) >= 0]
    out["did2s_post"] = {"event_time": [p[0] for p in post], "estimate": [p[1] for p in post]}
    return out


def _write(name, doc, obj):
    text = f'"""{doc}"""\n\nREFERENCE = {pprint.pformat(obj, width=110, compact=True)}\n'
    (RESULTS / name).write_text(text)


def main(argv):
    if "--panel" in argv:
        simulate().to_csv(HERE / "event_panel.csv", index=False)
    df = pd.read_csv(HERE / "event_panel.csv", dtype={"town_id": str})
    warnings.simplefilter("ignore")
    import csdid
    import pyfixest

    ver = getattr(csdid, "__version__", "0.4.3")
    _write("event_csdid.py", f"Callaway-Sant'Anna references on data/event_panel.csv: csdid {ver} (analytic s.e.),\n"
           "written by tests/test_models/data/event_references.py; keys 'control|covariates|est_method'.",
           csdid_refs(df))
    _write("event_pyfixest.py", f"Regression event-study references on data/event_panel.csv: pyfixest "
           f"{pyfixest.__version__},\nwritten by tests/test_models/data/event_references.py.", pyfixest_refs(df))


if __name__ == "__main__":
    main(sys.argv[1:])
