"""Regression tables and coefficient plots of several fitted models side by side.

Panel results (:class:`models.PanelModelResult`) and discrete ones
(:class:`models.DiscreteModelResult`) mix freely. A logit or probit column shows its
coefficients (``what="params"``, the default, as Stata's ``esttab`` and R's ``modelsummary``)
or its average marginal effects (``what="marginal_effects"``: probabilities, comparable with
the coefficients of a linear probability model); a multinomial logit gives one column per
outcome level (``"name: level"``; coefficients against the reference level, or the AMEs on the
probability of every level). Nothing impossible is printed: no star where the p-value is
missing or the standard error is zero or not finite, ``n/a`` for a missing number, and an
unbounded confidence limit as ``-inf`` / ``inf`` (``$-\\infty$`` in LaTeX; an arrow in
:func:`coefplot`).
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["RegressionTable", "coefplot", "compare"]

_EFFECTS = {"entity": "town", "time": "year", "twoway": "town, year", None: "none"}
_INF = re.compile(r"(?<![A-Za-z])-?inf(?![A-Za-z])")
_WHAT = ("params", "marginal_effects")


def _stars(p: float, levels, se: float = 1.0) -> str:
    """Stars of a p-value; none where p is missing or the standard error is zero or not finite."""
    if not (np.isfinite(p) and np.isfinite(se) and se > 0):
        return ""
    return "*" * sum(p < lv for lv in levels)


def _num(v: float, fmt: str) -> str:
    """A number, ``-inf`` / ``inf`` for an unbounded limit, ``n/a`` for a missing one."""
    if np.isnan(v):
        return "n/a"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return fmt.format(v)


@dataclass
class _Column:
    """One column of a table: a panel model, a binary model, or one outcome level of a multinomial logit."""

    title: str
    estimates: pd.Series
    std_errors: pd.Series
    pvalues: pd.Series
    ci: object                      # level -> DataFrame(lower, upper) by term
    foot: dict = field(default_factory=dict)
    discrete: bool = False


def _wald_ci(est: pd.Series, se: pd.Series):
    def ci(level):
        c = float(scipy.stats.norm.ppf(0.5 + level / 2.0))
        return pd.DataFrame({"lower": est - c * se, "upper": est + c * se})
    return ci


def _estimator_label(spec) -> str:
    if spec.endog:
        return "IV (2SLS)" if spec.estimator == "iv" else f"{spec.estimator} IV (2SLS)"
    return "PPML" if spec.estimator == "ppml" else spec.estimator


def _first_stage_f(r) -> str:
    """The first-stage F of each endogenous regressor (``x2: 41.2``), or ``""``."""
    tests = r.first_stage_tests
    if tests is None:
        return ""
    if len(tests) == 1:
        return _num(float(tests["F"].iloc[0]), "{:.2f}")
    return "; ".join(f"{e}: {_num(float(f), '{:.2f}')}" for e, f in tests["F"].items())


def _panel_foot(r) -> dict:
    """The fit rows of a panel result: effects by name (absorbed ones as written), the
    first-stage F of an IV model, McFadden's pseudo R-squared of a PPML model."""
    effects = " + ".join(r.absorbed) if r.spec.absorb else _EFFECTS.get(r.spec.effects, str(r.spec.effects))
    ppml = r.spec.estimator == "ppml"
    return {"Estimator": _estimator_label(r.spec), "Effects": effects, "Standard errors": r.cov_label,
            "Observations": f"{r.nobs:d}", "Towns": f"{r.n_entities:d}",
            "R-squared": "" if ppml else _num(r.rsquared, "{:.3f}"),
            "R-squared within": "" if ppml or r.spec.endog else _num(r.rsquared_within, "{:.3f}"),
            "First-stage F": _first_stage_f(r), "Pseudo R-squared": _num(r.pseudo_rsquared, "{:.3f}") if ppml else "",
            "Estimates": "coefficients"}


