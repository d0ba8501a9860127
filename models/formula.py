"""Wilkinson formulas of panel models: parsing and the design matrix.

Grammar (a small, explicit subset of R / patsy formulas)::

    y ~ x1 + x2            terms separated by '+'
    x1:x2                  interaction (product of the factors)
    a*b                    a + b + a:b
    - 1, + 0               no intercept (+ 1 keeps it, the default)
    log(x), log1p(x), sqrt(x)
    lag(x, k)              x of the same town k calendar years earlier (k >= 1, default 1)
    W(x)                   spatial lag of x within each year, sum_j w_ij x_j (needs spatial weights)
    C(g), C(g, ref="v")    categorical factor (reference level: the first sorted level, or ``ref``)
    y ~ x | a + b^c        absorbed effects (fixest's syntax): columns, ``^`` interacts columns
    y ~ x | a | w ~ z1 + z2   and endogenous regressors ``w`` instrumented by ``z1``, ``z2``
    y ~ x | w ~ z1 + z2    instrumental variables without absorbed effects

Names are data columns or the levels of the (``town_id``, ``year``) index. Functions nest
(``log(lag(x, 2))``, ``lag(log(x), 1)``, ``W(log(x))``, ``lag(W(x), 1)``). A name is a Python
identifier, letters of any alphabet included (``численность``, ``log(зарплата)``); any other
column name is quoted as in patsy and formulaic, ``Q("численность, чел.")`` (or with single
quotes), wherever a variable can stand (``log(Q("x y"))``, ``C(Q("тип"))``, ``lag(Q("x y"), 2)``,
the instrumental-variables part). Terms render (and design columns are named) as written:
``Q("...")`` is kept, so a rendered term parses back to the same term.

``W(x)`` (the SLX model; LeSage and Pace 2009, sec. 2.3; Halleck Vega and Elhorst 2015) is the
spatial lag ``(W x)_it = sum_j w_ij x_jt`` of ``x`` over the towns of the same year, with the
:class:`features.spatial.SpatialWeights` passed as ``weights`` (``fit_panel_model(data, spec,
weights=W)``). Every town of the data must be in the weights (else :class:`FormulaError` naming
the towns); the lag of a town-year is missing (the row dropped, reason ``missing W(x)``) when a
neighbour has no value of ``x`` that year (not in the data, or missing): restrict the weights to
the towns of the data with ``W.reindex(towns)`` to lag over the towns present only.

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
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .absorb import effect_columns

__all__ = ["Design", "Factor", "FormulaError", "ParsedFormula", "build_design", "no_reasons", "parse_formula", "parse_formula_cached",
           "parse_model", "parse_terms", "term_names"]

_FUNCS = ("log", "log1p", "sqrt", "lag", "W")


class FormulaError(ValueError):
    """A formula that cannot be parsed or evaluated on the data."""


# ------------------------------------------------------------------------------ expressions
@dataclass(frozen=True)
class Var:
    name: str
    #: written as ``Q("name")``: rendered so (a name that is not an identifier always is)
    quoted: bool = field(default=False, compare=False)

    def render(self) -> str:
        if not self.quoted and _BARE.fullmatch(self.name):
            return self.name
        return f'Q("{self.name}")' if '"' not in self.name else f"Q('{self.name}')"

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
    """A parsed formula: outcome ``lhs``, regressors ``terms``, ``intercept``; and, from the parts
    after ``|`` (fixest's syntax), the absorbed effects ``absorb`` (names such as ``"town_id"``,
    ``"region^year"``), the endogenous regressors ``endog`` and their instruments
    ``instruments`` (terms)."""

    lhs: Var | Func
    terms: tuple[Term, ...]
    intercept: bool
    text: str
    absorb: tuple[str, ...] = ()
    endog: tuple[Term, ...] = ()
    instruments: tuple[Term, ...] = ()

    @property
    def variables(self) -> tuple[str, ...]:
        """Every data name the formula reads (outcome, regressors, endogenous regressors and
        instruments; the columns of absorbed effects are :attr:`absorb_variables`)."""
        out = list(self.lhs.names())
        for t in self.terms + self.endog + self.instruments:
            for f in t:
                out.extend(f.expr.names())
        return tuple(dict.fromkeys(out))

    @property
    def absorb_variables(self) -> tuple[str, ...]:
        """The columns (or index levels) of the absorbed effects."""
        return tuple(dict.fromkeys(c.strip() for e in self.absorb for c in e.split("^")))

    @property
    def regressor_names(self) -> tuple[str, ...]:
        """The terms of the right-hand side as written (``"x1"``, ``"x1:C(type)"``)."""
        return tuple(_render_term(t) for t in self.terms)

    @property
    def endog_names(self) -> tuple[str, ...]:
        return tuple(_render_term(t) for t in self.endog)

    @property
    def instrument_names(self) -> tuple[str, ...]:
        return tuple(_render_term(t) for t in self.instruments)


def _render_term(term: Term) -> str:
    return ":".join(f.render() for f in term)


# ------------------------------------------------------------------------------ parser
#: a bare name: letters of any alphabet, digits (not first), '_' and '.'
_BARE = re.compile(r"[^\W\d][\w.]*")
_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[^\W\d][\w.]*)|(?P<str>'[^']*'|\"[^\"]*\")"
                    r"|(?P<op>[~+\-*:(),=]))")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _mask_quoted(text: str) -> str:
    """``text`` with the inside of every quoted string replaced by ``_`` (same length), so that
    ``~``, ``|`` and ``+`` in a quoted column name do not split the formula; raises
    :class:`FormulaError` on a quote that is not closed."""
    masked = _QUOTED.sub(lambda m: m.group()[0] + "_" * (len(m.group()) - 2) + m.group()[0], text)
    for q in "'\"":
        if q in _QUOTED.sub("", text):
            at = _QUOTED.sub(lambda m: "_" * len(m.group()), text).index(q)
            raise FormulaError(f"formula {text!r}: the quote {q} at position {at} is not closed; quote a column "
                               f"name as Q(\"name\") or Q('name')")
    return masked


def _split(text: str, sep: str) -> list[str]:
    """``text.split(sep)`` outside quoted strings."""
    masked, out, start = _mask_quoted(text), [], 0
    for i, ch in enumerate(masked):
        if ch == sep:
            out.append(text[start:i])
            start = i + 1
    return [*out, text[start:]]


def _tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    _mask_quoted(text)
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

    # expression: NAME | Q("name") | func(expr[, k])
    def expr(self) -> Var | Func:
        kind, val = self.take(kind="name")
        if val == "Q" and self.peek()[1] == "(":
            self.take("(")
            if self.peek()[0] != "str":
                self.error(f"Q() quotes a column name, as Q(\"численность\"); found {self.peek()[1]!r}")
            name = self.take()[1][1:-1]
            if not name:
                self.error("Q() quotes a column name; found an empty one")
            self.take(")")
            return Var(name, quoted=True)
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


def _dedup(terms) -> tuple[Term, ...]:
    seen: list[Term] = []
    keys = []
    for t in terms:
        key = frozenset(t)
        if key not in keys:
            keys.append(key)
            seen.append(t)
    return tuple(seen)


def _effects_part(part: str, text: str) -> tuple[str, ...]:
    """``"town_id + region^year"`` -> ``("town_id", "region^year")``."""
    names = []
    for item in part.split("+"):
        try:
            names.append("^".join(effect_columns(item)))
        except ValueError:
            raise FormulaError(f"formula {text!r}: the part after '|' lists absorbed effects, columns or "
                               f"interactions a^b joined by '+' (as 'town_id + region^year'); found {item.strip()!r}"
                               ) from None
    if len(set(names)) != len(names):
        raise FormulaError(f"formula {text!r}: an absorbed effect is listed twice in {part.strip()!r}")
    return tuple(names)


def _side(text: str, side: str, what: str) -> tuple[Term, ...]:
    """Terms of one side of the instrumental-variables part (no intercept)."""
    if not side.strip():
        raise FormulaError(f"formula {text!r}: the instrumental-variables part 'endog ~ z1 + z2' has no {what}")
    p = _Parser(side)
    terms, intercept = p.rhs()
    if intercept is not None:
        raise FormulaError(f"formula {text!r}: the {what} of the instrumental-variables part cannot set the "
                           "intercept (0, 1, - 1)")
    return _dedup(terms)


def parse_terms(text: str) -> tuple[Term, ...]:
    """Terms of a right-hand side without intercept, e.g. ``"x2"`` or ``"log(z1) + z2"`` (the
    endogenous regressors and instruments of a specification)."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError(f"expected a term such as 'x2' or 'log(z1)'; found {text!r}")
    return _side(text, text, "terms")


