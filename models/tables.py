"""Regression tables and coefficient plots of several fitted models side by side."""

from __future__ import annotations

import html
import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["RegressionTable", "coefplot", "compare"]

_EFFECTS = {"entity": "town", "time": "year", "twoway": "town, year", None: "none"}


def _stars(p: float, levels) -> str:
    return "*" * sum(p < lv for lv in levels) if np.isfinite(p) else ""


class RegressionTable:
    """Results side by side: estimates with stars, standard errors in parentheses, fit rows.

    Built by :func:`compare`. ``cells`` is the table as strings (one column per model);
    ``to_text``, ``to_markdown``, ``to_latex``, ``to_html``, ``to_csv`` render it;
    ``to_frame`` gives the numbers (estimate and standard error per model and term).
    """

    def __init__(self, results, names, terms, stars, digits):
        self.results = list(results)
        self.names = list(names)
        self.terms = list(terms)
        self.stars = tuple(sorted(stars, reverse=True))
        self.digits = digits
        rows, labels = [], []
        fmt = f"{{:.{digits}f}}"
        for term in self.terms:
            est, se = [], []
            for r in self.results:
                if term in r.params.index:
                    est.append(fmt.format(r.params[term]) + _stars(float(r.pvalues[term]), self.stars))
                    se.append("(" + fmt.format(r.std_errors[term]) + ")")
                else:
                    est.append("")
                    se.append("")
            rows += [est, se]
            labels += [term, ""]
        self.n_coef_rows = len(rows)
        foot = {
            "Estimator": [r.spec.estimator for r in self.results],
            "Effects": [_EFFECTS.get(r.spec.effects, str(r.spec.effects)) for r in self.results],
            "Standard errors": [r.cov_label for r in self.results],
            "Observations": [f"{r.nobs:d}" for r in self.results],
            "Towns": [f"{r.n_entities:d}" for r in self.results],
            "R-squared": [f"{r.rsquared:.3f}" for r in self.results],
            "R-squared within": [f"{r.rsquared_within:.3f}" for r in self.results],
        }
        for k, v in foot.items():
            rows.append(v)
            labels.append(k)
        self.cells = pd.DataFrame(rows, index=labels, columns=self.names)

    @property
    def note(self) -> str:
        marks = ", ".join(f"{'*' * (i + 1)} p < {lv:g}" for i, lv in enumerate(self.stars))
        return f"Standard errors in parentheses. {marks}."

    def to_frame(self) -> pd.DataFrame:
        """Estimates and standard errors as numbers: rows = terms, columns = (model, statistic)."""
        parts = {}
        for name, r in zip(self.names, self.results, strict=True):
            parts[(name, "estimate")] = r.params.reindex(self.terms)
            parts[(name, "std_error")] = r.std_errors.reindex(self.terms)
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

        def cell(v: str) -> str:
            n = len(v) - len(v.rstrip("*"))
            return esc(v.rstrip("*")) + (f"$^{{{'*' * n}}}$" if n else "")

        cells = self.cells
        out = [r"\begin{tabular}{l" + "c" * len(cells.columns) + "}", r"\hline",
               " & " + " & ".join(esc(c) for c in cells.columns) + r" \\", r"\hline"]
        for i, (label, row) in enumerate(cells.iterrows()):
            if i == self.n_coef_rows:
                out.append(r"\hline")
            out.append(esc(label) + " & " + " & ".join(cell(v) for v in row) + r" \\")
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

    def to_csv(self, path_or_buf=None) -> str | None:
        """The cells as CSV (the string when no path is given; the caller's buffer otherwise)."""
        if path_or_buf is None:
            buf = io.StringIO()
            self.cells.to_csv(buf, index_label="")
            return buf.getvalue()
        self.cells.to_csv(path_or_buf, index_label="")
        return None

    def __str__(self) -> str:
        return self.to_text()


def compare(results, names=None, terms=None, stars=(0.10, 0.05, 0.01), digits: int = 3) -> RegressionTable:
    """Put fitted panel models side by side.

    Parameters
    ----------
    results : sequence of PanelModelResult (or a dict name -> result)
    names : sequence of str, optional
        Column titles; default the specs' ``name`` or ``(1)``, ``(2)``, ...
    terms : sequence of str, optional
        Rows (and their order); default every term in order of first appearance.
    stars : tuple of float
        Significance levels for ``*``, ``**``, ``***`` (default 0.10, 0.05, 0.01).
    digits : int
        Decimals of estimates and standard errors.
    """
    if isinstance(results, dict):
        names = list(results) if names is None else names
        results = list(results.values())
    results = list(results)
    if not results:
        raise ValueError("compare needs at least one result")
    if names is None:
        names = [r.spec.name or f"({i + 1})" for i, r in enumerate(results)]
    if len(names) != len(results):
        raise ValueError(f"{len(names)} names for {len(results)} results")
    if terms is None:
        terms = list(dict.fromkeys(t for r in results for t in r.params.index))
    return RegressionTable(results, names, terms, stars, digits)


def coefplot(results, names=None, terms=None, level: float = 0.95, figsize=None) -> Figure:
    """Coefficient plot: estimates with confidence intervals, one marker style per model.

    Returns a :class:`matplotlib.figure.Figure` built without pyplot (no GUI backend, no
    global state); save it with ``fig.savefig(path)``.
    """
    if not isinstance(results, (list, tuple, dict)):
        results = [results]
    if isinstance(results, dict):
        names = list(results) if names is None else names
        results = list(results.values())
    if names is None:
        names = [r.spec.name or f"({i + 1})" for i, r in enumerate(results)]
    if terms is None:
        terms = [t for t in dict.fromkeys(t for r in results for t in r.params.index) if t != "Intercept"]
    n_terms, n_models = len(terms), len(results)
    fig = Figure(figsize=figsize or (6.4, 0.5 + 0.45 * n_terms * max(1, n_models) ** 0.5 + 0.6))
    ax = fig.add_subplot(1, 1, 1)
    offsets = np.linspace(-0.25, 0.25, n_models) if n_models > 1 else np.zeros(1)
    markers = "osD^v<>"
    for m, (name, r) in enumerate(zip(names, results, strict=True)):
        ci = r.conf_int(level)
        present = [t for t in terms if t in r.params.index]
        y = np.array([terms.index(t) for t in present]) + offsets[m]
        est = r.params[present].to_numpy()
        lo, hi = ci.loc[present, "lower"].to_numpy(), ci.loc[present, "upper"].to_numpy()
        ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt=markers[m % len(markers)], capsize=3, label=name)
    ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
    ax.set_yticks(range(n_terms))
    ax.set_yticklabels(terms)
    ax.invert_yaxis()
    ax.set_xlabel(f"estimate with {level:.0%} confidence interval")
    if n_models > 1:
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig
