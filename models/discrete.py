"""Discrete outcomes of towns: logit / probit of a status, multinomial logit of types.

``fit_discrete_model(data, "status ~ corp_share + dist_core_km", model="logit",
outcome_level="stagnating")`` models ``P(status == "stagnating")``;
``model="mnlogit"`` models the probabilities of every level of a categorical outcome (a
typology's labels) against a reference level. The formula language is that of
:mod:`models.formula` (``C()``, ``log()``, ``lag()``, interactions); rows with missing
values are dropped and reported. Maximum likelihood is statsmodels' (``Logit``, ``Probit``,
``MNLogit``); the penalized estimator (``penalty="firth"``) and the marginal effects are
computed here.

Average marginal effects (AME), as Stata's ``margins, dydx(*)`` with factor variables
----------------------------------------------------------------------------------------
One effect per *variable* of the formula (a numeric expression as written, e.g. ``x`` or
``log(pop)``, or a categorical ``C(g)``), of the whole expression: every term the variable
enters changes with it (Ai and Norton 2003), so ``y ~ x * z`` gives
``dP/dx = f(x'b) (b_x + b_xz z)`` and the product ``x:z`` gets no row of its own.

* continuous variable: the derivative, ``AME = mean_i f(x_i'b) (d_i'b)`` with
  ``d_i = dx_i/dv`` (the design is linear in each variable);
* 0/1 variable (only the values 0 and 1 in the estimation sample) and each level of a
  ``C()`` factor: the discrete change ``mean_i [P(y=1 | v=1, rest as observed) - P(y=1 | v=0,
  rest as observed)]``; for ``C(g)[T.l]`` from the reference level to ``l`` with the other
  levels switched off (Stata's ``i.g``; statsmodels' ``get_margeff(dummy=True)`` switches each
  0/1 column alone and so differs for a factor with three or more levels);
* multinomial logit: the same for the probability of each outcome level.

Standard errors by the delta method, ``V_AME = G V G'`` with ``G`` the gradient of the mean
effect with respect to the coefficients (analytic) and ``V`` the covariance of the fit.
Interactions of two variables also get the average interaction effect of Ai and Norton (2003)
(cross-partial derivative, difference of derivatives, or double difference of the
probability) in ``interaction_effects`` (binary models; gradient by central differences).

Separation
----------
Complete or quasi-complete separation (a combination of the regressors that predicts the
outcome perfectly on part of the sample, so the maximum-likelihood estimates are infinite) is
detected before fitting with the linear program of Konis (2007) (``scipy.optimize.linprog``;
for the multinomial logit Albert and Anderson's (1984) conditions) and raises
:class:`SeparationError` naming the regressors and the outcome values, unless
``penalty="firth"``: Firth's (1993) bias-reduced logit (Jeffreys-prior penalized likelihood,
as R's ``logistf`` and ``brglm2``), or the Jeffreys-prior penalized probit (Kosmidis and Firth
2021). Its standard errors are the inverse penalized information (Wald, ``logistf(...,
pl=FALSE)``).

References: Ai, C. and Norton, E. C. (2003), Economics Letters 80, 123-129. Albert, A. and
Anderson, J. A. (1984), Biometrika 71, 1-10. Firth, D. (1993), Biometrika 80, 27-38. Heinze,
G. and Schemper, M. (2002), Statistics in Medicine 21, 2409-2419. Konis, K. (2007), Linear
programming algorithms for detecting separated data in binary logistic regression models,
DPhil thesis, Oxford. Kosmidis, I. and Firth, D. (2021), Biometrika 108, 71-82.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy  # scipy.stats loads on first use (scipy's lazy submodules)
from scipy import linalg, optimize, special

from .clusters import cluster_values
from .formula import Factor, ParsedFormula, Var, build_design, parse_formula_cached
from .panel import panel_index

__all__ = ["DiscreteModelResult", "SeparationError", "fit_discrete_model"]

_MODELS = ("logit", "probit", "mnlogit")
_PENALTIES = (None, "firth")


class SeparationError(ValueError):
    """Complete or quasi-complete separation: some coefficients have no finite ML estimate.

    ``terms`` names the regressors of the separating combination, ``outcome_values`` the
    outcome values it predicts perfectly, ``rows`` the number of rows perfectly predicted.
    """

    def __init__(self, message: str, terms=(), outcome_values=(), rows: int = 0):
        super().__init__(message)
        self.terms = tuple(terms)
        self.outcome_values = tuple(outcome_values)
        self.rows = int(rows)


@dataclass(frozen=True, eq=False)
class DiscreteModelResult:
    """Result of :func:`fit_discrete_model` (read-only; pandas objects are handed out as copies).

    ``params``, ``std_errors``, ``pvalues``: Series by term (binary models) or DataFrames
    (terms x outcome levels, multinomial); ``cov``: covariance of the coefficients (for the
    multinomial logit stacked level by level); ``marginal_effects``: DataFrame with ``dydx``,
    ``std_error``, ``z``, ``pvalue``, ``ci_lower``, ``ci_upper``, ``kind`` (``"derivative"``
    or ``"discrete change"``) by variable (multinomial: by (outcome level, variable));
    ``interaction_effects``: Ai-Norton average interaction effects of two-variable
    interactions (binary models; empty otherwise); ``llf``: the log-likelihood at the
    estimates (``penalized_llf``: the penalized one, Firth); ``levels``: the outcome levels (reference
    first for mnlogit, ``[other, outcome_level]`` for a binary model of a categorical column).
    """

    model: str
    formula: str
    _params: pd.Series | pd.DataFrame
    _std_errors: pd.Series | pd.DataFrame
    _pvalues: pd.Series | pd.DataFrame
    _marginal_effects: pd.DataFrame
    nobs: int
    llf: float
    pseudo_rsquared: float
    levels: tuple
    cov_type: str
    _dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple = ()
    _cov: pd.DataFrame = field(default_factory=pd.DataFrame)
    _interaction_effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_entities: int = 0
    cluster: str | None = None
    penalty: str | None = None
    name: str | None = None
    y_name: str = ""
    penalized_llf: float | None = None

    @property
    def params(self):
        return self._params.copy()

    @property
    def std_errors(self):
        return self._std_errors.copy()

    @property
    def pvalues(self):
        return self._pvalues.copy()

    @property
    def cov(self) -> pd.DataFrame:
        return self._cov.copy()

    @property
    def marginal_effects(self) -> pd.DataFrame:
        return self._marginal_effects.copy()

    @property
    def interaction_effects(self) -> pd.DataFrame:
        return self._interaction_effects.copy()

    @property
    def dropped(self) -> pd.DataFrame:
        return self._dropped.copy()

    @property
    def estimator(self) -> str:
        return f"{self.model} (Firth)" if self.penalty == "firth" else self.model

    @property
    def cov_label(self) -> str:
        if self.penalty == "firth":
            return "penalized information"
        if self.cov_type == "clustered":
            return f"clustered by {self.cluster}"
        return "robust (HC0)" if self.cov_type == "robust" else "unadjusted"

    def conf_int(self, level: float = 0.95):
        """Wald intervals ``params -/+ z se`` (``lower``, ``upper``; for mnlogit a column pair per level)."""
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1); found {level!r}")
        c = float(scipy.stats.norm.ppf(0.5 + level / 2.0))
        if isinstance(self._params, pd.DataFrame):
            return pd.concat({"lower": self._params - c * self._std_errors,
                              "upper": self._params + c * self._std_errors}, axis=1)
        return pd.DataFrame({"lower": self._params - c * self._std_errors,
                             "upper": self._params + c * self._std_errors})

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """One row per term (mnlogit: per (outcome, term)): ``estimate``, ``std_error``, ``tstat`` (z),
        ``pvalue``, ``ci_lower``, ``ci_upper`` of the coefficients, the columns of
        :meth:`models.PanelModelResult.to_frame`."""
        ci = self.conf_int(level)
        parts = {"estimate": self._params, "std_error": self._std_errors, "tstat": self._params / self._std_errors,
                 "pvalue": self._pvalues, "ci_lower": ci["lower"], "ci_upper": ci["upper"]}
        if isinstance(self._params, pd.DataFrame):
            parts = {k: v.rename_axis(index="term", columns="outcome").T.stack() for k, v in parts.items()}
        return pd.DataFrame(parts)

    def summary(self) -> str:
        lines = [f"{self.estimator} model: {self.formula}", f"  observations: {self.nobs}    log-likelihood: "
                 f"{self.llf:.4f}    pseudo R-squared: {self.pseudo_rsquared:.4f}    errors: {self.cov_label}",
                 f"  outcome levels: {', '.join(map(str, self.levels))}", "", "Coefficients:",
                 pd.concat({"estimate": self._params, "std_error": self._std_errors, "pvalue": self._pvalues}, axis=1)
                 .to_string(float_format=lambda v: f"{v:.6g}"), "", "Average marginal effects:",
                 self._marginal_effects.to_string(float_format=lambda v: f"{v:.6g}")]
        if len(self._interaction_effects):
            lines += ["", "Average interaction effects (Ai and Norton 2003):",
                      self._interaction_effects.to_string(float_format=lambda v: f"{v:.6g}")]
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"DiscreteModelResult({self.formula!r}, model={self.estimator!r}, nobs={self.nobs})"


# ------------------------------------------------------------------------------ link functions
def _cdf(model: str, eta: np.ndarray) -> np.ndarray:
    return special.expit(eta) if model == "logit" else special.ndtr(eta)


def _pdf(model: str, eta: np.ndarray) -> np.ndarray:
    if model == "logit":
        p = special.expit(eta)
        return p * (1.0 - p)
    return np.exp(-0.5 * eta * eta) / np.sqrt(2.0 * np.pi)


def _dpdf(model: str, eta: np.ndarray) -> np.ndarray:
    """Derivative of the density: ``f (1 - 2F)`` (logit), ``-eta phi`` (probit)."""
    if model == "logit":
        p = special.expit(eta)
        return p * (1.0 - p) * (1.0 - 2.0 * p)
    return -eta * _pdf(model, eta)


def _softmax(X: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Probabilities of the multinomial logit; ``B`` (K x J-1), the reference level's zeros added."""
    eta = np.column_stack([np.zeros(len(X)), X @ B])
    return special.softmax(eta, axis=1)


# ------------------------------------------------------------------------------ separation
def _separation_direction(A: np.ndarray, n_vars: int):
    """Konis's (2007) linear program: max 1'A beta subject to A beta >= 0, -1 <= beta <= 1.

    Returns the direction (``None`` when only ``beta = 0`` is feasible up to rounding) and
    ``A beta`` per constraint.
    """
    scale = np.abs(A).max(axis=0)
    scale[scale == 0] = 1.0
    As = A / scale
    res = optimize.linprog(-As.sum(axis=0), A_ub=-As, b_ub=np.zeros(len(As)), bounds=[(-1.0, 1.0)] * n_vars,
                           method="highs")
    if res.status != 0 or -res.fun <= 1e-7 * max(1.0, np.sqrt(len(As))):
        return None, None
    beta = res.x
    beta[np.abs(beta) < 1e-9] = 0.0
    return beta / scale, As @ beta


def _sides(beta: np.ndarray, names: list[str], X: np.ndarray) -> tuple[list[tuple[str, int]], list[str]]:
    """The separating direction in words: [(condition, +1 | -1)] for the sides ``x'beta > 0`` and ``< 0``.

    One regressor: ``d = 1`` for a 0/1 column, ``x > 2.5`` otherwise; several: ``0.5 x - z > 0.3``.
    """
    terms = [n for n, b in zip(names, beta, strict=True) if b != 0.0 and n != "Intercept"]
    b0 = float(beta[names.index("Intercept")]) if "Intercept" in names else 0.0
    if len(terms) == 1:
        j = names.index(terms[0])
        if np.isin(X[:, j], (0.0, 1.0)).all():
            out = [(f"{terms[0]} = {v}", int(np.sign(b0 + beta[j] * v))) for v in (1, 0)]
            return [o for o in out if o[1] != 0], terms
        thr = -b0 / beta[j]
        up = 1 if beta[j] > 0 else -1
        return [(f"{terms[0]} > {thr:.6g}", up), (f"{terms[0]} < {thr:.6g}", -up)], terms
    norm = max(abs(beta[names.index(t)]) for t in terms)
    combo = " ".join(f"{'+' if beta[names.index(t)] >= 0 else '-'} {abs(beta[names.index(t)]) / norm:.4g} {t}"
                     for t in terms).lstrip("+ ")
    return [(f"{combo} > {-b0 / norm:.6g}", 1), (f"{combo} < {-b0 / norm:.6g}", -1)], terms


def _check_separation_binary(X: np.ndarray, y: np.ndarray, names: list[str], yname: str, levels) -> None | tuple:
    ystar = 2.0 * y - 1.0
    A = ystar[:, None] * X
    beta, _ = _separation_direction(A, X.shape[1])
    if beta is None:
        return None
    # name the simplest cause: a single regressor (with the intercept) that separates, if any
    icpt = names.index("Intercept") if "Intercept" in names else None
    best = None
    for j in range(X.shape[1]):
        if j == icpt:
            continue
        cols = [j] if icpt is None else [icpt, j]
        b_j, fit_j = _separation_direction(A[:, cols], len(cols))
        if b_j is not None and (best is None or (fit_j > 1e-7).sum() > best[1]):
            full = np.zeros(X.shape[1])
            full[cols] = b_j
            best = (full, int((fit_j > 1e-7).sum()))
    if best is not None:
        beta = best[0]
        j = int(np.flatnonzero([b != 0 and k != icpt for k, b in enumerate(beta)])[0])
        if icpt is not None and not np.isin(X[:, j], (0.0, 1.0)).all():
            # threshold in the middle of the gap between the two outcomes (on the boundary if none)
            up = beta[j] > 0
            lo = X[y == (0 if up else 1), j].max(initial=-np.inf)
            hi = X[y == (1 if up else 0), j].min(initial=np.inf)
            thr = hi if not np.isfinite(lo) else lo if not np.isfinite(hi) else 0.5 * (lo + hi)
            beta[icpt] = -thr * beta[j]
    eta = X @ beta
    tol = 1e-7 * np.abs(eta).max()
    sides, terms = _sides(beta, names, X)
    parts, values, rows = [], [], 0
    for cond, sign in sides:
        on = eta > tol if sign > 0 else eta < -tol
        if on.any():
            lv = levels[1] if sign > 0 else levels[0]
            parts.append(f"where {cond} the outcome is always {lv!r} ({int(on.sum())} rows)")
            values.append(lv)
            rows += int(on.sum())
    kind = "complete" if rows == len(y) else "quasi-complete"
    msg = (f"{kind} separation of {yname}: {' and '.join(parts)}, so the maximum-likelihood coefficients of "
           f"{', '.join(terms) or 'the intercept'} are infinite (Albert and Anderson 1984). Drop or merge the "
           f"regressor or the categories involved, or fit with penalty='firth' (Firth 1993).")
    return msg, terms, values, rows


def _check_separation_mnlogit(X: np.ndarray, codes: np.ndarray, names: list[str], yname: str, levels) -> None | tuple:
    """Albert and Anderson's conditions: (b_{y_i} - b_k)'x_i >= 0 for every row and every k != y_i."""
    n, K = X.shape
    J = len(levels)
    blocks = []
    for k in range(J):
        rows = codes != k
        M = np.zeros((int(rows.sum()), K * (J - 1)))
        own = codes[rows]
        for m in range(1, J):
            sel = own == m
            M[sel, (m - 1) * K:m * K] += X[rows][sel]
        if k >= 1:
            M[:, (k - 1) * K:k * K] -= X[rows]
        blocks.append((M, np.flatnonzero(rows)))
    A = np.vstack([b[0] for b in blocks])
    beta, fitted = _separation_direction(A, K * (J - 1))
    if beta is None:
        return None
    B = beta.reshape(J - 1, K).T
    involved = [(levels[m + 1], [names[j] for j in range(K) if B[j, m] != 0 and names[j] != "Intercept"])
                for m in range(J - 1) if np.any(B[:, m] != 0)]
    row_ids = np.concatenate([b[1] for b in blocks])
    rows = np.unique(row_ids[fitted > 1e-7])
    values = sorted({levels[c] for c in codes[rows]}, key=list(levels).index)
    terms = list(dict.fromkeys(t for _, ts in involved for t in ts))
    where = "; ".join(f"{lv!r} against {levels[0]!r} by {', '.join(ts) or 'the intercept'}" for lv, ts in involved)
    msg = (f"quasi-complete separation of {yname}: {len(rows)} rows are perfectly predicted (outcome values "
           f"{', '.join(map(repr, values))}); the maximum-likelihood coefficients of {where} are infinite "
           f"(Albert and Anderson 1984). Drop or merge the regressors or the outcome levels involved; "
           f"penalty='firth' is offered for logit and probit only.")
    return msg, terms, values, len(rows)


