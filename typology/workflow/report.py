"""The report of a run folder: ``report.md`` and a self-contained ``report.html`` (figures embedded).

Everything in the report is read back from the run folder (its tables and its model file,
checked against the manifest before it is decoded), so ``typology report DIR`` rewrites exactly what ``typology fit`` wrote. The
HTML page has no scripts and no external resources.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import figures as fg
from . import i18n
from .manifest import (
    CheckFailed,
    load_bundle,
    load_manifest,
    report_hashes,
    verify_run,
    write_manifest,
)
from .numbers import NumberFormat

__all__ = ["SECTIONS", "ReportInput", "write_report"]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #444}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #bbb}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #eee;margin:.5em 0}
.tw{max-width:100%;overflow-x:auto}.tw table{margin:0}td{font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.9em}code,pre{background:#f6f6f6;padding:.1em .3em;font-size:.85em}pre{padding:.6em;overflow-x:auto}
"""


class _Doc:
    """Builds the Markdown and HTML versions side by side."""

    def __init__(self, numbers: NumberFormat | None = None):
        self.numbers = numbers or NumberFormat()
        self.md: list[str] = []
        self.html: list[str] = []
        self.figures: dict[str, bytes] = {}

    def h(self, text: str, level: int = 2):
        self.md.append(f"{'#' * level} {text}\n")
        self.html.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def p(self, text: str, cls: str | None = None):
        self.md.append(text + "\n")
        c = f' class="{cls}"' if cls else ""
        self.html.append(f"<p{c}>{html.escape(text)}</p>")

    def items(self, lines):
        lines = list(lines)
        if not lines:
            return
        self.md.append("\n".join(f"- {x}" for x in lines) + "\n")
        self.html.append("<ul>" + "".join(f"<li>{html.escape(str(x))}</li>" for x in lines) + "</ul>")

    def pre(self, text: str):
        self.md.append("```\n" + text.rstrip() + "\n```\n")
        self.html.append(f"<pre>{html.escape(text)}</pre>")

    def table(self, df: pd.DataFrame, index: bool = True, kinds: dict | None = None):
        """A table, its numbers written by :class:`NumberFormat` (``kinds``: column -> kind, where
        the column's name does not tell it); in HTML inside a box that scrolls sideways rather
        than widening the page."""
        d = self.numbers.frame(df, kinds)
        lang = df.attrs.get("lang", "en")
        if lang != "en":
            d = d.rename(columns=lambda c: i18n.column(c, lang))
            d.index.names = [i18n.column(n, lang) if n is not None else None for n in d.index.names]
            for j in range(d.shape[1]):
                d.isetitem(j, _bool_words(d.iloc[:, j], lang))
        self.md.append(markdown_table(d, index=index) + "\n")
        self.html.append('<div class="tw">' + d.to_html(index=index, escape=True, border=0, na_rep="") + "</div>")

    def raw(self, md: str, html_text: str):
        self.md.append(md.rstrip() + "\n")
        self.html.append(html_text)

    def figure(self, name: str, fig, caption: str):
        png = fg.png_bytes(fig)
        self.figures[name] = png
        self.md.append(f"![{caption}](figures/{name}.png)\n")
        self.html.append(f'<figure><img alt="{html.escape(caption)}" src="{fg.to_data_uri(png)}">'
                         f"<figcaption class=\"note\">{html.escape(caption)}</figcaption></figure>")


def _bool_words(s: pd.Series, lang: str) -> pd.Series:
    """A column with its booleans as words of ``lang`` (``да`` / ``нет``), other cells as they are."""
    if not (pd.api.types.is_bool_dtype(s) or s.dtype == object):
        return s
    return s.map(lambda v: i18n.word(bool(v), lang) if isinstance(v, bool | np.bool_) else v)


def markdown_table(df: pd.DataFrame, index: bool = True) -> str:
    d = df.reset_index() if index else df
    cols = [str(c) for c in d.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in d.itertuples(index=False):
        lines.append("| " + " | ".join("" if (isinstance(v, float) and np.isnan(v)) else str(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


def _typical_table(prof, names: dict, towns: pd.DataFrame | None) -> pd.DataFrame:
    label = towns.set_index("town_id")["name"] if towns is not None and "name" in towns.columns else pd.Series(dtype=str)

    def listing(frame: pd.DataFrame, t) -> str:
        f = frame.reset_index()
        f = f[f["type"] == t] if "type" in f.columns else f
        return ", ".join(f"{label.get(str(i), str(i))} ({i})" for i in f["town_id"].astype(str))

    rows = [{"type": f"{t}: {names.get(int(t), '')}", "most typical": listing(prof.typical, t),
             "most atypical": listing(prof.atypical, t)} for t in prof.summary.index]
    return pd.DataFrame(rows).set_index("type")


def _read(d: Path, name: str, **kw) -> pd.DataFrame | None:
    f = d / name
    if not f.is_file():
        return None
    return pd.read_csv(f, **kw)


def _sig(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as it is: ``_Doc.table`` writes its numbers (significant digits, so small
    effects stay visible; p-values as ``<0.001``)."""
    return frame


@dataclass(frozen=True)
class ReportInput:
    """What every section of the report reads: the run folder (checked against its manifest),
    the manifest, and the fitted objects of its model file."""

    folder: Path
    manifest: dict
    typology: object
    models: dict
    config: dict
    names: dict  # type number -> type name
    towns: pd.DataFrame | None
    lang: str = "en"
    units: str = "towns"

    @property
    def title(self) -> str:
        title = self.config.get("report", {}).get("title", "Town typology report")
        return self.t("title") if title == "Town typology report" else title

    def t(self, key: str, **kw) -> str:
        """The report's string ``key`` in the report's language and units (:mod:`.i18n`)."""
        return i18n.tr(key, self.lang, self.units, **kw)

    def cols(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with its column and index labels in the report's language."""
        out = df.copy()
        out.attrs["lang"] = self.lang  # _Doc.table relabels after writing the numbers (kinds by name)
        return out

    def table(self, name: str, **kw) -> pd.DataFrame | None:
        """A CSV table of the run folder, None when the run did not write it."""
        return _read(self.folder, name, **kw)


def _title_section(doc: _Doc, run: ReportInput) -> None:
    m = run.manifest
    doc.h(run.title, 1)
    doc.p(run.t("run_note", created=m.get("created_utc"), version=m["packages"].get("nordtowns"),
                path=m["data"]["path"], seed=m.get("seed")), cls="note")


def _data_section(doc: _Doc, run: ReportInput) -> None:
    m = run.manifest
    doc.h(run.t("h.data"))
    tables = pd.Series(m["data"]["tables"], name="rows").to_frame()
    tables["sha256"] = [m["data"]["files"].get(t, {}).get("sha256", "")[:12] for t in tables.index]
    doc.table(run.cols(tables))
    s = m["summary"]
    doc.p(run.t("data.counts", town_years=doc.numbers.value(s["town_years"], "count"),
                typed=doc.numbers.value(s["towns_typed"], "count"), left=doc.numbers.value(s["towns_left_out"], "count")))
    doc.p(run.t("data.flagged"))
    doc.items(m.get("notes", []))
    left = run.table("left_out.csv", dtype={"town_id": str})
    if left is not None and len(left):
        doc.table(run.cols(left.set_index("town_id").head(30)))
        if len(left) > 30:
            doc.p(run.t("more_rows", n=len(left) - 30, file="left_out.csv"), cls="note")


def _selection_section(doc: _Doc, run: ReportInput) -> None:
    typ = run.typology
    doc.h(run.t("h.selection"))
    if run.lang != "en":
        doc.p(run.t("selection.reason_note"), cls="note")
    doc.p(str(typ.selection_reason_))
    sel = typ.selection_
    doc.table(run.cols(sel[[c for c in sel.columns if c != "voted_by"]]))
    doc.figure("selection", fg.selection_plot(sel, int(typ.n_types_), words=_fig_words(run)), run.t("fig.selection"))


def _stability_section(doc: _Doc, run: ReportInput) -> None:
    doc.h(run.t("h.stability"))
    stab = run.typology.stability_.copy()
    if "name" in stab.columns:
        stab["name"] = [run.names.get(int(t), n) for t, n in zip(stab.index, stab["name"], strict=True)]
    if run.lang != "en" and "verdict" in stab.columns:
        stab["verdict"] = [i18n.word(v, run.lang) for v in stab["verdict"]]
    doc.table(run.cols(stab), kinds={"dissolved": "share", "recovered": "share"})
    jac_col = next((c for c in stab.columns if "jaccard" in str(c).lower()), None)
    if jac_col is not None:
        doc.figure("stability", fg.stability_plot(stab[jac_col], run.names, xlabel=run.t("stability.xlabel")),
                   run.t("fig.stability"))


def _profiles_section(doc: _Doc, run: ReportInput) -> None:
    names = run.names
    doc.h(run.t("h.profiles"))
    prof = run.typology.profiles_
    summ = prof.summary.copy()
    summ.insert(0, "name", [names.get(int(t), "") for t in summ.index])
    doc.table(run.cols(summ))
    doc.items(_profile_lines(doc, run, prof))
    doc.p(run.t("profiles.means"))
    doc.table(run.cols(prof.mean))
    z = prof.z.copy()
    z.index = [f"{t}: {names.get(int(t), '')}" for t in z.index]
    doc.figure("profiles", fg.heatmap(z, run.t("fig.profiles.title")), run.t("fig.profiles"))
    if len(prof.typical):
        doc.p(run.t("profiles.typical"))
        doc.table(run.cols(_typical_table(prof, names, run.towns)))


def _profile_lines(doc: _Doc, run: ReportInput, prof) -> list[str]:
    """A line per type: size, name and its most distinguishing features (means in the features'
    units, written by the report's number format)."""
    from .numbers import column_kind

    lines = []
    dist = prof.distinguishing
    for t, row in prof.summary.iterrows():
        head = run.t("profiles.type_line", t=t, name=run.names.get(int(t), ""), n=int(row["size"]),
                     share=doc.numbers.value(float(row["share"]), "share"))
        d = dist[dist.index.get_level_values("type") == t].head(4)
        parts = [run.t("profiles.part", feature=f, direction=run.t(r["direction"]) if r["direction"] in
                       ("higher", "lower") else r["direction"],
                       mean=doc.numbers.value(float(r["mean_type"]), column_kind(f)),
                       rest=doc.numbers.value(float(r["mean_rest"]), column_kind(f)),
                       delta=f"{r['cliffs_delta']:+.2f}".replace(".", "," if doc.numbers.decimal_comma else "."))
                 for (_, f), r in d.iterrows()]
        typical = prof.typical[prof.typical.index.get_level_values("type") == t]["town_id"].tolist()
        lines.append(head + (run.t("profiles.by", parts="; ".join(parts)) if parts else run.t("profiles.none"))
                     + (run.t("profiles.most_typical", ids=", ".join(map(str, typical))) if typical else ""))
    return lines


def _fig_words(run: ReportInput) -> dict:
    """The fixed words of the figures in the report's language."""
    return {k: run.t(k) for k in ("selection.suptitle", "not_typed", "core", "map.title")} | {
        "chosen": run.t("selection.chosen", k="{k}")}


def _boundaries(run: ReportInput) -> dict | None:
    """The boundary polygons the run folder holds (copied from the dataset), None without them."""
    from ..data.io import BOUNDARIES, boundary_problems

    f = run.folder / BOUNDARIES
    if not f.is_file() or run.towns is None:
        return None
    polys, _ = boundary_problems(f.read_bytes(), f.name, run.towns["town_id"])  # checked when the data were read
    return polys


def _map_section(doc: _Doc, run: ReportInput) -> None:
    types = run.table("types.csv", dtype={"town_id": str})
    if run.towns is not None and types is not None:
        t = types.set_index("town_id")["type"]
        doc.h(run.t("h.map"))
        doc.figure("map", fg.map_of_types(run.towns.set_index("town_id"), t.astype(int), run.names,
                                          boundaries=_boundaries(run), words=_fig_words(run)),
                   run.t("fig.map"))


def _spatial_section(doc: _Doc, run: ReportInput) -> None:
    """Spatial structure ([spatial]): Moran's I and Geary's C, LISA maps, Moran scatter plots, join
    counts of the types, Moran's I of the models' residuals."""
    auto = run.table("spatial_autocorrelation.csv", dtype={"variable": str})
    if auto is None:
        return
    doc.h(run.t("h.spatial"))
    sp = run.config.get("spatial", {})
    kind = auto["weights"].iloc[0] if len(auto) else sp.get("weights", "")
    doc.p(run.t("spatial.weights", kind=kind, transform=sp.get("transform", "r"), permutations=sp.get("permutations", "")),
          cls="note")
    if len(auto):
        doc.table(_sig(auto.drop(columns=["weights", "permutations"]).set_index("variable")))
    lisa = run.table("lisa.csv", dtype={"town_id": str, "variable": str})
    towns = run.towns.set_index("town_id") if run.towns is not None else None
    if lisa is not None and len(lisa) and towns is not None:
        counts = lisa.groupby(["variable", "cluster"]).size().unstack(fill_value=0)
        doc.p(run.t("spatial.lisa", fdr=doc.numbers._marks(str(sp.get("fdr", 0.05)))))
        doc.table(counts)
        stat = auto.set_index("variable")["I"] if len(auto) else pd.Series(dtype=float)
        bounds = _boundaries(run)
        for i, (v, g) in enumerate(lisa.groupby("variable", sort=False)):
            g = g.set_index("town_id")
            doc.figure(f"lisa_{i + 1}", fg.lisa_map(towns, g["cluster"], v, boundaries=bounds),
                       run.t("fig.lisa", v=v))
            ok = g[["z", "lag"]].dropna()
            doc.figure(f"moran_scatter_{i + 1}", fg.moran_scatter(ok["z"], ok["lag"], v, stat.get(v)),
                       run.t("fig.moran", v=v))
    _joins_part(doc, run)
    _residual_part(doc, run)
    _spatial_models_part(doc, run)


def _spatial_models_part(doc: _Doc, run: ReportInput) -> None:
    """The ``[[models]]`` of kind ``spatial``: coefficients (rho or lambda among them) and impacts."""
    models = run.table("spatial_models.csv", dtype={"model": str, "term": str, "spatial_model": str, "effects": str})
    if models is None or not len(models):
        return
    head = models.drop_duplicates("model")
    names = {k: run.t(f"spatial.{k}") for k in ("lag", "error", "durbin")}
    text = "; ".join(run.t("spatial.model", model=r.model, kind=names.get(r.spatial_model, r.spatial_model),
                           effects=r.effects, n_towns=int(r.n_towns), n_years=int(r.n_years))
                     + (run.t("spatial.dropped", n=int(r.towns_dropped)) if r.towns_dropped > 0 else "")
                     for r in head.itertuples())
    doc.p(run.t("spatial.models", text=text))
    cols = ["estimate", "std_error", "z", "pvalue", "ci_lower", "ci_upper"]
    doc.table(_sig(models.set_index(["model", "term"])[cols]))
    imp = run.table("spatial_impacts.csv", dtype={"model": str, "term": str})
    if imp is not None and len(imp):
        doc.p(run.t("spatial.impacts"))
        doc.table(_sig(imp.drop(columns=["n_draws"]).set_index(["model", "term"])))


def _joins_part(doc: _Doc, run: ReportInput) -> None:
    joins = run.table("type_joins.csv", dtype={"type": str, "type_name": str})
    if joins is None or not len(joins):
        return
    doc.p(run.t("spatial.joins"))
    cols = [c for c in ("type", "type_name", "n_towns", "joins", "expected", "z", "p_norm", "p_sim") if c in joins]
    doc.table(_sig(joins[cols].set_index("type")))


def _residual_part(doc: _Doc, run: ReportInput) -> None:
    res = run.table("residual_moran.csv", dtype={"model": str})
    if res is None or not len(res):
        return
    doc.p(run.t("spatial.residuals"))
    summary = res.groupby("model").agg(years=("year", "size"), I_mean=("I", "mean"), I_min=("I", "min"),
                                       I_max=("I", "max"),
                                       years_p_below_005=("p_norm", lambda p: int((p < 0.05).sum())))
    doc.table(_sig(summary))


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?[eE][+-]?\d+(?![\w.])")  # a number in exponent notation


def _surrogate_section(doc: _Doc, run: ReportInput) -> None:
    names = run.names
    doc.h(run.t("h.rules"))
    sur = run.typology.surrogate_
    doc.p(run.t("rules.text", depth=sur.max_depth, fidelity=doc.numbers.value(float(sur.fidelity), "share"),
                cv=doc.numbers.value(float(sur.cv_fidelity), "share")))
    rules = sur.rules.drop(columns=[c for c in ("conditions",) if c in sur.rules.columns]).copy()
    rules["type"] = [f"{int(k)}: {names.get(int(k), '')}" for k in rules["type"]]
    if "rule" in rules.columns:  # thresholds written as the report's other numbers (no exponents)
        rules["rule"] = [_NUMBER.sub(lambda m: doc.numbers.value(float(m.group(0))), str(r)) for r in rules["rule"]]
    doc.table(run.cols(rules), index=False)


def _transitions_section(doc: _Doc, run: ReportInput) -> None:
    tm = run.table("transitions_matrix.csv", index_col=0)
    if tm is None:
        return
    doc.h(run.t("h.transitions"))
    stay = run.table("transitions_stay.csv", index_col=0)
    sw = run.table("transitions_switchers.csv", dtype={"town_id": str})
    doc.p(run.t("transitions.text"))
    tm.index = [f"{i}: {run.names.get(int(i), '')}" for i in tm.index]
    doc.figure("transitions", fg.heatmap(tm, run.t("fig.transitions.title"), center=None),
               run.t("fig.transitions"))
    if stay is not None:
        if "name" in stay.columns:
            stay["name"] = [run.names.get(int(t), n) for t, n in zip(stay.index, stay["name"], strict=True)]
        doc.table(run.cols(stay), kinds={"stay": "share", "lower": "share", "upper": "share"})
    if sw is not None:
        doc.p(run.t("transitions.switched", n=sw["town_id"].nunique() if len(sw) else 0, switches=len(sw)))


def _panel_models_section(doc: _Doc, run: ReportInput) -> None:
    models = run.models
    if not models:
        return
    from models import coefplot, compare

    doc.h(run.t("h.models"))
    table = compare(list(models.values()), names=list(models), labels=i18n.fit_labels(run.lang, run.units))
    doc.raw(table.to_markdown(), '<div class="tw">' + table.to_html() + "</div>")
    doc.figure("coefficients", coefplot(list(models.values()), names=list(models)), run.t("fig.coefficients"))
    st = run.table("spec_tests.csv")
    if st is not None:
        doc.p(run.t("models.spec_tests"))
        doc.table(run.cols(st.set_index(["model", "test_name"])))
    iv = run.table("iv_tests.csv")
    if iv is not None:
        doc.p(run.t("models.iv"))
        doc.table(run.cols(iv.set_index(["model", "test"])))
    notes = [f"{n}: {x}" for n, r in models.items() for x in getattr(r, "notes", ())]
    doc.items(notes)


def _discrete_section(doc: _Doc, run: ReportInput) -> None:
    """The ``[[models]]`` of kind logit / probit / mnlogit, read back from their tables."""
    dm = run.table("discrete_models.csv")
    if dm is None or not len(dm):
        return
    doc.h(run.t("h.discrete"))
    doc.p(run.t("discrete.text"))
    cols = [c for c in ("kind", "formula", "levels", "nobs", "llf", "pseudo_rsquared", "cov_type") if c in dm.columns]
    doc.table(run.cols(_sig(dm.set_index("model")[cols])))
    coef = run.table("discrete_coefficients.csv", dtype={"outcome": str, "term": str})
    if coef is not None and len(coef):
        doc.p(run.t("discrete.coef"))
        doc.table(run.cols(_sig(coef.drop(columns=["kind"], errors="ignore").set_index(["model", "outcome", "term"]))))
    me = run.table("marginal_effects.csv", dtype={"outcome": str, "term": str})
    if me is not None and len(me):
        doc.p(run.t("discrete.me"))
        doc.table(run.cols(_sig(me.drop(columns=["kind"], errors="ignore").set_index(["model", "outcome", "term"]))))
    notes = [f"{r.model}: {x}" for r in dm.itertuples() if isinstance(getattr(r, "notes", None), str)
             for x in r.notes.split(" | ") if x]
    doc.items(notes)


@dataclass(frozen=True)
class _Shown:
    """What ``models.event_plot`` draws of a result, read back from ``event_studies.csv``."""

    method: str
    dynamic: pd.DataFrame
    anticipation: int = 0


def _event_studies_section(doc: _Doc, run: ReportInput) -> None:
    """The ``[[event_studies]]``: a plot and a table per study (methods side by side), and the
    Goodman-Bacon decomposition when the two-way estimator was asked for."""
    ov = run.table("event_overall.csv", dtype={"study": str, "method": str})
    dyn = run.table("event_studies.csv", dtype={"study": str, "method": str})
    if ov is None or dyn is None or not len(ov):
        return
    from models import event_plot

    from .events import FORBIDDEN, bacon_summary, compare_table

    bacon = run.table("event_bacon.csv", dtype={"study": str, "type": str, "treated": str, "control": str})
    doc.h(run.t("h.events"))
    doc.p(run.t("events.text"))
    for i, (name, o) in enumerate(ov.groupby("study", sort=False)):
        d = dyn[dyn["study"] == name]
        doc.h(run.t("events.study", name=name, outcome=o["outcome"].iloc[0], cohort=o["cohort"].iloc[0]), 3)
        shown = {m: _Shown(m, g.set_index("event_time")[["estimate", "std_error", "ci_lower", "ci_upper",
                                                         "band_lower", "band_upper"]])
                 for m, g in d.groupby("method", sort=False)}
        ax = event_plot(shown, title=f"{name}: {o['outcome'].iloc[0]}")
        doc.figure(f"event_study_{i + 1}", ax.figure, run.t("fig.event", name=name))
        table = compare_table(d, o)
        if run.lang != "en":
            table = table.rename(index={"pre-trend p": run.t("events.pretrend_p"), "towns": run.t("events.n_units")})
        doc.table(run.cols(table))
        _event_truth(doc, ((run.manifest["summary"].get("truth") or {}).get("event_studies") or {}).get(name), run)
        b = bacon[bacon["study"] == name] if bacon is not None else None
        if b is not None and len(b):
            w = b["weight"].to_numpy()
            forbidden = float(w[b["type"].isin(FORBIDDEN).to_numpy()].sum() / w.sum())
            doc.p(run.t("events.bacon", did=doc.numbers._marks(f"{float(w @ b['estimate'].to_numpy()):.4f}"),
                        share=doc.numbers.value(forbidden, "share")))
            doc.table(run.cols(_sig(bacon_summary(b))))
        prefix = f"event study {name!r}: "
        doc.items([n.removeprefix(prefix) for n in run.manifest.get("notes", []) if n.startswith(prefix)]
                  + [f"{r.method}: {x}" for r in o.itertuples() if isinstance(r.notes, str)
                     for x in r.notes.split(" | ") if x])


def _event_truth(doc: _Doc, t: dict | None, run: ReportInput) -> None:
    """A study against the synthetic truth (the manifest's ``summary.truth.event_studies``): the true
    path and each method's estimates, a star where the truth is outside the method's uniform band."""
    if not t:
        return
    methods = t["methods"]
    times = sorted({int(e) for m in methods.values() for e in m["event_times"]})
    true = {int(e): v["true"] for m in methods.values() for e, v in m["event_times"].items()}
    truth = run.t("events.truth_col")
    table = pd.DataFrame({truth: [f"{true[e]:.4f}" for e in times]}, index=[str(e) for e in times])
    for m, v in methods.items():
        et = v["event_times"]
        table[m] = [("" if str(e) not in et else f"{et[str(e)]['estimate']:.4f}" + ("" if et[str(e)]["in_band"] else " *"))
                    for e in times]
    ov = t.get("overall")
    last = {truth: "" if ov is None else f"{ov:.4f}"}
    path = {truth: ""}
    for m, v in methods.items():
        o = v["overall"]
        last[m] = f"{o['estimate']:.4f} [{o['ci_lower']:.4f}, {o['ci_upper']:.4f}]" + (" *" if o["covered"] is False else "")
        path[m] = ("" if v["path_in_band"] is None else run.t("yes") if v["path_in_band"] else
                   run.t("no_outside", n=v["n_outside_band"], of=v["n_event_times"]))
    table = pd.concat([table, pd.DataFrame([last, path], index=["overall", run.t("events.truth_row")])])
    table.index.name = run.t("events.event_time")
    doc.p(run.t("events.truth", outcome=t["outcome"]))
    doc.table(table)
    doc.items([t[k] for k in ("note", "note_twfe") if t.get(k)])


def _truth_section(doc: _Doc, run: ReportInput) -> None:
    truth = run.manifest["summary"].get("truth")
    if not truth:
        return
    doc.h(run.t("h.truth"))
    doc.p(run.t("truth.text", n_true=truth.get("n_true_types"), n_found=truth.get("n_types_found"),
                ari=doc.numbers.value(float(truth.get("adjusted_rand", float("nan"))))))
    if truth.get("crosstab"):
        doc.table(pd.DataFrame(truth["crosstab"]).T.fillna(0).astype(int))
    rows = [{"model": mname, "term": term, **vals} for mname, terms in truth.get("coefficients", {}).items()
            for term, vals in terms.items()]
    if rows:
        doc.table(run.cols(pd.DataFrame(rows).set_index(["model", "term"])))


def _dictionary_section(doc: _Doc, run: ReportInput) -> None:
    from features import data_dictionary

    doc.h(run.t("h.dictionary"))
    dd = data_dictionary()
    feats = pd.read_parquet(run.folder / "features.parquet").columns
    dd = dd.loc[dd.index.intersection(feats)].copy()
    if run.lang != "en":
        for c in ("group", "unit", "scale"):
            dd[c] = [i18n.word(v, run.lang) for v in dd[c]]
        dd["definition"] = [i18n.definition(n, d, run.lang) for n, d in dd["definition"].items()]
    doc.table(run.cols(dd))


# The report, in order: one function per section, ``section(doc, run)``. A section that has
# nothing to show (no models, no transitions, no synthetic truth) writes nothing.
SECTIONS = (
    _title_section,
    _data_section,
    _selection_section,
    _stability_section,
    _profiles_section,
    _map_section,
    _surrogate_section,
    _transitions_section,
    _panel_models_section,
    _discrete_section,
    _event_studies_section,
    _spatial_section,
    _truth_section,
    _dictionary_section,
)


def write_report(run, lang: str | None = None) -> list[Path]:
    """Write ``report.md``, ``report.html`` and ``figures/*.png`` into the run folder ``run``
    and record their sha256 in the manifest. Returns the paths written.

    ``lang`` (``"en"`` or ``"ru"``) overrides the run's ``[report] lang``; the decimal mark
    follows ``[report] decimal_comma`` (default: a comma in Russian), the units' word
    ``[report] units`` (default: from the ``kind`` of the typed units)."""
    d = Path(run)
    m = load_manifest(d)
    problems = verify_run(d)  # the report shows the tables: they must be the ones the run wrote
    if problems:
        raise CheckFailed(f"{d}: run folder fails its manifest hashes, refusing to write a report from it:\n"
                          + "\n".join(f"  - {p}" for p in problems))
    bundle = load_bundle(d, m)
    typ = bundle["typology"]
    rep = bundle["config"].get("report", {})
    lang = lang or rep.get("lang") or "en"
    if lang not in i18n.LANGS:
        raise ValueError(f"report language {lang!r} is not one of {list(i18n.LANGS)}")
    towns = _read(d, "towns.csv", dtype={"town_id": str})
    types = _read(d, "types.csv", dtype={"town_id": str})
    column = next((c for c in ("municipal_type", "kind") if towns is not None and c in towns.columns), None)
    kinds = () if column is None or types is None else towns.loc[towns["town_id"].isin(types["town_id"]), column]
    units = i18n.units_of(kinds, rep.get("units"))
    inputs = ReportInput(folder=d, manifest=m, typology=typ, models=bundle["models"], config=bundle["config"],
                         names={int(k): i18n.type_name(str(v), lang, units) for k, v in dict(typ.type_names_).items()},
                         towns=towns, lang=lang, units=units)
    comma = rep.get("decimal_comma")
    doc = _Doc(NumberFormat(decimal_comma=(lang == "ru") if comma is None else bool(comma)))
    for section in SECTIONS:
        section(doc, inputs)
    return _write_files(doc, inputs)


def _write_files(doc: _Doc, run: ReportInput) -> list[Path]:
    """The report's files, and their sha256 in the manifest."""
    d, m = run.folder, run.manifest
    fig_dir = d / "figures"
    fig_dir.mkdir(exist_ok=True)
    for name, png in doc.figures.items():
        (fig_dir / f"{name}.png").write_bytes(png)
    md_path = d / "report.md"
    md_path.write_text("\n".join(doc.md), encoding="utf-8")
    html_path = d / "report.html"
    html_path.write_text(
        f"<!DOCTYPE html><html lang=\"{run.lang}\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(run.title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(doc.html) + "</body></html>\n", encoding="utf-8")
    m["report"] = report_hashes(d)
    write_manifest(d, m)
    return [md_path, html_path]