def term_names(text: str) -> tuple[str, ...]:
    """The terms of ``text`` as the design names them: ``"log( z1 ) + z2"`` -> ``("log(z1)", "z2")``."""
    return tuple(_render_term(t) for t in parse_terms(text))


def parse_formula(text: str) -> ParsedFormula:
    """Parse ``"y ~ x1 + x2"`` into a :class:`ParsedFormula` (terms deduplicated, in order).

    fixest's parts after ``|`` are read too: ``y ~ x | town_id + region^year`` (absorbed effects),
    ``y ~ x | fe | w ~ z1 + z2`` and ``y ~ x | w ~ z1 + z2`` (endogenous ``w``, instruments
    ``z1``, ``z2``; the part with ``~`` comes last).
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula needs exactly one '~', as in 'y ~ x1 + x2'; found {text!r}")
    main, *rest = _split(text, "|")
    if _mask_quoted(main).count("~") != 1:
        raise FormulaError(f"a formula needs exactly one '~' before any '|', as in 'y ~ x1 + x2' or "
                           f"'y ~ x1 | town_id + year'; found {text!r}")
    absorb: tuple[str, ...] = ()
    endog: tuple[Term, ...] = ()
    instruments: tuple[Term, ...] = ()
    for i, part in enumerate(rest):
        if "~" in _mask_quoted(part):
            if i != len(rest) - 1 or _mask_quoted(part).count("~") != 1:
                raise FormulaError(f"formula {text!r}: the instrumental-variables part 'endog ~ z1 + z2' comes "
                                   "last, after the absorbed effects, with one '~'")
            left, right = _split(part, "~")
            endog, instruments = _side(text, left, "endogenous regressors"), _side(text, right, "instruments")
        elif i > 0 or not part.strip():
            raise FormulaError(f"formula {text!r}: after '|' come the absorbed effects ('| town_id + year') and "
                               "then the instrumental-variables part ('| w ~ z1 + z2'); found "
                               f"{'an empty part' if not part.strip() else repr(part.strip())}")
        else:
            absorb = _effects_part(part, text)
    p = _Parser(main)
    p.text = text
    lhs = p.expr()
    p.take("~")
    terms, intercept = p.rhs()
    return ParsedFormula(lhs=lhs, terms=_dedup(terms), intercept=True if intercept is None else intercept, text=text,
                         absorb=absorb, endog=endog, instruments=instruments)


@functools.lru_cache(maxsize=256)
def parse_formula_cached(text: str) -> ParsedFormula:
    """:func:`parse_formula`, remembered for the last 256 texts (a parsed formula is immutable):
    the estimators and the specification tests parse the same formula many times."""
    return parse_formula(text)


@functools.lru_cache(maxsize=256)
def parse_model(formula: str, absorb: tuple = (), endog: tuple = (), instruments: tuple = ()) -> ParsedFormula:
    """The formula of a specification with the parts it gives apart: ``absorb`` (effect names),
    ``endog`` and ``instruments`` (terms as text) replace those written after ``|``
    (:class:`models.PanelModelSpec` has already checked that both agree)."""
    form = parse_formula_cached(formula)
    return replace(form, absorb=tuple(absorb), endog=_dedup(t for e in endog for t in parse_terms(e)),
                   instruments=_dedup(t for z in instruments for t in parse_terms(z)))


# ------------------------------------------------------------------------------ evaluation
@dataclass
class Design:
    """The evaluated formula: outcome, regressors and rows that cannot be used.

    ``X`` has no intercept column (the estimators add it); ``missing`` flags rows with a
    missing or invalid value, ``reasons`` says why (one string per row, ``""`` when none; read-only
    when no row is missing, :func:`no_reasons`: copy it before writing); ``endog`` and
    ``instruments`` hold the columns of the instrumental-variables part (``None`` without one).
    """

    y: np.ndarray
    X: np.ndarray
    names: list[str]
    y_name: str
    missing: np.ndarray
    reasons: np.ndarray
    endog: np.ndarray | None = None
    endog_names: list[str] = field(default_factory=list)
    instruments: np.ndarray | None = None
    instrument_names: list[str] = field(default_factory=list)


class _Evaluator:
    def __init__(self, data: pd.DataFrame, entity: np.ndarray, year: np.ndarray, weights=None):
        self.data = data
        self.entity = entity
        self.year = year
        self.weights = weights
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
                                   f"write C({e.render()}) to use it as a categorical")
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            out = (v, np.zeros(len(v), bool))
        else:
            v, bad = self.numeric(e.arg)
            if e.func == "lag":
                out = (self._lag(v, e.k), self._lag(bad.astype(float), e.k) == 1.0)
            elif e.func == "W":
                out = self._spatial_lag(v, bad, e)
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

    def _spatial_lag(self, v: np.ndarray, bad: np.ndarray, e: Func) -> tuple[np.ndarray, np.ndarray]:
        """``sum_j w_ij v_jt`` within each year (NaN when a neighbour has no value that year); a
        lag is invalid when a neighbour's value is."""
        w = self.weights
        if w is None:
            raise FormulaError(f"{e.render()} needs spatial weights: pass them to the fit, as "
                               "fit_panel_model(data, spec, weights=W) with W a features.spatial.SpatialWeights")
        towns = self.data.index.get_level_values(0)
        pos = w.ids.get_indexer(towns)
        if (pos < 0).any():
            absent = pd.unique(np.asarray(towns[pos < 0]))
            raise FormulaError(f"{e.render()}: {len(absent)} town(s) of the data are not in the spatial weights "
                               f"({w.kind or 'weights'} over {w.n} towns): {list(absent[:10])}"
                               + (" ..." if len(absent) > 10 else "") + "; build the weights over every town of "
                               "the data, or drop those towns")
        y0 = int(self.year.min()) if len(self.year) else 0
        col = (self.year - y0).astype(np.int64)
        span = int(col.max()) + 1 if len(col) else 0
        grid = np.full((w.n, span), np.nan)
        grid[pos, col] = v
        flags = np.zeros((w.n, span))
        flags[pos, col] = bad
        lag = w.sparse @ grid
        return lag[pos, col], (w.sparse @ flags)[pos, col] > 0

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