# ------------------------------------------------------------------------------ Firth
def _firth(X: np.ndarray, y: np.ndarray, model: str, maxiter: int = 200, tol: float = 1e-9):
    """Jeffreys-prior penalized likelihood ``l(b) + 0.5 log|X'WX|`` by Newton steps on the modified score.

    Modified score (Firth 1993; Kosmidis and Firth 2009): ``X' [(y - p) f / (p (1 - p)) +
    0.5 h (w'/w)]`` with ``w = f^2 / (p (1 - p))`` and ``h`` the leverages of ``W^(1/2) X``;
    for the logit ``X' [y - p + h (1/2 - p)]``. Steps of at most 5 per coefficient and step
    halving on the penalized log-likelihood, as ``logistf``.
    """
    def parts(b):
        eta = X @ b
        if model == "logit":
            logp, log1mp = special.log_expit(eta), special.log_expit(-eta)
            p = special.expit(eta)
            w = p * (1.0 - p)
            resid = y - p
            dlogw = 1.0 - 2.0 * p
        else:
            logp, log1mp = special.log_ndtr(eta), special.log_ndtr(-eta)
            logphi = -0.5 * eta * eta - 0.5 * np.log(2.0 * np.pi)
            r1, r0 = np.exp(logphi - logp), np.exp(logphi - log1mp)  # phi/Phi, phi/(1-Phi)
            w = np.exp(2.0 * logphi - logp - log1mp)
            resid = y * r1 - (1.0 - y) * r0
            dlogw = -2.0 * eta - r1 + r0
        info = X.T @ (w[:, None] * X)
        chol = linalg.cho_factor(info)
        llf = float(np.sum(y * logp + (1.0 - y) * log1mp))
        pen = llf + float(np.sum(np.log(np.diag(chol[0]))))
        return info, chol, resid, w, dlogw, llf, pen

    b = np.zeros(X.shape[1])
    info, chol, resid, w, dlogw, llf, pen = parts(b)
    for n_iter in range(1, maxiter + 1):  # noqa: B007 (the count is returned)
        h = w * np.einsum("ij,ji->i", X, linalg.cho_solve(chol, X.T))
        score = X.T @ (resid + 0.5 * h * dlogw)
        step = linalg.cho_solve(chol, score)
        big = np.abs(step).max()
        if big > 5.0:
            step *= 5.0 / big
        for _ in range(30):
            new = parts(b + step)
            if new[-1] >= pen - 1e-12:
                break
            step *= 0.5
        b = b + step
        info, chol, resid, w, dlogw, llf, pen = new
        if np.abs(step).max() < tol and np.abs(score).max() < tol * max(1.0, len(y)):
            break
    else:
        raise RuntimeError(f"the Firth {model} did not converge in {maxiter} iterations")
    return b, linalg.cho_solve(chol, np.eye(len(b))), llf, pen, n_iter


# ------------------------------------------------------------------------------ marginal effects
@dataclass
class _Var:
    label: str
    factors: list          # the Factor objects of this variable in the formula
    categorical: bool
    levels: list           # categorical: levels (reference first); numeric: []
    binary: bool = False


def _variables(form: ParsedFormula) -> list[_Var]:
    out: dict = {}
    for term in form.terms:
        for f in term:
            key = (f.expr, f.categorical)
            if key not in out:
                out[key] = _Var(f.render(), [], f.categorical, [])
            if f not in out[key].factors:
                out[key].factors.append(f)
    return list(out.values())


