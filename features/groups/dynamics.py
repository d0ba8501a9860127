"""Dynamics group: growth since each town's base year, entropy change, shift-share and status.

Columns (:mod:`features.dictionary`): ``pop_growth``, ``emp_growth``, ``wage_growth``,
``entropy_change``, ``ss_national_share``, ``ss_industry_mix``, ``ss_competitive``, ``status``.
Requirements: employment only (population and wages, where given, feed their growth rates).

Fitted reference: each fitted town's base year (its first year) and base values (``base_``,
``base_E_``), the national average wage of each fitted year (``national_wage_``) and what the
group reads of every fitted town-year (``fitted_rows_``: published employment, sector entropy,
population, average wage). A scored town keeps its fitted base only when it is the fitted town:
its rows agree with the fitted rows in every year both hold, and its sector vector in the base
year too; otherwise (a new town, or a town_id reused by other data) it starts from its own
first year, and a ``FeatureWarning`` names the ids that differed.

Computation: annualized growth (:func:`features.dynamics.annualized_growth`), Dunn's
shift-share against the fitted national sector employment (:func:`features.dynamics.shift_share`)
per base-year job of the sectors published in both years, and :func:`stagnation_status`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._matrix import row_shares, thread_map
from ..dictionary import group_columns
from ..diversification import entropy_rows, log_factor
from ..dynamics import annualized_growth, shift_share
from ..errors import FeatureWarning
from ..panel import member, positions, row_positions
from .base import FeatureGroup, RowBlock, Scoring, nearest_year

__all__ = ["GROUP", "STATUSES", "stagnation_status"]

NAME = "dynamics"
COLUMNS = group_columns(NAME)
STATUSES = ("stagnating", "intermediate", "modernizing")
_ROW_BLOCK = 65_536  # rows of the employment matrix handled at once where only row sums are needed


def stagnation_status(pop_growth, emp_growth, wage_growth, national_wage_growth, competitive) -> np.ndarray:
    """Stagnation / modernization status of town-years (the rule of the data dictionary).

    * ``"stagnating"``: population and employment both fall since the base year
      (``pop_growth < 0`` and ``emp_growth < 0``);
    * ``"modernizing"``: not stagnating, the average wage grows faster than the national
      average wage over the same years and the competitive shift-share component is >= 0;
    * ``"intermediate"``: not stagnating and not modernizing;
    * missing (``None``) where the rule cannot be decided from the defined inputs: the base
      year itself, or a missing growth rate that the decision needs (a known fall of
      employment with an unknown population, or a town that is not stagnating but whose
      wage growth or competitive component is unknown).

    All inputs are arrays of the same length (NaN = undefined); returns an object array.
    """
    p, e, w, nw, c = (np.asarray(x, dtype=float) for x in
                      (pop_growth, emp_growth, wage_growth, national_wage_growth, competitive))
    stag_true = (p < 0) & (e < 0)
    stag_false = (p >= 0) | (e >= 0)
    mod_true = (w > nw) & (c >= 0)
    mod_false = (w <= nw) | (c < 0)
    out = np.full(len(p), None, dtype=object)
    out[stag_false & mod_false] = "intermediate"
    out[stag_false & mod_true] = "modernizing"
    out[stag_true] = "stagnating"
    return out


# ------------------------------------------------------------------ what the group reads of the data
def row_values(data, column: str, index: pd.MultiIndex) -> np.ndarray:
    """The outcomes table's ``column`` at each (town_id, year) of ``index`` (NaN where absent)."""
    out = data.outcomes
    if out is None or column not in out.columns:
        return np.full(len(index), np.nan)
    s = out.set_index(["town_id", "year"])[column]
    return s.reindex(index).to_numpy(dtype=float)


def average_wages(data, index: pd.MultiIndex) -> pd.Series:
    """Average wage per town-year: outcomes ``avg_wage``, else the employment-weighted mean
    of ``employment.wage``."""
    out = data.outcomes
    if out is not None and "avg_wage" in out.columns:
        return out.set_index(["town_id", "year"])["avg_wage"].reindex(index)
    emp = data.employment
    if "wage" in emp.columns:
        ok = emp["wage"].notna() & emp["employment"].notna()
        e = emp[ok]
        bill = (e["wage"] * e["employment"]).groupby([e["town_id"], e["year"]]).sum()
        w = e.groupby(["town_id", "year"])["employment"].sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            return (bill / w).reindex(index)
    return pd.Series(np.nan, index=index)


# ------------------------------------------------------------------ fit
def base_values(builder, data, E: pd.DataFrame):
    """Each town's first year in ``E`` and its values then (employment, entropy, population,
    average wage, the sector vector)."""
    ids = E.index.get_level_values("town_id")
    years = E.index.get_level_values("year").to_numpy()
    first = np.r_[True, ids[1:] != ids[:-1]] if len(ids) else np.zeros(0, bool)  # E is sorted by town, year
    pos = np.flatnonzero(first)
    Xb = E.to_numpy()[pos]
    tid = pd.Index(ids[pos], name="town_id")
    s, total, valid = row_shares(Xb)
    h = entropy_rows(s, valid, log_factor(builder.base))
    first_idx = E.index[pos]
    base = pd.DataFrame({
        "base_year": years[pos],
        "employment": total,
        "entropy": h,
        "population": row_values(data, "population", first_idx),
        "wage": average_wages(data, first_idx).to_numpy(dtype=float),
    }, index=tid)
    base_E = pd.DataFrame(Xb, index=tid, columns=E.columns)
    return base, base_E


def _row_fingerprint(builder, data, E: pd.DataFrame, total: np.ndarray) -> pd.DataFrame:
    """What the dynamics group reads of every fitted town-year: published employment, its
    sector entropy, population and average wage (to recognise the same town when scoring)."""
    X, lf = E.to_numpy(), log_factor(builder.base)
    ent = np.empty(len(X))
    for a in range(0, len(X), _ROW_BLOCK):  # blocks of rows bound the memory of the shares
        s, _, valid = row_shares(X[a:a + _ROW_BLOCK])
        ent[a:a + _ROW_BLOCK] = entropy_rows(s, valid, lf)
    return pd.DataFrame({"employment": total, "entropy": ent,
                         "population": row_values(data, "population", E.index),
                         "wage": average_wages(data, E.index).to_numpy(dtype=float)}, index=E.index)


def _national_wage(builder, data, index: pd.MultiIndex, total: np.ndarray) -> pd.Series:
    """Employment-weighted mean of the towns' average wages, per fitted year."""
    w = average_wages(data, index)
    emp = pd.Series(total, index=index)
    ok = (w.notna() & (emp > 0)).to_numpy()
    yrs = index.get_level_values("year")[ok]
    bill = (w[ok] * emp[ok]).groupby(yrs).sum()
    tot = emp[ok].groupby(yrs).sum()
    return (bill / tot).reindex(builder.years_)


def _fit(builder, data, panel) -> None:
    builder.base_, builder.base_E_ = base_values(builder, data, panel.E)
    builder.national_wage_ = _national_wage(builder, data, panel.index, panel.total)
    builder.fitted_rows_ = _row_fingerprint(builder, data, panel.E, panel.total)


# ------------------------------------------------------------------ transform
def _start(builder, n: int) -> dict:
    return {"entropy": np.full(n, np.nan)}


def _fill(builder, state: dict, b: RowBlock) -> None:
    state["entropy"][b.rows] = b.entropy  # the diversification group's, when it is planned


def _clashing_towns(builder, E: pd.DataFrame, X: np.ndarray, current: dict[str, np.ndarray]) -> pd.Index:
    """Fitted town_ids whose scored rows differ from the fitted rows in a year both hold.

    Compared in every (town, year) present in both: published employment, sector entropy,
    population and average wage (``current``, aligned with ``E``), and in the town's fitted
    base year its whole sector vector; equal means within 1e-12 (relative and absolute), missing
    equal to missing. Ids with a difference are reported by a ``FeatureWarning`` saying what
    differed. A town whose scored rows share no year with the fitted ones (later years of the
    same towns) is not a clash: nothing contradicts its id.
    """
    ids = E.index.get_level_values("town_id")
    years = E.index.get_level_values("year").to_numpy()
    ref = getattr(builder, "fitted_rows_", None)
    if ref is None:  # fitted before the row fingerprint existed: the base year only
        ref = builder.base_.set_index("base_year", append=True).rename_axis(["town_id", "year"])
    at = row_positions(ref.index, ids, years)
    both = at >= 0
    if not both.any():
        return pd.Index([], name="town_id")

    def differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            same = np.isclose(a, b, rtol=1e-12, atol=1e-12) | (np.isnan(a) & np.isnan(b))
        return ~same

    what = {c: differs(np.asarray(v, dtype=float)[both], ref[c].to_numpy(dtype=float)[at[both]])
            for c, v in current.items()}
    bpos = positions(builder.base_.index, ids)
    at_base = (bpos >= 0) & (years == builder.base_["base_year"].to_numpy()[np.maximum(bpos, 0)])
    sec = np.zeros(len(ids), dtype=bool)
    sec[at_base] = differs(X[at_base], builder.base_E_.to_numpy()[bpos[at_base]]).any(axis=1)
    what["sector employment in the base year"] = sec[both]
    rows = np.logical_or.reduce(list(what.values()))
    clash = pd.Index(pd.unique(np.asarray(ids[both][rows])), name="town_id")
    if len(clash):
        tids = np.asarray(ids[both])
        detail = ", ".join(f"{c} ({pd.unique(tids[d]).size})" for c, d in what.items() if d.any())
        warnings.warn(f"{len(clash)} town_id(s) of the scored data are in the fitted data, but their rows "
                      f"differ from the fitted rows in a year both hold (by town: {detail}), e.g. "
                      f"{sorted(map(str, clash))[:5]}: they are scored as new towns, their growth rates "
                      "and shift-share components starting from their own first year", FeatureWarning,
                      stacklevel=6)
    return clash


def _bases(builder, scoring: Scoring, ent: np.ndarray, pop: np.ndarray, wage: np.ndarray):
    """The base values each scored town starts from: the fitted ones for the fitted towns,
    its own first year for a town new to the reference or whose rows contradict it."""
    if scoring.fitted_data:  # fit_transform: the scored towns are the fitted ones
        return builder.base_, builder.base_E_
    E = scoring.panel.E
    own_base, own_base_E = base_values(builder, scoring.data, E)
    clash = _clashing_towns(builder, E, scoring.X, {"employment": scoring.panel.total, "entropy": ent,
                                                    "population": pop, "wage": wage})
    fitted = ~member(builder.base_.index, clash)
    own = ~member(own_base.index, builder.base_.index[fitted])
    return (pd.concat([builder.base_[fitted], own_base[own]]),
            pd.concat([builder.base_E_[fitted], own_base_E[own]]))


def _compute(builder, scoring: Scoring) -> dict[str, np.ndarray]:
    """Growth since each town's base year, entropy change, shift-share components and the
    stagnation / modernization status (see :func:`stagnation_status`)."""
    E, years, total = scoring.panel.E, scoring.years, scoring.panel.total
    ent = scoring.state[NAME]["entropy"]
    ids = E.index.get_level_values("town_id")
    pop = row_values(scoring.data, "population", E.index)
    wage = average_wages(scoring.data, E.index).to_numpy(dtype=float)
    base, base_E = _bases(builder, scoring, ent, pop, wage)
    bpos = positions(base.index, ids)
    by = base["base_year"].to_numpy(dtype=float)[bpos]
    dt = years - by
    out = {
        "pop_growth": annualized_growth(base["population"].to_numpy()[bpos], pop, dt),
        "emp_growth": annualized_growth(base["employment"].to_numpy()[bpos], total, dt),
        "wage_growth": annualized_growth(base["wage"].to_numpy()[bpos], wage, dt),
        "entropy_change": np.where(dt > 0, ent - base["entropy"].to_numpy()[bpos], np.nan),
    }
    now_pos = np.searchsorted(builder.years_, nearest_year(builder.years_, years))
    base_pos = np.searchsorted(builder.years_, nearest_year(builder.years_, by.astype("int64")))
    out.update(_shift_share(builder, scoring, base_E.to_numpy(), bpos, now_pos, base_pos, dt))
    nat_w = builder.national_wage_
    nat_growth = annualized_growth(nat_w.reindex(builder.years_[base_pos]).to_numpy(),
                                   nat_w.reindex(builder.years_[now_pos]).to_numpy(), dt)
    out["status"] = stagnation_status(out["pop_growth"], out["emp_growth"], out["wage_growth"], nat_growth,
                                      out["ss_competitive"])
    return out


def _shift_share(builder, scoring: Scoring, BE: np.ndarray, bpos, now_pos, base_pos, dt) -> dict[str, np.ndarray]:
    """Dunn's shift-share components per base-year job of the sectors published in both years,
    one scored year at a time against each town's base year."""
    X, order, bounds = scoring.X, scoring.order, scoring.bounds
    n = len(X)
    nat = builder.national_.to_numpy()
    ss = {c: np.full(n, np.nan) for c in ("national_share", "industry_mix", "competitive")}
    common0 = np.full(n, np.nan)  # base employment in the sectors published in both years
    cols = pd.Index(builder.sectors_)

    def year_block(ab) -> None:  # one year against each town's base year
        rows = order[ab[0]:ab[1]]
        e0, e1 = BE[bpos[rows]], X[rows]
        res = shift_share(pd.DataFrame(e0, columns=cols, copy=False), pd.DataFrame(e1, columns=cols, copy=False),
                          pd.DataFrame(nat[base_pos[rows]], columns=cols, copy=False),
                          pd.Series(nat[now_pos[rows[0]]], index=cols))
        for c in ss:
            ss[c][rows] = res[c].to_numpy()
        common0[rows] = np.where(np.isnan(e0) | np.isnan(e1), 0.0, e0).sum(axis=1)

    thread_map(year_block, list(zip(bounds[:-1], bounds[1:], strict=True)), builder.n_jobs)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where((common0 > 0) & (dt > 0), 1.0 / np.where(common0 > 0, common0, 1.0), np.nan)
    return {f"ss_{c}": ss[c] * scale for c in ss}


GROUP = FeatureGroup(NAME, _compute, needs=frozenset({"shares"}),
                     fitted=(("base_", None), ("base_E_", None), ("national_wage_", None), ("fitted_rows_", None)),
                     fit=_fit, start_rows=_start, fill_rows=_fill)