def no_reasons(n: int) -> np.ndarray:
    """``n`` empty reasons (no row dropped) as a read-only broadcast view of one ``""``: no memory
    per row until a row is dropped; whoever writes a reason copies the array first."""
    return np.broadcast_to(np.array("", dtype=object), (n,))


def build_design(data: pd.DataFrame, formula: ParsedFormula, entity: np.ndarray, year: np.ndarray,
                 intercept_in_model: bool, at: dict | None = None, weights=None) -> Design:
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
    weights : features.spatial.SpatialWeights, optional
        The spatial weights of ``W(x)`` terms.
    """
    ev = _Evaluator(data, entity, year, weights)
    at = at or {}
    n = len(data)
    y, ybad = ev.numeric(formula.lhs)
    y_name = formula.lhs.render()
    missing_by: dict[str, np.ndarray] = {y_name: np.isnan(y)}
    invalid_by: dict[str, np.ndarray] = {y_name: ybad}
    seen = (missing_by, invalid_by)
    cols, names = _columns(ev, formula.terms, intercept_in_model, at, seen)
    iv = [_columns(ev, part, intercept_in_model, at, seen) for part in (formula.endog, formula.instruments)]
    X = np.column_stack(cols) if cols else np.empty((n, 0))
    missing = np.zeros(n, bool)
    for m in missing_by.values():
        missing |= m
    reasons = no_reasons(n)
    if missing.any():
        reasons = reasons.copy()
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
    endog, instruments = ((np.column_stack(c), nm) if c else (None, []) for c, nm in iv)
    return Design(y=y, X=X, names=names, y_name=y_name, missing=missing, reasons=reasons, endog=endog[0],
                  endog_names=endog[1], instruments=instruments[0], instrument_names=instruments[1])


def _columns(ev: _Evaluator, terms: tuple[Term, ...], intercept_in_model: bool, at: dict, seen: tuple,
             ) -> tuple[list[np.ndarray], list[str]]:
    """The columns of ``terms`` and their names; records the rows each factor makes missing
    (or invalid) in ``seen``."""
    missing_by, invalid_by = seen
    n = len(ev.entity)
    term_keys = {frozenset(t) for t in terms}
    cols: list[np.ndarray] = []
    names: list[str] = []
    for term in terms:
        num = [f for f in term if not f.categorical]
        cats = [f for f in term if f.categorical]
        base = None
        num_names = []
        for f in num:
            v, bad = (np.full(n, float(at[f])), np.zeros(n, bool)) if f in at else ev.numeric(f.expr)
            label = f.render()
            missing_by.setdefault(label, np.isnan(v))
            invalid_by.setdefault(label, bad)
            base = v if base is None else base * v  # 1 * v is v: no product for a lone factor
            num_names.append(label)
        pieces = [(np.ones(n) if base is None else base, num_names)]
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
    return cols, names