class _Margins:
    """AMEs and their delta-method gradients on the estimation sample."""

    def __init__(self, data, form, pidx, keep, intercept, model, params, cov):
        self.data, self.form, self.pidx, self.keep = data, form, pidx, keep
        self.intercept, self.model = intercept, model
        self.b = params            # binary: (K,); mnlogit: (K, J-1)
        self.cov = cov
        self.X = self.design({})

    def design(self, at: dict) -> np.ndarray:
        d = build_design(self.data, self.form, self.pidx.entity, self.pidx.year, self.form.intercept, at=at)
        X = d.X[self.keep]
        return np.column_stack([np.ones(len(X)), X]) if self.intercept else X

    def at(self, var: _Var, value) -> dict:
        return {f: value for f in var.factors}

    # ---------------------------------------------------------------- binary models
    def change(self, X1, X0):
        """mean F(X1 b) - F(X0 b) and its gradient (binary); per outcome level (mnlogit)."""
        if self.model == "mnlogit":
            return self._mn_change(X1, X0)
        e1, e0 = X1 @ self.b, X0 @ self.b
        val = np.mean(_cdf(self.model, e1) - _cdf(self.model, e0))
        grad = (_pdf(self.model, e1) @ X1 - _pdf(self.model, e0) @ X0) / len(X1)
        return np.atleast_1d(val), grad[None, :]

    def derivative(self, D):
        """mean f(x'b) (d'b) and its gradient mean[f d + f' (d'b) x] (binary); per level (mnlogit)."""
        if self.model == "mnlogit":
            return self._mn_derivative(D)
        e, db = self.X @ self.b, D @ self.b
        f, df = _pdf(self.model, e), _dpdf(self.model, e)
        val = np.mean(f * db)
        grad = (f @ D + (df * db) @ self.X) / len(D)
        return np.atleast_1d(val), grad[None, :]

    # ---------------------------------------------------------------- multinomial logit
    def _mn_change(self, X1, X0):
        K, J1 = self.b.shape
        P1, P0 = _softmax(X1, self.b), _softmax(X0, self.b)
        val = (P1 - P0).mean(axis=0)
        grad = np.zeros((J1 + 1, K * J1))
        for m in range(J1 + 1):
            for m_l in range(1, J1 + 1):
                d = float(m == m_l)
                g = (P1[:, m] * (d - P1[:, m_l])) @ X1 - (P0[:, m] * (d - P0[:, m_l])) @ X0
                grad[m, (m_l - 1) * K:m_l * K] = g / len(X1)
        return val, grad

    def _mn_derivative(self, D):
        K, J1 = self.b.shape
        X = self.X
        P = _softmax(X, self.b)
        c = np.column_stack([np.zeros(len(D)), D @ self.b])
        cbar = (P * c).sum(axis=1)
        s = P * (c - cbar[:, None])          # dP_m/dv per row
        val = s.mean(axis=0)
        grad = np.zeros((J1 + 1, K * J1))
        for m in range(J1 + 1):
            for m_l in range(1, J1 + 1):
                d = float(m == m_l)
                g = ((d - P[:, m_l]) * s[:, m] - P[:, m] * s[:, m_l]) @ X + (P[:, m] * (d - P[:, m_l])) @ D
                grad[m, (m_l - 1) * K:m_l * K] = g / len(D)
        return val, grad

    # ---------------------------------------------------------------- per variable
    def effects(self, var: _Var):
        """[(label, kind, values by outcome, gradient rows)] for one variable."""
        if var.categorical:
            ref = var.levels[0]
            X0 = self.design(self.at(var, ref))
            out = []
            for lv in var.levels[1:]:
                val, grad = self.change(self.design(self.at(var, lv)), X0)
                out.append((f"{var.label}[T.{lv}]", "discrete change", val, grad))
            return out
        X1, X0 = self.design(self.at(var, 1.0)), self.design(self.at(var, 0.0))
        if var.binary:
            val, grad = self.change(X1, X0)
            return [(var.label, "discrete change", val, grad)]
        val, grad = self.derivative(X1 - X0)
        return [(var.label, "derivative", val, grad)]

    def cross(self, u: _Var, lu, v: _Var, lv):
        """Ai-Norton average interaction effect of u and v (binary models), as a function of b.

        Both discrete: ``mean [F(11) - F(10) - F(01) + F(00)]``; u continuous, v discrete:
        ``mean [f(x_1'b) d_1'b - f(x_0'b) d_0'b]`` (the slope in u at the two values of v);
        both continuous: ``mean [f'(x'b) (d_u'b) (d_v'b) + f(x'b) d_uv'b]``.
        """
        m, X = self.model, self.X
        cont_u, cont_v = not (u.categorical or u.binary), not (v.categorical or v.binary)
        if cont_v and not cont_u:
            u, lu, v, lv = v, lv, u, lu
            cont_u, cont_v = True, False
        pu = (u.levels[0], lu) if u.categorical else (0.0, 1.0)
        pv = (v.levels[0], lv) if v.categorical else (0.0, 1.0)
        Xs = {(a, c): self.design({**self.at(u, pu[a]), **self.at(v, pv[c])}) for a in (0, 1) for c in (0, 1)}
        if not cont_u:
            return lambda b: np.mean(_cdf(m, Xs[1, 1] @ b) - _cdf(m, Xs[1, 0] @ b) - _cdf(m, Xs[0, 1] @ b)
                                     + _cdf(m, Xs[0, 0] @ b))
        if not cont_v:
            Xv = [self.design(self.at(v, pv[c])) for c in (0, 1)]
            Du = [Xs[1, c] - Xs[0, c] for c in (0, 1)]
            return lambda b: np.mean(_pdf(m, Xv[1] @ b) * (Du[1] @ b) - _pdf(m, Xv[0] @ b) * (Du[0] @ b))
        Du = self.design(self.at(u, 1.0)) - self.design(self.at(u, 0.0))
        Dv = self.design(self.at(v, 1.0)) - self.design(self.at(v, 0.0))
        Duv = Xs[1, 1] - Xs[1, 0] - Xs[0, 1] + Xs[0, 0]
        return lambda b: np.mean(_dpdf(m, X @ b) * (Du @ b) * (Dv @ b) + _pdf(m, X @ b) * (Duv @ b))


def _numeric_grad(fn, b: np.ndarray) -> np.ndarray:
    g = np.empty(len(b))
    for j in range(len(b)):
        h = 1e-6 * max(1.0, abs(b[j]))
        e = np.zeros(len(b))
        e[j] = h
        g[j] = (fn(b + e) - fn(b - e)) / (2.0 * h)
    return g


