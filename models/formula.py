"""Wilkinson formulas of panel models: parsing and the design matrix.

Grammar (a small, explicit subset of R / patsy formulas)::

    y ~ x1 + x2            terms separated by '+'
    x1:x2                  interaction (product of the factors)
    a*b                    a + b + a:b
    - 1, + 0               no intercept (+ 1 keeps it, the default)
    log(x), log1p(x), sqrt(x)
    lag(x, k)              x of the same town k calendar years earlier (k >= 1, default 1)
    C(g), C(g, ref="v")    categorical factor (reference level: the first sorted level, or ``ref``)

Names are data columns or the levels of the (``town_id``, ``year``) index. Functions nest
(``log(lag(x, 2))``, ``lag(log(x), 1)``).

Coding of categoricals follows R and patsy: a categorical factor of a term is coded with
treatment contrasts (the reference level dropped) when the term without that factor is
already in the model (the intercept for a main effect ``C(g)``), and with one indicator per
level otherwise. So ``x:C(type)`` gives one slope of ``x`` per type, while
``x + x:C(type)`` gives the slope of the reference type and the differences from it.
Column names follow patsy: ``C(type)[T.b]`` (treatment) and ``x:C(type)[b]`` (full).

A value that a function cannot take (``log`` of a non-positive number, ``sqrt`` of a
negative one) or a lag that is not in the data makes the row missing; the estimators count
and report such rows with the reason.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Design", "Factor", "FormulaError", "ParsedFormula", "build_design", "parse_formula", "parse_formula_cached"]

_FUNCS = ("log", "log1p", "sqrt", "lag")


class FormulaError(ValueError):
    """A formula that cannot be parsed or evaluated on the data."""


# ------------------------------------------------------------------------------ expressions
@dataclass(frozen=True)
class Var:
    name: str

    def render(self) -> str:
        return self.name

    def names(self) -> tuple[str, ...]:
        return (self.name,)


@dataclass(frozen=True)
class Func:
    func: str
    arg: Var | Func
    k: int = 1

    def render(self) -> str:
        if self.func == "lag":
            return f"lag({self.arg.render()}, {self.k})"
        return f"{self.func}({self.arg.render()})"

    def names(self) -> tuple[str, ...]:
        return self.arg.names()


@dataclass(frozen=True)
class Factor:
    """A factor of a term: numeric expression or categorical column."""

    expr: Var | Func
    categorical: bool = False
    ref: str | None = None

    def render(self) -> str:
        if self.categorical:
            return f"C({self.expr.render()})"
        return self.expr.render()


Term = tuple[Factor, ...]


@dataclass(frozen=True)
class ParsedFormula:
    lhs: Var | Func
    terms: tuple[Term, ...]
    intercept: bool
    text: str

    @property
    def variables(self) -> tuple[str, ...]:
        """Every data name the formula reads."""
        out = list(self.lhs.names())
        for t in self.terms:
            for f in t:
                out.extend(f.expr.names())
        return tuple(dict.fromkeys(out))


# ------------------------------------------------------------------------------ parser
_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<str>'[^']*'|\"[^\"]*\")"
                    r"|(?P<op>[~+\-*:(),=]))")


def _tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FormulaError(f"cannot read formula {text!r} at position {pos}: {text[pos:pos + 12]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None, kind=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            want = value or kind
            raise FormulaError(f"formula {self.text!r}: expected {want!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def error(self, msg):
        raise FormulaError(f"formula {self.text!r}: {msg}")

    # expression: NAME | func(expr[, k])
    def expr(self) -> Var | Func:
        kind, val = self.take(kind="name")
        if self.peek()[1] == "(":
            if val not in _FUNCS:
                self.error(f"unknown function {val!r}; functions are {', '.join(_FUNCS)} and C()")
            self.take("(")
            arg = self.expr()
            k = 1
            if self.peek()[1] == ",":
                if val != "lag":
                    self.error(f"{val}() takes one argument")
                self.take(",")
                k = int(float(self.take(kind="num")[1]))
                if k < 1:
                    self.error("lag(x, k) needs k >= 1")
            self.take(")")
            return Func(val, arg, k)
        return Var(val)

    def atom(self):
        """Returns ('intercept', 0|1) or ('terms', [Term])."""
        kind, val = self.peek()
        if kind == "num":
            self.take()
            if val not in ("0", "1"):
                self.error(f"a number in a formula can only be 0 or 1 (the intercept); found {val}")
            return ("intercept", int(val))
        if kind == "name" and val == "C" and self.toks[self.i + 1][1] == "(":
            self.take()
            self.take("(")
            e = self.expr()
            ref = None
            if self.peek()[1] == ",":
                self.take(",")
                if self.peek()[1] == "ref":
                    self.take()
                    self.take("=")
                ktok = self.take()
                ref = ktok[1].strip("'\"")
            self.take(")")
            return ("terms", [(Factor(e, True, ref),)])
        if kind == "name":
            return ("terms", [(Factor(self.expr()),)])
        if val == "(":
            self.take("(")
            terms, icpt = self.rhs(inner=True)
            self.take(")")
            if icpt is not None:
                self.error("the intercept cannot be set inside parentheses")
            return ("terms", terms)
        self.error(f"unexpected {val!r}")

    def interaction(self):
        kind, first = self.atom()
        if kind == "intercept":
            if self.peek()[1] in (":", "*"):
                self.error("the intercept cannot be interacted")
            return kind, first
        terms = first
        while self.peek()[1] == ":":
            self.take(":")
            k2, other = self.atom()
            if k2 == "intercept":
                self.error("the intercept cannot be interacted")
            terms = [_merge(a, b) for a in terms for b in other]
        return "terms", terms

    def product(self):
        kind, terms = self.interaction()
        if kind == "intercept":
            return kind, terms
        while self.peek()[1] == "*":
            self.take("*")
            k2, other = self.interaction()
            if k2 == "intercept":
                self.error("the intercept cannot be interacted")
            terms = terms + other + [_merge(a, b) for a in terms for b in other]
        return "terms", terms

    def rhs(self, inner=False):
        terms: list[Term] = []
        intercept = None
        sign = "+"
        if self.peek()[1] == "-":
            self.take("-")
            sign = "-"
        while True:
            kind, val = self.product()
            if kind == "intercept":
                intercept = (val == 1) if sign == "+" else (val == 0)
            elif sign == "-":
                self.error("only the intercept can be removed with '-' (write '- 1')")
            else:
                terms.extend(val)
            nxt = self.peek()[1]
            if nxt in ("+", "-"):
                sign = self.take()[1]
                continue
            if nxt is None or (inner and nxt == ")"):
                break
            self.error(f"unexpected {nxt!r}")
        return terms, intercept


def _merge(a: Term, b: Term) -> Term:
    out = list(a)
    for f in b:
        if f not in out:
            out.append(f)
    return tuple(out)


def parse_formula(text: str) -> ParsedFormula:
    """Parse ``"y ~ x1 + x2"`` into a :class:`ParsedFormula` (terms deduplicated, in order)."""
    if not isinstance(text, str) or text.count("~") != 1:
        raise FormulaError(f"a formula needs exactly one '~', as in 'y ~ x1 + x2'; found {text!r}")
    p = _Parser(text)
    lhs = p.expr()
    p.take("~")
    terms, intercept = p.rhs()
    seen: list[Term] = []
    keys = []
    for t in terms:
        key = frozenset(t)
        if key not in keys:
            keys.append(key)
            seen.append(t)
    return ParsedFormula(lhs=lhs, terms=tuple(seen), intercept=True if intercept is None else intercept, text=text)


@functools.lru_cache(maxsize=256)
def parse_formula_cached(text: str) -> ParsedFormula:
    """:func:`parse_formula`, remembered for the last 256 texts (a parsed formula is immutable):
    the estimators and the specification tests parse the same formula many times."""
    return parse_formula(text)


# ------------------------------------------------------------------------------ evaluation
@dataclass
class Design:
    """The evaluated formula: outcome, regressors and rows that cannot be used.

    ``X`` has no intercept column (the estimators add it); ``missing`` flags rows with a
    missing or invalid value, ``reasons`` says why (one string per missing row).
    """

    y: np.ndarray
    X: np.ndarray
    names: list[str]
    y_name: str
    missing: np.ndarray
    reasons: np.ndarray


class _Evaluator:
    def __init__(self, data: pd.DataFrame, entity: np.ndarray, year: np.ndarray):
        self.data = data
        self.entity = entity
        self.year = year
        self.idx_names = [n for n in data.index.names if n is not None]
        self.cache: dict = {}
        self._dense = None

    def raw(self, name: str):
        if name in self.data.columns:
            return self.data[name]
        if name in self.idx_names:
            return pd.Series(self.data.index.get_level_values(name), index=self.data.index)
        cols = list(map(str, self.data.columns))
        raise FormulaError(f"column {name!r} is not in the data; columns are {cols[:20]}"
                           + (" ..." if len(cols) > 20 else "") + f", index levels {self.idx_names}")

    def numeric(self, e: Var | Func) -> tuple[np.ndarray, np.ndarray]:
        """(values, invalid) where invalid marks values a function could not take."""
        key = ("num", e)
        if key in self.cache:
            return self.cache[key]
        if isinstance(e, Var):
            s = self.raw(e.name)
            if isinstance(s.dtype, pd.CategoricalDtype) or not (pd.api.types.is_numeric_dtype(s.dtype)
                                                                  or pd.api.types.is_bool_dtype(s.dtype)):
                raise FormulaError(f"column {e.name!r} is not numeric (dtype {s.dtype}); "
                                   f"write C({e.name}) to use it as a categorical")
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            out = (v, np.zeros(len(v), bool))
        else:
            v, bad = self.numeric(e.arg)
            if e.func == "lag":
                out = (self._lag(v, e.k), self._lag(bad.astype(float), e.k) == 1.0)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    if e.func == "log":
                        r = np.log(v)
                        inv = v <= 0
                    elif e.func == "log1p":
                        r = np.log1p(v)
                        inv = v <= -1
                    else:
                        r = np.sqrt(v)
                        inv = v < 0
                r = np.where(inv, np.nan, r)
                out = (r, bad | inv)
        self.cache[key] = out
        return out

    def _lag(self, v: np.ndarray, k: int) -> np.ndarray:
        if self._dense is None:
            y0 = int(self.year.min())
            span = int(self.year.max()) - y0 + 1
            pos = self.entity.astype(np.int64) * span + (self.year - y0)
            if len(np.unique(pos)) != len(pos):
                raise FormulaError("lag() needs one row per town and year; the index has duplicates")
            self._dense = (y0, span, pos)
        y0, span, pos = self._dense
        n_ent = int(self.entity.max()) + 1 if len(self.entity) else 0
        grid = np.full(n_ent * span, np.nan)
        grid[pos] = v
        src = pos - k
        ok = (self.year - k) >= y0
        out = np.full(len(v), np.nan)
        out[ok] = grid[src[ok]]
        return out

    def categorical(self, f: Factor) -> tuple[np.ndarray, list[str]]:
        """(codes with -1 for missing, levels as strings)."""
        key = ("cat", f.expr, f.ref)
        if key in self.cache:
            return self.cache[key]
        if isinstance(f.expr, Var):
            s = self.raw(f.expr.name)
        else:
            vals, _ = self.numeric(f.expr)
            s = pd.Series(vals)
        if isinstance(s.dtype, pd.CategoricalDtype):
            cat = s.cat.remove_unused_categories()
        else:
            cat = pd.Categorical(s.to_numpy())
        codes = np.asarray(cat.codes, dtype=np.int64)
        levels = [str(x) for x in cat.categories]
        if f.ref is not None:
            if f.ref not in levels:
                raise FormulaError(f"reference level {f.ref!r} of {f.render()} is not among its levels {levels}")
            j = levels.index(f.ref)
            order = [j] + [i for i in range(len(levels)) if i != j]
            remap = np.empty(len(levels), np.int64)
            remap[order] = np.arange(len(levels))
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
            levels = [levels[i] for i in order]
        out = (codes, levels)
        self.cache[key] = out
        return out


def build_design(data: pd.DataFrame, formula: ParsedFormula, entity: np.ndarray, year: np.ndarray,
                 intercept_in_model: bool, at: dict | None = None) -> Design:
    """Evaluate a parsed formula on a panel DataFrame.

    Parameters
    ----------
    data : DataFrame
        Rows of the panel; columns referenced by the formula.
    formula : ParsedFormula
    entity, year : ndarray
        Integer town codes and calendar years of the rows (for ``lag``).
    intercept_in_model : bool
        Whether the model has an intercept or absorbed effects (decides the coding of
        categorical main effects).
    at : dict, optional
        ``{Factor: value}``: evaluate the design with these factors set to ``value`` in every
        row (a number for a numeric factor, a level for a categorical one), every other
        factor as observed; only the factors themselves are replaced, not expressions built
        on the same column. Used for marginal effects (:mod:`models.discrete`).
    """
    ev = _Evaluator(data, entity, year)
    at = at or {}
    n = len(data)
    y, ybad = ev.numeric(formula.lhs)
    y_name = formula.lhs.render()
    missing_by: dict[str, np.ndarray] = {y_name: np.isnan(y)}
    invalid_by: dict[str, np.ndarray] = {y_name: ybad}
    term_keys = {frozenset(t) for t in formula.terms}
    cols: list[np.ndarray] = []
    names: list[str] = []
    for term in formula.terms:
        num = [f for f in term if not f.categorical]
        cats = [f for f in term if f.categorical]
        base = np.ones(n)
        num_names = []
        for f in num:
            v, bad = (np.full(n, float(at[f])), np.zeros(n, bool)) if f in at else ev.numeric(f.expr)
            label = f.render()
            missing_by.setdefault(label, np.isnan(v))
            invalid_by.setdefault(label, bad)
            base = base * v
            num_names.append(label)
        pieces = [(base, num_names)]
        for f in cats:
            codes, levels = ev.categorical(f)
            if f in at:
                codes = np.full(n, levels.index(str(at[f])), dtype=np.int64)
            label = f.render()
            missing_by.setdefault(label, codes < 0)
            invalid_by.setdefault(label, np.zeros(n, bool))
            rest = frozenset(g for g in term if g != f)
            margin_present = intercept_in_model if not rest else rest in term_keys
            keep = range(1, len(levels)) if margin_present else range(len(levels))
            new = []
            for vec, nm in pieces:
                for j in keep:
                    tag = f"{label}[T.{levels[j]}]" if margin_present else f"{label}[{levels[j]}]"
                    new.append((vec * (codes == j), [*nm, tag]))
            pieces = new
        for vec, nm in pieces:
            cols.append(vec)
            names.append(":".join(nm))
    X = np.column_stack(cols) if cols else np.empty((n, 0))
    missing = np.zeros(n, bool)
    for m in missing_by.values():
        missing |= m
    reasons = np.full(n, "", dtype=object)
    if missing.any():
        idx = np.flatnonzero(missing)
        parts = []
        for label, m in missing_by.items():
            inv = invalid_by[label][idx]
            miss = m[idx]
            parts.append(np.where(miss & inv, f"invalid {label}", np.where(miss, f"missing {label}", "")))
        joined = parts[0].astype(object)
        for p in parts[1:]:
            joined = np.where((joined != "") & (p != ""), joined + "; " + p, np.where(joined != "", joined, p))
        reasons[idx] = joined
    return Design(y=y, X=X, names=names, y_name=y_name, missing=missing, reasons=reasons)