def _columns(results, names, what: str) -> list[_Column]:
    from .discrete import DiscreteModelResult

    if what not in _WHAT:
        raise ValueError(f"what must be 'params' or 'marginal_effects'; found {what!r}")
    cols = []
    for name, r in zip(names, results, strict=True):
        if not isinstance(r, DiscreteModelResult):
            cols.append(_Column(name, r.params, r.std_errors, r.pvalues, r.conf_int, _panel_foot(r)))
            continue
        foot = {"Estimator": r.estimator, "Effects": "none", "Standard errors": r.cov_label,
                "Observations": f"{r.nobs:d}", "Towns": f"{r.n_entities:d}", "R-squared": "",
                "R-squared within": "", "First-stage F": "", "Pseudo R-squared": _num(r.pseudo_rsquared, "{:.3f}"),
                "Estimates": "coefficients" if what == "params" else "average marginal effects"}
        if what == "params" and r.model != "mnlogit":
            cols.append(_Column(name, r.params, r.std_errors, r.pvalues, r.conf_int, foot, True))
        elif what == "params":
            P, S, Pv = r.params, r.std_errors, r.pvalues
            foot = {**foot, "Estimates": f"coefficients vs {r.levels[0]}"}
            for lv in P.columns:
                cols.append(_Column(f"{name}: {lv}", P[lv], S[lv], Pv[lv], _wald_ci(P[lv], S[lv]), foot, True))
        else:
            me = r.marginal_effects
            parts = [(name, me)] if r.model != "mnlogit" else [
                (f"{name}: {lv}", me.xs(lv, level="outcome")) for lv in me.index.get_level_values("outcome").unique()]
            for title, m in parts:
                cols.append(_Column(title, m["dydx"], m["std_error"], m["pvalue"], _wald_ci(m["dydx"], m["std_error"]),
                                    foot, True))
    return cols


def _default_names(results) -> list[str]:
    out = []
    for i, r in enumerate(results):
        spec = getattr(r, "spec", None)
        out.append((spec.name if spec is not None else getattr(r, "name", None)) or f"({i + 1})")
    return out