def _effect_frame(rows, index, kinds=None) -> pd.DataFrame:
    est = np.array([r[0] for r in rows], dtype=float)
    se = np.array([r[1] for r in rows], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    p = 2.0 * scipy.stats.norm.sf(np.abs(z))
    c = float(scipy.stats.norm.ppf(0.975))
    out = pd.DataFrame({"dydx": est, "std_error": se, "z": z, "pvalue": p, "ci_lower": est - c * se,
                        "ci_upper": est + c * se}, index=index)
    if kinds is not None:
        out["kind"] = pd.array(kinds, dtype="str")
    return out


def _marginal_effects(mg: _Margins, variables: list[_Var], model: str, levels) -> pd.DataFrame:
    V = mg.cov
    rows, keys, kinds = [], [], []
    for var in variables:
        for label, kind, val, grad in mg.effects(var):
            se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", grad, V, grad), 0.0, None))
            for m in range(len(val)):
                rows.append((val[m], se[m]))
                keys.append((levels[m], label) if model == "mnlogit" else label)
                kinds.append(kind)
    if model == "mnlogit":
        order = sorted(range(len(keys)), key=lambda i: list(levels).index(keys[i][0]))
        rows, keys, kinds = [rows[i] for i in order], [keys[i] for i in order], [kinds[i] for i in order]
        index = pd.MultiIndex.from_tuples(keys, names=["outcome", "term"])
    else:
        index = pd.Index(keys, name="term")
    return _effect_frame(rows, index, kinds)


def _interaction_effects(mg: _Margins, form: ParsedFormula, variables: list[_Var]) -> tuple[pd.DataFrame, list]:
    by_factor = {}
    for v in variables:
        for f in v.factors:
            by_factor[f] = v
    rows, keys, kinds, notes = [], [], [], []
    seen = set()
    for term in form.terms:
        vs = list(dict.fromkeys(id(by_factor[f]) for f in term))
        if len(vs) < 2:
            continue
        if len(vs) > 2:
            notes.append(f"no interaction effect reported for the {len(vs)}-way term "
                         f"{':'.join(f.render() for f in term)} (two-way interactions only)")
            continue
        u, v = by_factor[term[0]], next(by_factor[f] for f in term if by_factor[f] is not by_factor[term[0]])
        if (id(u), id(v)) in seen:
            continue
        seen.add((id(u), id(v)))
        for lu in (u.levels[1:] if u.categorical else [None]):
            for lv in (v.levels[1:] if v.categorical else [None]):
                fn = mg.cross(u, lu, v, lv)
                val = fn(mg.b)
                g = _numeric_grad(fn, mg.b)
                rows.append((val, float(np.sqrt(max(g @ mg.cov @ g, 0.0)))))
                lab_u = f"{u.label}[T.{lu}]" if u.categorical else u.label
                lab_v = f"{v.label}[T.{lv}]" if v.categorical else v.label
                # named as the design names the product: numeric factors first
                keys.append(f"{lab_v}:{lab_u}" if u.categorical and not v.categorical else f"{lab_u}:{lab_v}")
                du, dv = not (u.categorical or u.binary), not (v.categorical or v.binary)
                kinds.append("cross-partial derivative" if du and dv else
                             "difference of derivatives" if du or dv else "double difference")
    if not rows:
        return pd.DataFrame(), notes
    frame = _effect_frame(rows, pd.Index(keys, name="term"), kinds).rename(columns={"dydx": "effect"})
    return frame, notes


# ------------------------------------------------------------------------------ fit
def _check_options(model: str, cov_type: str, penalty: str | None) -> None:
    if model not in _MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, _MODELS))}; found {model!r}")
    if cov_type not in ("clustered", "robust", "unadjusted"):
        raise ValueError(f"cov_type must be 'clustered', 'robust' or 'unadjusted'; found {cov_type!r}")
    if penalty not in _PENALTIES:
        raise ValueError(f"penalty must be None or 'firth'; found {penalty!r}")
    if penalty == "firth" and model == "mnlogit":
        raise ValueError("penalty='firth' is offered for model='logit' and 'probit' only, not for the multinomial "
                         "logit; merge the outcome levels involved or fit binary models of each level")
    if penalty == "firth" and cov_type != "unadjusted":
        raise ValueError(f"penalty='firth' reports the inverse penalized information as covariance (Wald errors, as "
                         f"R's logistf with pl=FALSE); set cov_type='unadjusted' (found {cov_type!r})")


def _outcome(ycol: pd.Series, yname: str, model: str, outcome_level, reference) -> tuple[np.ndarray, list[str]]:
    """The outcome coded as numbers (NaN where missing) and its levels.

    Multinomial: level codes ``0 .. J-1``, the reference level first; binary: 0/1 (a numeric
    0/1 column, or ``== outcome_level`` of a categorical one)."""
    y_missing = ycol.isna().to_numpy()
    if model == "mnlogit":
        cat = pd.Categorical(ycol)
        levels = [str(c) for c in cat.categories]
        codes = np.asarray(cat.codes)
        if reference is not None:
            if str(reference) not in levels:
                raise ValueError(f"reference {reference!r} is not a level of {yname}: {levels}")
            order = [levels.index(str(reference))] + [i for i in range(len(levels)) if levels[i] != str(reference)]
            remap = np.empty(len(levels), int)
            remap[order] = np.arange(len(levels))
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
            levels = [levels[i] for i in order]
        if len(levels) < 3:
            raise ValueError(f"mnlogit needs an outcome with 3 or more levels; {yname} has {levels}")
        return codes.astype(float), levels
    if pd.api.types.is_numeric_dtype(ycol.dtype) and not isinstance(ycol.dtype, pd.CategoricalDtype):
        y = ycol.to_numpy(dtype=float, na_value=np.nan)
        ok = np.isnan(y) | np.isin(y, (0.0, 1.0))
        if not ok.all():
            raise ValueError(f"a binary outcome must be 0/1; {yname} has {int((~ok).sum())} other values")
        return y, ["0", "1"]
    if outcome_level is None:
        raise ValueError(f"{yname} is not numeric: give outcome_level (one of {sorted(map(str, ycol.dropna().unique()))})")
    vals = ycol.astype(str).to_numpy()
    if str(outcome_level) not in set(vals[~y_missing]):
        raise ValueError(f"outcome_level {outcome_level!r} does not occur in {yname}")
    return np.where(y_missing, np.nan, (vals == str(outcome_level)).astype(float)), [f"not {outcome_level}",
                                                                                   str(outcome_level)]


def _check_outcome_levels(yk: np.ndarray, levels: list[str], yname: str, model: str) -> None:
    present = np.unique(yk)
    if len(present) < (3 if model == "mnlogit" else 2):
        shown = [levels[int(c)] for c in present]
        raise ValueError(f"the outcome {yname} takes the single value {shown} in the {len(yk)} rows used (or fewer "
                         f"than 3 levels for mnlogit): there is nothing to model")
    if model == "mnlogit" and len(present) < len(levels):
        raise ValueError(f"outcome levels {[lv for i, lv in enumerate(levels) if i not in present]} of {yname} do not "
                         f"occur in the rows used; drop them from the data")


def _rows_used(data: pd.DataFrame, design, yname: str, cluster: str | None):
    """``(keep, reasons, cluster values)``: rows with the outcome, every regressor and, for a
    cluster column, its value; rows without a cluster are dropped and reported, as in the linear
    models (never a cluster of their own)."""
    y_missing = data[yname].isna().to_numpy()
    reasons = design.reasons.copy()
    reasons[y_missing & (reasons == "")] = f"missing {yname}"
    keep = ~(design.missing | y_missing)
    if cluster is None or cluster in ("entity", "time"):
        return keep, reasons, None
    clusters = cluster_values(data, cluster)
    miss = clusters.isna().to_numpy()
    reasons[miss & keep] = f"missing cluster {cluster}"
    return keep & ~miss, reasons, clusters


def _groups(cluster: str, pidx, clusters: pd.Series | None, keep: np.ndarray) -> np.ndarray:
    """Cluster codes of the rows used: towns, years, or the values of a column."""
    if cluster == "entity":
        return pidx.entity[keep]
    if cluster == "time":
        return pidx.time[keep]
    return pd.factorize(clusters.to_numpy()[keep])[0]


def _maximum_likelihood(X: np.ndarray, yk: np.ndarray, names: list[str], model: str, kw: dict):
    """statsmodels' ``Logit``/``Probit``/``MNLogit`` fit: ``(params, cov, llf, pseudo R2, notes)``."""
    # statsmodels loads when a discrete model is first fitted, not with the package
    from statsmodels.discrete.discrete_model import Logit, MNLogit, Probit

    cls = {"logit": Logit, "probit": Probit, "mnlogit": MNLogit}[model]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cls(yk, pd.DataFrame(X, columns=names)).fit(disp=0, maxiter=200, tol=1e-12, **kw)
    notes = []
    if not res.mle_retvals.get("converged", True):
        notes.append(f"the {model} maximization did not converge in 200 iterations: "
                     + "; ".join(str(w.message) for w in caught)[:300])
    return np.asarray(res.params), np.asarray(res.cov_params()), float(res.llf), float(res.prsquared), notes


def _penalized(X: np.ndarray, yk: np.ndarray, model: str):
    """Firth's fit: ``(params, cov, llf, pseudo R2 of the unpenalized llf, penalized llf, notes)``."""
    b, V, llf, pen, iters = _firth(X, yk, model)
    note = (f"Firth penalized likelihood: log-likelihood {llf:.6f}, penalized {pen:.6f}, {iters} iterations; "
            f"Wald errors from the penalized information (logistf pl=FALSE)")
    ybar = yk.mean()
    llnull = len(yk) * (ybar * np.log(ybar) + (1 - ybar) * np.log(1 - ybar))
    return b, V, llf, 1.0 - llf / llnull, pen, [note]


def _coefficients(params_vec: np.ndarray, V: np.ndarray, names: list[str], levels: list[str], model: str):
    """``(params, std_errors, pvalues, cov)`` as Series by term (binary) or DataFrames terms x levels
    (mnlogit, covariance stacked level by level), and the coefficients for the margins."""
    K = len(names)
    if model == "mnlogit":
        cols = levels[1:]
        B = params_vec.reshape(K, len(cols))
        se_mat = np.sqrt(np.clip(np.diag(V), 0, None)).reshape(len(cols), K).T
        cov_idx = pd.MultiIndex.from_product([cols, names], names=["outcome", "term"])
        return (pd.DataFrame(B, index=names, columns=cols), pd.DataFrame(se_mat, index=names, columns=cols),
                pd.DataFrame(2 * scipy.stats.norm.sf(np.abs(B / se_mat)), index=names, columns=cols),
                pd.DataFrame(V, index=cov_idx, columns=cov_idx), B)
    se_vec = np.sqrt(np.clip(np.diag(V), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        pvec = 2 * scipy.stats.norm.sf(np.abs(params_vec / se_vec))
    cov_idx = pd.Index(names, name="term")
    return (pd.Series(params_vec, index=names, name="estimate"), pd.Series(se_vec, index=names, name="std_error"),
            pd.Series(pvec, index=names, name="pvalue"), pd.DataFrame(V, index=cov_idx, columns=cov_idx), params_vec)


def _effects(data, rhs: ParsedFormula, pidx, keep, model: str, levels, b, V):
    """Average marginal effects of every variable of the formula on the estimation sample, and
    (binary models) the Ai-Norton interaction effects with their notes."""
    variables = _variables(rhs)
    mg = _Margins(data, rhs, pidx, keep, rhs.intercept, model, b, V)
    for var in variables:
        if var.categorical:
            var.levels = [lv for lv in _factor_levels(data, var.factors[0], pidx, keep)]
        else:
            vals = _factor_values(data, var.factors[0], pidx)[keep]
            var.binary = bool(np.isin(vals, (0.0, 1.0)).all())
    me = _marginal_effects(mg, variables, model, levels)
    if model == "mnlogit":
        return me, pd.DataFrame(), []
    inter, notes = _interaction_effects(mg, rhs, variables)
    return me, inter, notes


def fit_discrete_model(data: pd.DataFrame, formula: str, model: str = "logit", outcome_level=None,
                       reference=None, cov_type: str = "clustered", cluster: str = "entity",
                       penalty: str | None = None, name: str | None = None) -> DiscreteModelResult:
    """Fit a logit, probit or multinomial logit of a town outcome.

    Parameters
    ----------
    data : DataFrame
        Indexed by (town, year).
    formula : str
        ``outcome ~ regressors``; the outcome is a 0/1 column, or a categorical / string
        column (with ``outcome_level`` for binary models).
    model : {"logit", "probit", "mnlogit"}
    outcome_level : optional
        Binary models of a categorical outcome: the level coded 1 (e.g. ``"stagnating"``).
    reference : optional
        Multinomial logit: the reference level (default: the first sorted level).
    cov_type : {"clustered", "robust", "unadjusted"}
        Clustered by ``cluster`` (``"entity"``, ``"time"`` or a column), White (HC0), or the
        inverse information matrix. ``penalty="firth"`` needs ``"unadjusted"`` (the inverse
        penalized information, as ``logistf``).
    penalty : {None, "firth"}
        ``"firth"``: Jeffreys-prior penalized likelihood (Firth 1993) for logit and probit;
        finite estimates under separation. Without it, separation raises
        :class:`SeparationError`.
    name : str, optional
        Column title in :func:`models.compare` and legend entry in :func:`models.coefplot`.

    Returns
    -------
    DiscreteModelResult
        Coefficients, average marginal effects (discrete changes for 0/1 variables and
        ``C()`` levels, derivatives otherwise, of the whole expression a variable enters) with
        delta-method errors, Ai-Norton interaction effects; see the module docstring.
    """
    _check_options(model, cov_type, penalty)
    pidx = panel_index(data)
    form = parse_formula_cached(formula)
    if not isinstance(form.lhs, Var):
        raise ValueError(f"the outcome of a discrete model must be a column; found {form.lhs.render()!r}")
    yname = form.lhs.name
    if yname not in data.columns:
        raise ValueError(f"outcome column {yname!r} is not in the data")
    # evaluate the regressors with a stand-in outcome (the year, never missing)
    rhs = replace(form, lhs=Var(pidx.names[1]))
    design = build_design(data, rhs, pidx.entity, pidx.year, form.intercept)
    y, levels = _outcome(data[yname], yname, model, outcome_level, reference)
    keep, reasons, clusters = _rows_used(data, design, yname, cluster if cov_type == "clustered" else None)
    X, names = design.X[keep], list(design.names)
    if form.intercept:
        X, names = np.column_stack([np.ones(len(X)), X]), ["Intercept", *names]
    yk = y[keep]
    if not keep.any():
        raise ValueError(f"no row of the data has every variable of {formula!r}")
    _check_outcome_levels(yk, levels, yname, model)

    # separation (Konis 2007; Albert and Anderson 1984) before any fit
    if model == "mnlogit":
        sep = _check_separation_mnlogit(X, yk.astype(int), names, yname, levels)
    else:
        sep = _check_separation_binary(X, yk, names, yname, levels)
    notes = []
    if sep is not None:
        if penalty != "firth":
            raise SeparationError(sep[0], terms=sep[1], outcome_values=sep[2], rows=sep[3])
        notes.append(sep[0].split(", so the maximum")[0] + "; Firth's penalized estimates are finite")
    pen = None
    if penalty == "firth":
        params_vec, V, llf, prsq, pen, more = _penalized(X, yk, model)
    else:
        kw = ({"cov_type": "cluster", "cov_kwds": {"groups": _groups(cluster, pidx, clusters, keep)}}
              if cov_type == "clustered" else {"cov_type": "HC0"} if cov_type == "robust" else {})
        params_vec, V, llf, prsq, more = _maximum_likelihood(X, yk, names, model, kw)
    notes += more
    V.setflags(write=False)
    params, se, pv, cov, b_for_margins = _coefficients(params_vec, V, names, levels, model)
    me, inter, more = _effects(data, rhs, pidx, keep, model, levels, b_for_margins, V)
    notes += more

    drop = ~keep
    dropped = pd.DataFrame({"reason": pd.array(reasons[drop], dtype="str")}, index=data.index[drop])
    if drop.any():
        notes.insert(0, f"{int(drop.sum())} rows not used; see result.dropped")
    return DiscreteModelResult(model=model, formula=formula, _params=params, _std_errors=se, _pvalues=pv,
                               _marginal_effects=me, nobs=int(keep.sum()), llf=llf,
                               pseudo_rsquared=float(prsq), levels=tuple(levels), cov_type=cov_type,
                               _dropped=dropped, notes=tuple(notes), _cov=cov, _interaction_effects=inter,
                               n_entities=int(len(np.unique(pidx.entity[keep]))),
                               cluster=cluster if cov_type == "clustered" else None, penalty=penalty, name=name,
                               y_name=yname, penalized_llf=pen if penalty == "firth" else None)


def _one_factor(data, f: Factor, pidx):
    one = ParsedFormula(lhs=Var(pidx.names[1]), terms=((f,),), intercept=False, text=f.render())
    return build_design(data, one, pidx.entity, pidx.year, False)


def _factor_values(data, f: Factor, pidx) -> np.ndarray:
    """The values of a numeric factor in every row."""
    return _one_factor(data, f, pidx).X[:, 0]


def _factor_levels(data, f: Factor, pidx, keep) -> list[str]:
    """The levels of a categorical factor (reference first) that occur in the estimation sample."""
    d = _one_factor(data, f, pidx)   # one indicator per level, named C(g)[level]
    levels = [n[len(f.render()) + 1:-1] for n in d.names]
    used = d.X[keep].any(axis=0)
    return [lv for lv, u in zip(levels, used, strict=True) if u or lv == levels[0]]
