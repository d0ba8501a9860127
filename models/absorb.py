"""High-dimensional fixed effects: the absorbed factors, their singletons, the demeaning, and
the degrees of freedom they absorb.

An absorbed effect is a column of the data (or an index level) or an interaction of columns
written ``a^b`` (fixest's and pyfixest's syntax: one level per combination of ``a`` and ``b``
present in the data, e.g. ``region^year``). :func:`effect_codes` codes it, :class:`Factor`
holds the codes of the rows a model uses.

The demeaning (:func:`demean`) returns the residuals of the (weighted) least-squares projection
of every column on the dummies of all factors jointly, as fixest, reghdfe and pyhdfe do, by
alternating projections (Gauss-Seidel sweeps over the factors) with Irons-Tuck acceleration
(Irons and Tuck 1969, as fixest: Berge 2018). As fixest, the sweeps run on the coefficients of
the effects rather than on the rows: the coefficients of the factor with the most levels are
a closed-form function of the others (they are eliminated), and the cross tables of the
factors (``D_q' W D_h``, sparse, at most one cell per row) are formed once, so that a sweep
costs the cells of the tables, not a pass over the data; the rows are read twice, to form the
group sums and to subtract the fitted effects. One factor needs no iteration (group means).

Degrees of freedom (:func:`absorbed_dof`): by default as fixest and pyfixest, the levels of the
first factor plus, for every further factor, its levels less one (``rule="fixest"``); or as
reghdfe's ``dof(firstpair)`` (Correia 2016), the second factor's levels less the connected
components of the bipartite graph of the first two (Abowd, Creecy and Kramarz 2002;
``scipy.sparse.csgraph``), exact for two factors, and levels less one for every further factor
(``rule="firstpair"``). Both are conservative beyond two factors.

References: Berge (2018), "Efficient estimation of maximum likelihood models with multiple
fixed-effects: the R package FENmlm", CREA Discussion Paper 2018-13; Correia (2016), "A
feasible estimator for linear models with multi-way fixed effects" (reghdfe); Gaure (2013),
"OLS with multiple high dimensional category variables", Computational Statistics and Data
Analysis 66; Guimaraes and Portugal (2010), Stata Journal 10(4); Irons and Tuck (1969),
International Journal for Numerical Methods in Engineering 1(3); Abowd, Creecy and Kramarz
(2002), "Computing person and firm effects using linked longitudinal employer-employee data".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .exceptions import ConvergenceError
from .panel import compress_codes

__all__ = [
    "FE_DOF",
    "AbsorbedEffects",
    "Factor",
    "Projector",
    "absorbed_dof",
    "cross_cells",
    "demean",
    "effect_codes",
    "effect_columns",
    "make_factor",
    "singleton_rows",
    "subtract_effects",
]

FE_DOF = ("fixest", "firstpair")
_NAME = re.compile(r"[^\W\d][\w.]*")  # an identifier, letters of any alphabet


@dataclass(frozen=True)
class Factor:
    """One absorbed effect: ``codes`` (integers ``0 .. n_levels-1``, one per row: int64, or
    int32 as :func:`effect_codes` makes them to halve their memory, or the int8 / int16 codes of
    a pandas index level or categorical as they are; products of codes are formed in int64)
    and its name (e.g. ``"town_id"``, ``"region^year"``)."""

    name: str
    codes: np.ndarray
    n_levels: int


@dataclass(frozen=True, eq=False)
class AbsorbedEffects:
    """The absorbed effects of a sample and how to remove them: the ``factors`` (codes of the rows
    used), the convergence tolerance ``tol`` and sweep limit ``maxiter`` of :func:`demean`, and
    the rule ``dof`` of :func:`absorbed_dof`."""

    factors: tuple[Factor, ...]
    tol: float = 1e-8
    maxiter: int = 10_000
    dof: str = "fixest"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors)


# ------------------------------------------------------------------------------ coding
def effect_columns(name: str) -> tuple[str, ...]:
    """The columns of an effect: ``"region^year"`` -> ``("region", "year")``; raises
    ``ValueError`` for a name that is not columns joined by ``^``."""
    parts = tuple(p.strip() for p in str(name).split("^")) if isinstance(name, str) else ()
    if not parts or not all(_NAME.fullmatch(p) for p in parts) or len(set(parts)) != len(parts):
        raise ValueError(f"an absorbed effect is a column name or columns joined by '^' (an interaction, as "
                         f"'region^year'); found {name!r}")
    return parts


def _column_codes(data: pd.DataFrame, column: str, effect: str) -> tuple[np.ndarray, int]:
    """Codes (-1: missing) and number of levels of a column or index level of ``data``."""
    levels = [n for n in data.index.names if n]
    if column in data.columns:
        s = data[column]
        if isinstance(s.dtype, pd.CategoricalDtype):
            return _int_codes(s.cat.codes.to_numpy(), len(s.cat.categories)), len(s.cat.categories)
        codes, uniq = pd.factorize(s)
        return _int_codes(codes, len(uniq)), len(uniq)
    position = {"entity": 0, "time": 1}.get(column) if column not in levels else levels.index(column)
    if position is not None and isinstance(data.index, pd.MultiIndex) and position < data.index.nlevels:
        n = len(data.index.levels[position])
        return _int_codes(np.asarray(data.index.codes[position]), n), n
    cols = list(map(str, data.columns))
    raise ValueError(f"absorbed effect {effect!r}: column {column!r} is not in the data; columns are {cols[:20]}"
                     + (" ..." if len(cols) > 20 else "") + f", index levels {levels}")


def _int_codes(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """``codes`` as int32 when the levels fit (half the memory of int64 on a large panel);
    narrower signed codes (those of a pandas index or categorical: int8, int16) are kept as they
    are, without a copy."""
    if codes.dtype.kind == "i" and codes.dtype.itemsize <= 4:
        return codes
    return codes.astype(np.int32 if n_levels < 2**31 - 1 else np.int64, copy=False)


def effect_codes(data: pd.DataFrame, name: str) -> tuple[np.ndarray, int]:
    """Integer codes of an absorbed effect for every row of ``data`` (``-1`` where a column of
    the effect is missing) and its number of levels (levels present in ``data``).

    ``name`` is a column, an index level (``"entity"`` and ``"time"`` are the two levels of the
    panel index) or an interaction ``"a^b"`` (one level per combination present)."""
    columns = effect_columns(name)
    codes, n = _column_codes(data, columns[0], name)
    for column in columns[1:]:
        other, m = _column_codes(data, column, name)
        codes = np.where((codes < 0) | (other < 0), -1, codes.astype(np.int64) * m + other)
        codes, n = _compress(codes, n * m)
    return _compress(codes, n)


def _compress(codes: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Codes renumbered ``0 .. m-1`` over the levels present (``-1`` kept for missing)."""
    ok = codes >= 0
    valid = codes if ok.all() else codes[ok]
    if n <= 4 * len(codes) + 1024:
        new, used = compress_codes(valid, n)
        m = len(used)
    else:
        new, uniq = pd.factorize(valid)
        m = len(uniq)
    if valid is codes:
        return _int_codes(new, m), m
    out = np.full(len(codes), -1, np.int32 if m < 2**31 - 1 else np.int64)
    out[ok] = new
    return out, m


def make_factor(name: str, codes: np.ndarray, n_levels: int) -> Factor:
    """The :class:`Factor` of the rows used: ``codes`` (no missing) renumbered to the levels present."""
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"effect {name!r}: codes must be integers; found dtype {codes.dtype}")
    new, used = compress_codes(codes, n_levels)
    return Factor(name, new, len(used))


def singleton_rows(effects: Sequence[tuple[np.ndarray, int]], keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows left alone in a level of an effect, dropped repeatedly across all effects until none
    is left (as reghdfe and fixest; Correia 2015).

    ``effects``: ``(codes, n_levels)`` of every row (codes of the rows not kept are ignored);
    ``keep``: the rows kept so far. Returns the rows kept and, for each row, the position of
    the effect whose singleton dropped it (``-1``: not dropped as a singleton)."""
    keep = keep.copy()
    by = np.full(len(keep), -1, np.int64)
    clean = [False] * len(effects)
    while not all(clean):
        for q, (codes, n_levels) in enumerate(effects):
            if clean[q]:
                continue
            clean[q] = True
            counts = np.bincount(codes[keep], minlength=n_levels)
            single = keep & (counts[codes] == 1)
            if single.any():
                by[single] = q
                keep &= ~single
                clean = [False] * len(effects)
                clean[q] = True
    return keep, by


# ------------------------------------------------------------------------------ projection
def _crosstab(a: Factor, b: Factor, weights: np.ndarray | None) -> sp.csr_matrix:
    """``D_a' W D_b``: the (weighted) count of rows in each pair of levels, sparse.

    The pairs are coded ``a * L_b + b``: counted by ``bincount`` when the table is not much
    larger than the data, else by sorting the pair codes (``numpy.unique``); the table keeps
    only the pairs present, never one entry per row."""
    la, lb = a.n_levels, b.n_levels
    pair = a.codes.astype(np.int64) * lb + b.codes
    if la * lb <= 2 * len(pair) + 4096:
        cells = np.bincount(pair, weights=weights, minlength=la * lb)
        del pair  # each temporary goes as soon as the next is formed
        present = np.flatnonzero(cells)
        values = cells[present]
        del cells
    elif weights is None:
        present, counts = np.unique(pair, return_counts=True)
        del pair
        values = counts.astype(np.float64)
    else:
        present, inverse = np.unique(pair, return_inverse=True)
        del pair
        values = np.bincount(inverse, weights=weights, minlength=len(present))
    # ``present`` is sorted: the rows' pointers by binary search, no per-pair row array
    indptr = np.searchsorted(present, np.arange(la + 1, dtype=np.int64) * lb)
    indices = (present % lb).astype(np.int32 if lb < 2**31 - 1 else np.int64)
    return sp.csr_matrix((values, indices, indptr), shape=(la, lb))


def _level_sums(codes: np.ndarray, values: np.ndarray, n_levels: int) -> np.ndarray:
    """``np.bincount(codes, weights=values, minlength=n_levels)``, the same numbers (each level's
    values added one by one in the order of the rows), in blocks of rows: ``bincount`` copies
    codes narrower than ``intp`` (int32, int8) whole, one ``intp`` array of the size of the data,
    where ``np.add.at`` on a block copies only the block's."""
    out = np.zeros(n_levels)
    for start in range(0, len(codes), _BLOCK):  # a loop over blocks of rows, not rows
        rows = slice(start, start + _BLOCK)
        np.add.at(out, codes[rows], values[rows])
    return out


def _column_sums(columns: Sequence[np.ndarray], fs: Sequence[Factor], weights: np.ndarray | None,
                 ) -> tuple[list[np.ndarray], np.ndarray]:
    """The (weighted) sums of the ``columns`` (float64 vectors) over the levels of each factor,
    and each column's (weighted) standard deviation (1 for a constant column); one pass per
    column, a contiguous copy of one column at a time when it is strided."""
    sums = [np.empty((f.n_levels, len(columns))) for f in fs]
    sd = np.ones(len(columns))
    total = float(len(fs[0].codes) if fs else len(columns[0])) if weights is None else float(weights.sum())
    for j, col in enumerate(columns):  # a loop over columns, not rows
        col = np.ascontiguousarray(col) if weights is None else col  # col * weights is contiguous
        wcol = col if weights is None else col * weights
        for f, s_f in zip(fs, sums, strict=True):
            s_f[:, j] = _level_sums(f.codes, wcol, f.n_levels)
        mean = wcol.sum() / total
        del wcol
        d = col - mean
        del col
        var = (d @ d if weights is None else np.einsum("i,i,i->", d, weights, d)) / total  # no BLAS, no temporary
        del d  # before the next column's product is formed
        if var > 0:
            sd[j] = np.sqrt(var)
    return sums, sd


def _in_cell_order(a: np.ndarray, b: np.ndarray) -> bool:
    """The rows are sorted by ``a`` then ``b`` with one row per pair (a panel sorted by town and
    year): each row is its own cell of the cross table, in the table's order."""
    if len(a) < 2:
        return True
    return bool(((a[1:] > a[:-1]) | ((a[1:] == a[:-1]) & (b[1:] > b[:-1]))).all())


def cross_cells(factors: Sequence[Factor]) -> dict:
    """The cells of the cross tables ``D_q' W D_h`` of :class:`Projector` (its order of the
    factors), whatever the weights: for each pair of factors, the table's sparse structure
    (``indptr``, ``indices``: the pairs of levels present) and each row's cell (``None`` when the
    rows are the cells in order, :func:`_in_cell_order`). Formed once for a sample whose weights
    change (PPML's IRLS), so that each new table is one weighted ``bincount`` of the cells, or
    the weights themselves."""
    fs = [factors[q] for q in sorted(range(len(factors)), key=lambda q: -factors[q].n_levels)]
    out = {}
    for q in range(len(fs)):
        for h in range(q + 1, len(fs)):
            a, b = fs[q], fs[h]
            la, lb = a.n_levels, b.n_levels
            idx = np.int32 if lb < 2**31 - 1 else np.int64
            if _in_cell_order(a.codes, b.codes):
                indptr = np.searchsorted(a.codes, np.arange(la + 1))
                out[q, h] = (None, b.codes.astype(idx, copy=False), indptr, (la, lb))
                continue
            present, cell = np.unique(a.codes.astype(np.int64) * lb + b.codes, return_inverse=True)
            indptr = np.searchsorted(present, np.arange(la + 1, dtype=np.int64) * lb)
            out[q, h] = (cell.astype(np.int32 if len(present) < 2**31 - 1 else np.int64), (present % lb).astype(idx),
                         indptr, (la, lb))
    return out


def _cell_table(cells: tuple, weights: np.ndarray | None) -> sp.csr_matrix:
    """A cross table from its cells (:func:`cross_cells`): the (weighted) count of the rows of each
    cell, summed in the order of the rows as :func:`_crosstab` sums them."""
    cell, indices, indptr, shape = cells
    n_cells = len(indices)
    if cell is None:
        values = np.ones(n_cells) if weights is None else weights
    else:
        values = np.bincount(cell, weights=weights, minlength=n_cells).astype(np.float64, copy=False)
    return sp.csr_matrix((values, indices, indptr), shape=shape)


class Projector:
    """The projection on the dummies of several factors, set up once for a sample and weights.

    ``Projector(factors, weights).demean(M, tol, maxiter)`` is :func:`demean`; the cross
    tables it forms also give the connected components of two factors
    (:meth:`components`). The factor with the most levels comes first in the sweeps (its
    coefficients are eliminated), the others in the order given.
    """

    def __init__(self, factors: Sequence[Factor], weights: np.ndarray | None = None, cells: dict | None = None):
        """``cells``: the cells of the cross tables of these factors (:func:`cross_cells`), when
        they are reused with new weights (PPML's IRLS): the tables' values are then the weights
        summed into the cells, the same numbers as when the tables are formed from the codes."""
        self.factors = tuple(factors)
        n = len(self.factors[0].codes) if self.factors else 0
        for f in self.factors:
            if not isinstance(f, Factor) or len(f.codes) != n:
                raise ValueError("demean: every factor must be a Factor with one code per row")
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != (n,) or not (weights > 0).all() or not np.isfinite(weights).all():
                raise ValueError(f"demean: weights must be {n} positive finite numbers, one per row")
        self.weights = weights
        self.order = sorted(range(len(self.factors)), key=lambda q: -self.factors[q].n_levels)
        fs = [self.factors[q] for q in self.order]
        self._fs = fs
        counts = [np.bincount(f.codes, weights=weights, minlength=f.n_levels).astype(np.float64) for f in fs]
        self._counts = counts
        self._total = float(counts[0].sum()) if counts else 0.0
        self._inv = [np.divide(1.0, c, out=np.zeros_like(c), where=c > 0)[:, None] for c in counts]
        self._cross: dict = {}
        for q in range(len(fs)):
            for h in range(q + 1, len(fs)):
                c = _crosstab(fs[q], fs[h], weights) if cells is None else _cell_table(cells[q, h], weights)
                self._cross[q, h], self._cross[h, q] = c, c.T

    def components(self, a: int, b: int) -> int:
        """Connected components of the bipartite graph of factors ``a`` and ``b`` (positions in
        the factors given): levels linked when some row has both."""
        qa, qb = self.order.index(a), self.order.index(b)
        c = sp.coo_matrix(self._cross[qa, qb])
        la, lb = c.shape
        graph = sp.csr_matrix((np.ones(c.nnz), (c.row, c.col + la)), shape=(la + lb, la + lb))
        return int(connected_components(graph, directed=True, connection="weak")[0])

    def _sweep(self, beta: list, sums: list) -> tuple[list, np.ndarray]:
        """One Gauss-Seidel sweep: the eliminated coefficients ``alpha`` from ``beta``, then each
        other factor's coefficients given the latest of all others."""
        cross, inv = self._cross, self._inv
        acc = sums[0].copy()
        for h in range(1, len(sums)):
            acc -= cross[0, h] @ beta[h - 1]
        alpha = acc * inv[0]
        current = [alpha, *beta]
        for q in range(1, len(sums)):
            acc = sums[q] - cross[q, 0] @ alpha
            for h in range(1, len(sums)):
                if h != q:
                    acc -= cross[q, h] @ current[h]
            current[q] = acc * inv[q]
        return current[1:], alpha

    def _alpha(self, beta: list, sums: list) -> np.ndarray:
        acc = sums[0].copy()
        for h in range(1, len(sums)):
            acc -= self._cross[0, h] @ beta[h - 1]
        return acc * self._inv[0]

    def _solve(self, sums: list, scale: np.ndarray, tol: float, maxiter: int) -> list:
        """The coefficients of every factor but the first: sweeps with Irons-Tuck acceleration
        (as fixest) until no coefficient moves by more than ``tol * scale`` of its column."""
        sizes = np.cumsum([f.n_levels for f in self._fs[1:]])[:-1]
        k = sums[0].shape[1]
        x = np.zeros((int(sum(f.n_levels for f in self._fs[1:])), k))
        limit = tol * scale

        def step(state):
            new, _ = self._sweep(np.split(state, sizes, axis=0), sums)
            return np.concatenate(new, axis=0)

        gx, sweeps = step(x), 1
        while True:
            if np.abs(gx - x).max(axis=0, initial=0.0).__le__(limit).all():
                return np.split(gx, sizes, axis=0)
            if sweeps >= maxiter:
                self._not_converged(gx - x, sizes, scale, tol, maxiter)
            ggx, sweeps = step(gx), sweeps + 1
            d_gx = ggx - gx
            if np.abs(d_gx).max(axis=0, initial=0.0).__le__(limit).all():
                return np.split(ggx, sizes, axis=0)
            d2 = d_gx - gx + x
            den = np.einsum("ij,ij->j", d2, d2)
            coef = np.divide(np.einsum("ij,ij->j", d_gx, d2), den, out=np.zeros(k), where=den > 0)
            x = ggx - coef * d_gx
            gx, sweeps = step(x), sweeps + 1

    def _not_converged(self, change, sizes, scale, tol, maxiter):
        moving = [f.name for f, d in zip(self._fs[1:], np.split(change, sizes, axis=0), strict=True)
                  if (np.abs(d).max(axis=0, initial=0.0) > tol * scale).any()]
        worst = float((np.abs(change) / scale).max())
        raise ConvergenceError(
            f"the demeaning by the absorbed effects {', '.join(f.name for f in self.factors)} did not converge "
            f"in {maxiter} sweeps (tolerance {tol:g}): the coefficients of {', '.join(moving)} still change by "
            f"up to {worst:.3g} standard deviations of the column per sweep. Raise fe_maxiter (or fe_tol), or "
            f"check {'this effect' if len(moving) == 1 else 'these effects'}: levels linked to the others by few "
            "rows slow the alternating projections down")

    def demean(self, M: np.ndarray, tol: float = 1e-8, maxiter: int = 10_000) -> np.ndarray:
        """Residuals of the projection of the columns of ``M`` (see :func:`demean`)."""
        return self.residuals(M, tol, maxiter)[0]

    def effects(self, columns: Sequence[np.ndarray], tol: float = 1e-8, maxiter: int = 10_000,
                ) -> tuple[list[tuple[Factor, np.ndarray]], np.ndarray]:
        """The fitted effects of the ``columns`` (float64 vectors of the factors' rows) and the
        (weighted) standard deviation of each column.

        The effects are ``(factor, coefficients)`` pairs, the coefficients ``levels x columns``,
        in the order :func:`subtract_effects` takes them: the residuals of :meth:`demean` are
        ``column_j - sum_f coefficients_f[codes_f, j]``. Only the columns' group sums are formed
        (no copy of the data), so the residuals can be written in a block made afterwards."""
        n = len(self.factors[0].codes) if self.factors else (len(columns[0]) if len(columns) else 0)
        if any(np.ndim(c) != 1 or len(c) != n for c in columns):
            raise ValueError(f"demean: every column must be a vector of {n} rows (one per row of the factors)")
        if not (isinstance(maxiter, int | np.integer) and maxiter >= 1) or not tol > 0:
            raise ValueError(f"demean: tol must be > 0 and maxiter an integer >= 1; found {tol!r}, {maxiter!r}")
        sums, sd = _column_sums(columns, self._fs, self.weights)
        if len(self._fs) == 1:
            coefs = [sums[0] * self._inv[0]]
        elif self._fs:  # on the columns less their means (in the span of every factor): coefficients O(sd)
            mean = sums[0].sum(axis=0) / self._total
            sums = [s_q - np.outer(c, mean) for s_q, c in zip(sums, self._counts, strict=True)]
            beta = self._solve(sums, sd, tol, maxiter)
            coefs = [self._alpha(beta, sums) + mean, *beta]
        else:
            coefs = []
        return list(zip(self._fs, coefs, strict=True)), sd

    def residuals(self, M: np.ndarray, tol: float = 1e-8, maxiter: int = 10_000, overwrite: bool = False,
                  ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`demean`, and the (weighted) standard deviation of each column of ``M``;
        ``overwrite=True`` demeans a float64 ``M`` in place (no copy of the data; columns of a
        Fortran-ordered ``M`` are read without copies too)."""
        one_d = np.ndim(M) == 1
        M = np.asarray(M, dtype=np.float64)
        M2 = M[:, None] if one_d else M
        n = len(self.factors[0].codes) if self.factors else len(M2)
        if M2.ndim != 2 or len(M2) != n:
            raise ValueError(f"demean: M must have {n} rows (one per row of the factors); found shape {M.shape}")
        effects, sd = self.effects(list(M2.T), tol, maxiter)
        out = M2 if overwrite and M2.dtype == np.float64 and M2.flags.writeable else M2.copy()
        subtract_effects(out, effects)
        return (out[:, 0] if one_d else out), sd


# rows of a block of :func:`subtract_effects`: the gathered effects of a block are small
_BLOCK = 1 << 16


def subtract_effects(out: np.ndarray, effects: Sequence[tuple[Factor, np.ndarray]]) -> None:
    """``out[:, j] -= coefficients_f[codes_f, j]`` for every effect ``(f, coefficients)`` of
    :meth:`Projector.effects`, in their order, in place (``out``: n x k float64).

    Block by block of rows, so that no array of a row's effects is formed for all rows (the
    result is the same: each element is a sequence of subtractions)."""
    by_column = [(f.codes, np.ascontiguousarray(coef.T)) for f, coef in effects]
    for start in range(0, len(out), _BLOCK):
        rows = slice(start, start + _BLOCK)
        for codes, coef_t in by_column:
            block = codes[rows]
            for j in range(out.shape[1]):  # loops over blocks of rows and columns, not rows
                out[rows, j] -= coef_t[j][block]


def demean(M: np.ndarray, factors: Sequence[Factor], weights: np.ndarray | None = None, tol: float = 1e-8,
           maxiter: int = 10_000) -> np.ndarray:
    """Residuals of the (weighted) least-squares projection of each column of ``M`` on the
    dummies of every factor jointly.

    Parameters
    ----------
    M : ndarray, shape (n, k) or (n,)
        Columns to demean (float64).
    factors : sequence of Factor
        The absorbed effects, codes of the same ``n`` rows.
    weights : ndarray, shape (n,), optional
        Positive weights: the projection is weighted least squares, ``min ||W^(1/2)(m - D a)||``
        (PPML's iteratively reweighted least squares).
    tol : float
        Convergence: stop when, between two sweeps, no coefficient of an absorbed effect changes by
        more than ``tol`` times the (weighted) standard deviation of its column (fixest's
        criterion on standardized columns).
    maxiter : int
        Largest number of sweeps.

    Returns
    -------
    ndarray
        ``M - D a`` with ``a`` the (weighted) least-squares coefficients of the dummies ``D`` of
        all factors, the shape of ``M``. One factor: deviations from the (weighted) group means,
        exact. Several: Gauss-Seidel sweeps with Irons-Tuck acceleration (see the module).

    Raises
    ------
    ConvergenceError
        ``maxiter`` sweeps were not enough; the message names the effects still moving.
    """
    return Projector(factors, weights).demean(M, tol, maxiter)


# ------------------------------------------------------------------------------ degrees of freedom
def absorbed_dof(factors: Sequence[Factor], rule: str = "fixest", projector: Projector | None = None,
                 ) -> tuple[int, ...]:
    """Degrees of freedom each absorbed factor takes beyond the constant, in the order given.

    With ``L_q`` the levels of factor ``q`` (``q = 1..Q``), the absorbed parameters are
    ``K_fe = 1 + sum_q dof_q`` (the constant plus the returned counts) and

    * ``rule="fixest"`` (the default): ``dof_q = L_q - 1`` for every factor, i.e.
      ``K_fe = L_1 + sum_{q>1} (L_q - 1)``: fixest's ``ssc(fixef.force_exact=FALSE)`` and
      pyfixest 0.60's ``get_ssc`` (``k_fe - (n_fe - 1)``, "subtract one for each fixed effect,
      except for the first", fixest issue 554). Exact for one factor and for two connected
      factors; an overcount (conservative) when the dummies have further dependencies, e.g.
      year effects, which region-by-year effects span.
    * ``rule="firstpair"`` (reghdfe's ``dof(firstpair)``, Correia 2016): the second factor
      takes ``L_2 - C_12`` with ``C_12`` the connected components of the bipartite graph of the
      first two factors (levels linked when a row has both; Abowd, Creecy and Kramarz 2002),
      since ``rank [D_1 D_2] = L_1 + L_2 - C_12``: exact for two factors; every further
      factor ``L_q - 1`` (redundancies among three or more factors are not searched for).

    The two rules agree when the first two factors are connected (one component); they differ
    in disconnected designs (e.g. towns nested in regions with region-by-year effects, where
    ``C_12`` is the number of regions). The clustered ``K`` then leaves out the factors nested
    in a cluster dimension (:func:`models.covariance.crv1_k`), as fixest's ``fixef.K="nested"``
    and reghdfe.

    Parameters
    ----------
    factors : sequence of Factor
    rule : {"fixest", "firstpair"}
    projector : Projector, optional
        A projector of the same rows whose cross tables give the components (saves forming them).

    Returns
    -------
    tuple of int
        ``dof_q`` for each factor.
    """
    if rule not in FE_DOF:
        raise ValueError(f"rule must be one of {FE_DOF}; found {rule!r}")
    dof = [max(f.n_levels - 1, 0) for f in factors]
    if rule == "firstpair" and len(factors) >= 2:
        proj = projector if projector is not None else Projector(factors[:2])
        dof[1] = factors[1].n_levels - proj.components(0, 1)
    return tuple(dof)