class RegressionTable:
    """Results side by side: estimates with stars, standard errors in parentheses, fit rows.

    Built by :func:`compare`. ``cells`` is the table as strings (one column per model);
    ``to_text``, ``to_markdown``, ``to_latex``, ``to_html``, ``to_csv`` render it;
    ``to_frame`` gives the numbers (estimate and standard error per model and term).
    ``labels`` maps the English texts of the fit rows (their labels and words such as ``"none"``)
    and of the note's first sentence to the texts shown (a report in another language).
    """

    def __init__(self, results, names, terms, stars, digits, what="params", ci=None, labels=None):
        self.results = list(results)
        self.labels = dict(labels or {})
        self.columns = _columns(self.results, list(names), what)
        self.names = [c.title for c in self.columns]
        self.terms = list(terms)
        self.stars = tuple(sorted(stars, reverse=True))
        self.digits = digits
        self.what = what
        self.ci_level = ci
        rows, labels = [], []
        fmt = f"{{:.{digits}f}}"
        cis = [c.ci(ci) if ci is not None else None for c in self.columns]
        for term in self.terms:
            est, below = [], []
            for c, bounds in zip(self.columns, cis, strict=True):
                if term in c.estimates.index:
                    e, se, p = float(c.estimates[term]), float(c.std_errors[term]), float(c.pvalues[term])
                    est.append(_num(e, fmt) + (_stars(p, self.stars, se) if np.isfinite(e) else ""))
                    if bounds is None:
                        below.append("(" + _num(se, fmt) + ")")
                    else:
                        lo, hi = float(bounds.loc[term, "lower"]), float(bounds.loc[term, "upper"])
                        below.append("[" + _num(lo, fmt) + ", " + _num(hi, fmt) + "]")
                else:
                    est.append("")
                    below.append("")
            rows += [est, below]
            labels += [term, ""]
        self.n_coef_rows = len(rows)
        keys = ["Estimator", "Effects", "Standard errors", "Observations", "Towns", "R-squared", "R-squared within"]
        if any(c.foot["First-stage F"] for c in self.columns):
            keys.append("First-stage F")
        if any(c.discrete for c in self.columns):
            keys += ["Pseudo R-squared", "Estimates"]
        elif any(c.foot["Pseudo R-squared"] for c in self.columns):
            keys.append("Pseudo R-squared")
        lab = self.labels
        for k in keys:
            rows.append([lab.get(c.foot[k], c.foot[k]) for c in self.columns])
            labels.append(lab.get(k, k))
        self.cells = pd.DataFrame(rows, index=labels, columns=self.names)

    @property
    def note(self) -> str:
        marks = ", ".join(f"{'*' * (i + 1)} p < {lv:g}" for i, lv in enumerate(self.stars))
        below = ("Standard errors in parentheses." if self.ci_level is None
                 else f"{self.ci_level:.0%} confidence intervals in brackets.")
        below = self.labels.get(below, below)
        extra = ""
        if self.what == "marginal_effects" and any(c.discrete for c in self.columns):
            extra = (" Discrete models: average marginal effects on the probability (discrete changes for 0/1 "
                     "variables and C() levels).")
        return f"{below} {marks}.{extra}"

    def to_frame(self) -> pd.DataFrame:
        """Estimates and standard errors as numbers: rows = terms, columns = (model, statistic)."""
        parts = {}
        for c in self.columns:
            parts[(c.title, "estimate")] = c.estimates.reindex(self.terms)
            parts[(c.title, "std_error")] = c.std_errors.reindex(self.terms)
        return pd.DataFrame(parts)

    def to_text(self) -> str:
        cells = self.cells
        w0 = max(len(s) for s in cells.index)
        widths = [max(len(c), *(len(v) for v in cells[c])) for c in cells.columns]
        line = "-" * (w0 + sum(w + 2 for w in widths))
        out = [" " * w0 + "".join(f"  {c:>{w}}" for c, w in zip(cells.columns, widths, strict=True)), line]
        for i, (label, row) in enumerate(cells.iterrows()):
            if i == self.n_coef_rows:
                out.append(line)
            out.append(f"{label:<{w0}}" + "".join(f"  {v:>{w}}" for v, w in zip(row, widths, strict=True)))
        out += [line, self.note]
        return "\n".join(out)

    def to_markdown(self) -> str:
        cells = self.cells
        out = ["| | " + " | ".join(cells.columns) + " |", "|---|" + "---:|" * len(cells.columns)]
        for label, row in cells.iterrows():
            out.append(f"| {label} | " + " | ".join(v.replace("*", "\\*") for v in row) + " |")
        out.append("")
        out.append(self.note.replace("*", "\\*"))
        return "\n".join(out)

    def to_latex(self) -> str:
        def esc(s: str) -> str:
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                         ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
                s = s.replace(a, b)
            return s

        def cell(v: str, numeric: bool = False) -> str:
            n = len(v) - len(v.rstrip("*"))
            out = esc(v.rstrip("*")) + (f"$^{{{'*' * n}}}$" if n else "")
            return _INF.sub(lambda m: r"$-\infty$" if m.group(0).startswith("-") else r"$\infty$", out) if numeric else out

        cells = self.cells
        out = [r"\begin{tabular}{l" + "c" * len(cells.columns) + "}", r"\hline",
               " & " + " & ".join(esc(c) for c in cells.columns) + r" \\", r"\hline"]
        for i, (label, row) in enumerate(cells.iterrows()):
            if i == self.n_coef_rows:
                out.append(r"\hline")
            out.append(esc(label) + " & " + " & ".join(cell(v, i < self.n_coef_rows) for v in row) + r" \\")
        out += [r"\hline", r"\multicolumn{" + str(len(cells.columns) + 1) + "}{l}{\\footnotesize "
                + esc(self.note).replace("*", "$^{*}$") + "}", r"\end{tabular}"]
        return "\n".join(out)

    def to_html(self) -> str:
        cells = self.cells
        out = ['<table class="regression-table">', "<thead><tr><th></th>"
               + "".join(f"<th>{html.escape(c)}</th>" for c in cells.columns) + "</tr></thead>", "<tbody>"]
        for i, (label, row) in enumerate(cells.iterrows()):
            cls = ' class="fit"' if i >= self.n_coef_rows else ""
            out.append(f"<tr{cls}><th>{html.escape(label)}</th>" + "".join(f"<td>{html.escape(v)}</td>" for v in row)
                       + "</tr>")
        out += ["</tbody>", f"<caption>{html.escape(self.note)}</caption>", "</table>"]
        return "\n".join(out)

    def to_csv(self, buf=None) -> str:
        """The cells as CSV text (first column: the row labels, headed by an empty cell).

        Parameters
        ----------
        buf : writable text object, optional
            Also written to it (an open file, ``io.StringIO``): anything with a ``write``
            method. Not a path: this package writes no files; write the text where it belongs,
            for example ``Path("table.csv").write_text(table.to_csv())``.

        Returns
        -------
        str
        """
        if buf is not None and (isinstance(buf, str | bytes | os.PathLike) or not callable(getattr(buf, "write", None))):
            raise TypeError("RegressionTable.to_csv takes a writable text object (an open file, io.StringIO), not "
                            f"{type(buf).__name__} {buf!r}: the models package writes no files; write the text "
                            "returned by to_csv() to the path instead")
        text = self.cells.to_csv()
        if buf is not None:
            buf.write(text)
        return text

    def __str__(self) -> str:
        return self.to_text()


def compare(results, names=None, terms=None, stars=(0.10, 0.05, 0.01), digits: int = 3, what: str = "params",
            ci: float | None = None, labels: dict | None = None) -> RegressionTable:
    """Put fitted panel and discrete models side by side.

    Parameters
    ----------
    results : sequence of PanelModelResult / DiscreteModelResult (or a dict name -> result)
    names : sequence of str, optional
        Column titles; default the specs' (or discrete results') ``name`` or ``(1)``, ``(2)``,
        ... A multinomial logit gives one column per outcome level, titled ``"name: level"``.
    terms : sequence of str, optional
        Rows (and their order); default every term in order of first appearance.
    stars : tuple of float
        Significance levels for ``*``, ``**``, ``***`` (default 0.10, 0.05, 0.01); no star
        where the p-value is missing or the standard error is zero or not finite.
    digits : int
        Decimals of estimates and standard errors.
    what : {"params", "marginal_effects"}
        Discrete models: coefficients (default) or average marginal effects (the rows are
        then the variables: ``x``, ``C(g)[T.b]``; no intercept, no interaction products).
        Linear models always show their coefficients.
    ci : float, optional
        Show confidence intervals at this level in brackets instead of standard errors
        (unbounded limits as ``-inf`` / ``inf``).
    labels : dict, optional
        The texts of the fit rows and of the note in another language: English text -> text
        shown, for the row labels (``"Observations"``), their words (``"none"``,
        ``"coefficients"``) and ``"Standard errors in parentheses."``; absent texts stay English.
    """
    if isinstance(results, dict):
        names = list(results) if names is None else names
        results = list(results.values())
    results = list(results)
    if not results:
        raise ValueError("compare needs at least one result")
    if names is None:
        names = _default_names(results)
    if len(names) != len(results):
        raise ValueError(f"{len(names)} names for {len(results)} results")
    if ci is not None and not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be a level in (0, 1), e.g. 0.95; found {ci!r}")
    if terms is None:
        terms = list(dict.fromkeys(t for c in _columns(results, list(names), what) for t in c.estimates.index))
    return RegressionTable(results, names, terms, stars, digits, what, ci, labels)


def coefplot(results, names=None, terms=None, level: float = 0.95, figsize=None, what: str = "params") -> Figure:
    """Coefficient plot: estimates with confidence intervals, one marker style per model (column).

    Takes the results :func:`compare` takes (``what`` as there). An unbounded side of an
    interval is drawn as an arrow to the edge of the axes, never as a finite bar; a missing
    interval leaves the marker alone. Returns a :class:`matplotlib.figure.Figure` built
    without pyplot (no GUI backend, no global state); save it with ``fig.savefig(path)``.
    """
    if not isinstance(results, (list, tuple, dict)):
        results = [results]
    if isinstance(results, dict):
        names = list(results) if names is None else names
        results = list(results.values())
    results = list(results)
    if names is None:
        names = _default_names(results)
    columns = _columns(results, list(names), what)
    if terms is None:
        terms = [t for t in dict.fromkeys(t for c in columns for t in c.estimates.index) if t != "Intercept"]
    n_terms, n_models = len(terms), len(columns)
    from matplotlib.figure import Figure  # loaded when a figure is drawn

    fig = Figure(figsize=figsize or (6.4, 0.5 + 0.45 * n_terms * max(1, n_models) ** 0.5 + 0.6))
    ax = fig.add_subplot(1, 1, 1)
    offsets = np.linspace(-0.25, 0.25, n_models) if n_models > 1 else np.zeros(1)
    markers = "osD^v<>"
    arrows, finite = [], [0.0]
    for m, c in enumerate(columns):
        ci = c.ci(level)
        present = [t for t in terms if t in c.estimates.index and np.isfinite(c.estimates[t])]
        y = np.array([terms.index(t) for t in present], dtype=float) + offsets[m]
        est = c.estimates[present].to_numpy(dtype=float)
        lo, hi = ci.loc[present, "lower"].to_numpy(dtype=float), ci.loc[present, "upper"].to_numpy(dtype=float)
        # a bar only where the limit is finite; an arrow where it is unbounded
        left = np.where(np.isfinite(lo), est - lo, 0.0)
        right = np.where(np.isfinite(hi), hi - est, 0.0)
        line = ax.errorbar(est, y, xerr=[left, right], fmt=markers[m % len(markers)], capsize=3, label=c.title)
        color = line[0].get_color()
        for yy, e, a, b in zip(y, est, lo, hi, strict=True):
            finite.extend(v for v in (e, a, b) if np.isfinite(v))
            if np.isinf(a):
                arrows.append((yy, e, -1, color))
            if np.isinf(b):
                arrows.append((yy, e, 1, color))
    if arrows:
        span = max(finite) - min(finite) or 1.0
        xmin, xmax = min(finite) - 0.15 * span, max(finite) + 0.15 * span
        ax.set_xlim(xmin, xmax)
        for yy, e, side, color in arrows:
            ax.annotate("", xy=(xmax if side > 0 else xmin, yy), xytext=(e, yy),
                        arrowprops={"arrowstyle": "->", "color": color, "lw": 1.2})
    ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
    ax.set_yticks(range(n_terms))
    ax.set_yticklabels(terms)
    ax.invert_yaxis()
    label = "estimate" if what == "params" else "estimate (discrete: AME)"
    ax.set_xlabel(f"{label}, {level:.0%} interval" + ("; arrow: unbounded" if arrows else ""))
    if n_models > 1:
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig
