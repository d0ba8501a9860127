"""Corporate entry and exit events of towns, dated from a firm registry by year.

An event study of "a vertically integrated (VI) group takes over the town" needs each town's
first treated year (its cohort). :func:`corporate_events` derives it from the contract's
``firms`` (one row per firm and year) and ``groups`` tables with one of two rules:

* ``rule="anchor"``: the town is treated in a year when its anchor firm (its largest firm by
  employees that year; ties to the smallest ``firm_id``) belongs to a VI group. Entry: the anchor
  passes to a VI group (bought by one, or a VI group's firm becomes the largest); exit: the
  anchor passes from a VI group to a non-VI owner (or to an independent firm, or closes).
* ``rule="share"``: the town is treated in a year when the share of its employment in firms
  of VI groups is at least ``threshold`` (a share equal to the threshold counts as above).
  Entry: the share crosses the threshold upwards; exit: downwards.

Vertical integration is the feature builder's: the ``vertically_integrated`` flag of
``groups``, inferred where absent (:func:`features.corporate.classify_groups`, a group in at
least ``vi_min_towns`` towns and ``vi_min_sections`` OKVED sections).

Dating. Only the years in which a town is observed count (see ``missing``). The first observed
year fixes the initial state; a later change of state is an event when the new state lasts at
least ``min_years`` observed years (persistence: a one-year flicker is no event when
``min_years >= 2``), and it is dated at the first year of the spell that lasts. A change in the
last ``min_years - 1`` observed years cannot be confirmed and is no event. ``entry_year`` is the
first year of the first treated spell, ``exit_year`` the first year of the untreated spell that
follows it, ``reentry_year`` the next treated spell (0: none). A town treated from its first
observed year has an entry before the registry can see it: its ``entry_year`` is that first
year and ``entry_censored`` is true; such a town cannot serve in an event study of the entry
(:func:`join_cohort` drops it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .corporate import classify_groups, firm_years
from .panel import positions

__all__ = ["EVENT_RULES", "corporate_events", "join_cohort"]

EVENT_RULES = ("anchor", "share")
MISSING = ("skip", "zero")
DENOMINATORS = ("employment", "registry")
COLUMNS = ("town_id", "entry_year", "exit_year", "reentry_year", "entry_censored", "usable", "entry_group",
           "entry_firm", "entry_prev_year", "entry_share_before", "entry_share_after", "exit_group", "exit_firm",
           "exit_prev_year", "exit_share_before", "exit_share_after", "n_changes", "first_year", "last_year",
           "n_years")


def _check_args(rule, threshold, min_years, missing, denominator) -> float:
    if rule not in EVENT_RULES:
        raise ValueError(f"corporate_events: rule must be one of {list(EVENT_RULES)}; got {rule!r}.")
    if rule == "anchor" and threshold is not None:
        raise ValueError("corporate_events: threshold applies to rule='share' (the share of employment in VI "
                         f"groups); rule='anchor' follows the anchor firm's owner. Got threshold={threshold!r}.")
    if rule == "share":
        threshold = 0.5 if threshold is None else threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
            raise ValueError(f"corporate_events: threshold must be a share in (0, 1]; got {threshold!r}.")
    if isinstance(min_years, bool) or not isinstance(min_years, int | np.integer) or min_years < 1:
        raise ValueError(f"corporate_events: min_years must be an integer >= 1; got {min_years!r}.")
    if missing not in MISSING:
        raise ValueError(f"corporate_events: missing must be one of {list(MISSING)}; got {missing!r}.")
    if denominator not in DENOMINATORS:
        raise ValueError(f"corporate_events: denominator must be one of {list(DENOMINATORS)}; got {denominator!r}.")
    return float(threshold) if threshold is not None else np.nan


def _registry(data) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The firms and groups tables, refused (naming table, column and dataset) when they cannot
    date events."""
    src = getattr(data, "source", "the dataset")
    firms, groups = data.firms, data.groups
    if getattr(data, "registry", None) is not None:
        raise ValueError(f"corporate_events: the firm registry of {src} is given as town-year aggregates (read out "
                         "of core); events follow single firms between years (the anchor firm, its owner), so they "
                         "need the registry as a firms table (firm_id, town_id, sector, employees, year, group_id).")
    if firms is None or groups is None:
        absent = " and ".join(t for t, v in (("firms", firms), ("groups", groups)) if v is None)
        raise ValueError(f"corporate_events: the dataset {src} has no {absent} table; events are dated from the "
                         "firm registry (firms: firm_id, town_id, sector, employees, year, group_id) and its groups "
                         "(groups: group_id, hq_town_id, vertically_integrated).")
    if "year" not in firms.columns:
        raise ValueError(f"corporate_events: the firm registry (table 'firms' of {src}) has no column 'year': it is "
                         "a snapshot, and events are changes of owner between years; give the registry as one row "
                         "per firm and year (column 'year').")
    return firms, groups


def _cell_top(cell, weight, tiebreak, n_cells):
    """Per cell, the position (in the input arrays) of the row with the largest ``weight`` (ties:
    the smallest ``tiebreak``), -1 for a cell without rows."""
    order = np.lexsort((tiebreak, -weight, cell))
    c = cell[order]
    first = np.r_[True, c[1:] != c[:-1]] if len(c) else np.zeros(0, bool)
    out = np.full(n_cells, -1, dtype=np.int64)
    out[c[first]] = order[first]
    return out


def _grid(data, fy: pd.DataFrame, denominator: str):
    """Town x registry-year arrays: VI employees, registry employees, the denominator, the anchor
    firm (its code, group code, VI flag) and the largest VI group present."""
    towns = pd.Index(data.town_ids.astype(str).unique(), name="town_id")
    years = np.unique(fy["year"].to_numpy(dtype=np.int64))
    t = positions(towns, fy["town_id"].astype(str))
    ok = t >= 0
    fy = fy.loc[ok]
    t = t[ok]
    y = np.searchsorted(years, fy["year"].to_numpy(dtype=np.int64))
    n_cells = len(towns) * len(years)
    cell = t * len(years) + y
    emp = np.nan_to_num(fy["employees"].to_numpy(dtype=float))
    vi = fy["vi"].to_numpy(dtype=bool)
    fcode, firms = pd.factorize(fy["firm_id"].astype(str), sort=True)
    gcode, groups = pd.factorize(fy["group_id"], sort=True)
    reg = np.bincount(cell, weights=emp, minlength=n_cells)
    vi_emp = np.bincount(cell, weights=np.where(vi, emp, 0.0), minlength=n_cells)
    has = np.bincount(cell, minlength=n_cells) > 0
    anchor = _cell_top(cell, emp, fcode, n_cells)
    # the largest VI group of each cell: employees summed by (cell, group)
    sel = vi & (gcode >= 0)
    pair, inv = np.unique(cell[sel].astype(np.int64) * max(len(groups), 1) + gcode[sel], return_inverse=True)
    g_emp = np.bincount(inv, weights=emp[sel]) if len(pair) else np.zeros(0)
    top = _cell_top(pair // max(len(groups), 1), g_emp, pair % max(len(groups), 1), n_cells)
    top_group = np.where(top >= 0, (pair % max(len(groups), 1))[np.maximum(top, 0)] if len(pair) else -1, -1)
    if denominator == "employment":
        e = data.employment
        te = positions(towns, e["town_id"].astype(str))
        ye = pd.Index(years).get_indexer(e["year"].to_numpy(dtype=np.int64))
        keep = (te >= 0) & (ye >= 0)
        val = e["employment"].to_numpy(dtype=float)[keep]
        c = te[keep] * len(years) + ye[keep]
        den = np.bincount(c, weights=np.nan_to_num(val), minlength=n_cells)
        published = np.bincount(c, weights=np.isfinite(val), minlength=n_cells) > 0
        den = np.where(published, den, np.nan)
    else:
        den = reg
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(den > 0, vi_emp / np.where(den > 0, den, 1.0), np.nan)
    if denominator == "registry":
        share[~has] = 0.0  # no firm: no VI employment (observed or not is decided by ``missing``)
    a = np.maximum(anchor, 0)
    return {
        "towns": towns, "years": years, "has": has, "share": share,
        "anchor_vi": np.where(anchor >= 0, vi[a] if len(vi) else False, False),
        "anchor_firm": np.where(anchor >= 0, fcode[a] if len(fcode) else -1, -1), "firms": np.asarray(firms, object),
        "anchor_group": np.where(anchor >= 0, gcode[a] if len(gcode) else -1, -1), "groups": np.asarray(groups, object),
        "top_group": top_group,
    }


def _states(g: dict, rule: str, threshold: float, missing: str) -> tuple[np.ndarray, np.ndarray]:
    """Observed cells and the treated state of each cell (flat town x year arrays)."""
    has, share = g["has"], g["share"]  # a cell without firms has share 0 (NaN: no published employment)
    if rule == "anchor":
        observed = has.copy() if missing == "skip" else np.ones_like(has)
        state = g["anchor_vi"]
    else:
        observed = np.isfinite(share) & (has if missing == "skip" else True)
        with np.errstate(invalid="ignore"):
            state = share >= threshold
    return observed, state.astype(bool)


def _spells(obs_cells: np.ndarray, state: np.ndarray, n_years: int, min_years: int):
    """Spells of the observed cells (flat positions, town-major): ``(cell of each spell's first
    year, position in ``obs_cells`` of the observed cell before it (-1 for a town's first spell),
    its town, its state, its rank within the town)``. The first spell of a town is its initial
    state; a later run of equal states is a spell when it lasts ``min_years`` observed years, and
    runs too short to count are absorbed by the spell before them."""
    town = obs_cells // n_years
    s = state[obs_cells]
    start = np.r_[True, (town[1:] != town[:-1]) | (s[1:] != s[:-1])] if len(s) else np.zeros(0, bool)
    run = np.cumsum(start) - 1
    length = np.bincount(run)
    rstart = np.flatnonzero(start)
    rtown, rstate = town[rstart], s[rstart]
    first_of_town = np.r_[True, rtown[1:] != rtown[:-1]] if len(rtown) else np.zeros(0, bool)
    keep = first_of_town | (length >= min_years)
    rstart, rtown, rstate, first_of_town = rstart[keep], rtown[keep], rstate[keep], first_of_town[keep]
    new = first_of_town | np.r_[True, rstate[1:] != rstate[:-1]] if len(rstate) else np.zeros(0, bool)
    rstart, rtown, rstate = rstart[new], rtown[new], rstate[new]
    idx = np.arange(len(rtown))
    town_start = np.r_[True, rtown[1:] != rtown[:-1]] if len(rtown) else np.zeros(0, bool)
    rank = idx - np.maximum.accumulate(np.where(town_start, idx, 0)) if len(rtown) else np.zeros(0, np.int64)
    prev = np.where(rank > 0, rstart - 1, -1)  # the last observed cell before the spell, same town
    return obs_cells[rstart], prev, rtown, rstate, rank


def corporate_events(data, rule: str = "anchor", threshold: float | None = None, min_years: int = 1,
                     missing: str = "skip", denominator: str = "employment", vi_min_towns: int = 2,
                     vi_min_sections: int = 2) -> pd.DataFrame:
    """Each town's corporate entry and exit years, derived from the firm registry.

    Parameters
    ----------
    data : features.TownData
        With ``firms`` by year (``firm_id``, ``town_id``, ``employees``, ``year``, ``group_id``)
        and ``groups``; a registry without ``year`` is refused (a snapshot has no events).
    rule : ``"anchor"`` or ``"share"`` (see the module docstring).
    threshold : float in (0, 1], ``rule="share"`` only (default 0.5): treated when
        ``VI employees / denominator >= threshold``.
    min_years : int >= 1
        Observed years a new state must last to be an event (1: every change counts).
    missing : ``"skip"`` (default) or ``"zero"``
        Town-years without any firm row in a registry year. ``"skip"``: not observed; an event
        across such a gap is dated at the first observed year after it (``entry_prev_year`` is
        the last observed year before, so the change happened in ``(entry_prev_year,
        entry_year]``); a town never in the registry is never observed (``usable`` false).
        ``"zero"``: the registry is complete, a town-year without firms has no VI employment
        and no anchor (untreated). Registry years are the years present in ``firms``; a town-year
        without published employment has no share (not observed by ``rule="share"`` with the
        default denominator).
    denominator : ``"employment"`` (the town-year's published employment, as the feature
        ``corp_share``) or ``"registry"`` (employees of the town's registered firms).
    vi_min_towns, vi_min_sections : int
        Inference of vertical integration where the flag is absent (as ``FeatureBuilder``).

    Returns
    -------
    DataFrame, one row per town of ``data.towns`` (sorted by ``town_id``): ``entry_year``,
    ``exit_year``, ``reentry_year`` (0: never), ``entry_censored`` (treated from the first
    observed year), ``usable`` (observed and not censored: fit for an event study of the entry),
    the evidence ``entry_group`` / ``exit_group`` (the VI group that came / left: the anchor's
    group, or the largest VI group by employees in the town), ``entry_firm`` / ``exit_firm`` (the
    anchor firm in the event year; ``rule="anchor"``), ``*_prev_year`` (last observed year before
    the event), ``*_share_before`` / ``*_share_after`` (VI share of employment in that year and
    in the event year), ``n_changes`` (confirmed changes of state), ``first_year``,
    ``last_year``, ``n_years`` (observed years).

    Examples
    --------
    >>> ev = corporate_events(data, rule="share", threshold=0.4, min_years=2)   # doctest: +SKIP
    >>> panel = join_cohort(outcomes, ev)                                      # doctest: +SKIP
    """
    threshold = _check_args(rule, threshold, min_years, missing, denominator)
    firms, groups = _registry(data)
    classified = classify_groups(firms, groups, vi_min_towns, vi_min_sections, data.sectors)
    g = _grid(data, firm_years(firms, classified), denominator)
    n_towns, n_years, years = len(g["towns"]), len(g["years"]), g["years"]
    observed, state = _states(g, rule, threshold, missing)
    obs_cells = np.flatnonzero(observed)
    cells, prev_idx, stown, sstate, rank = _spells(obs_cells, state, n_years, int(min_years))
    prev = np.where(prev_idx >= 0, obs_cells[np.maximum(prev_idx, 0)], -1)
    n_obs = np.bincount(obs_cells // n_years, minlength=n_towns)
    first = np.full(n_towns, 0, np.int64)
    last = np.full(n_towns, 0, np.int64)
    first[(obs_cells // n_years)[::-1]] = years[(obs_cells % n_years)[::-1]]
    last[obs_cells // n_years] = years[obs_cells % n_years]
    initial = np.zeros(n_towns, bool)
    initial[stown[rank == 0]] = sstate[rank == 0]
    n_spells = np.bincount(stown, minlength=n_towns)
    entry_rank = np.where(initial, 0, 1)
    out = {"town_id": g["towns"].to_numpy()}
    which = {"entry": entry_rank, "exit": entry_rank + 1, "reentry": entry_rank + 2}
    at = {}
    for name, r in which.items():
        pos = np.full(n_towns, -1, np.int64)
        sel = rank == r[stown]
        pos[stown[sel]] = np.flatnonzero(sel)
        at[name] = pos
        out[f"{name}_year"] = np.where(pos >= 0, years[cells[np.maximum(pos, 0)] % n_years], 0) \
            if len(cells) else np.zeros(n_towns, np.int64)
    out["entry_censored"] = initial
    out["usable"] = (n_obs > 0) & ~initial
    share = g["share"]
    groups_arr, firms_arr = g["groups"], g["firms"]
    grp = g["anchor_group"] if rule == "anchor" else g["top_group"]
    for name, pos in (("entry", at["entry"]), ("exit", at["exit"])):
        has = pos >= 0
        c = np.where(has, cells[np.maximum(pos, 0)], 0) if len(cells) else np.zeros(n_towns, np.int64)
        p = np.where(has, prev[np.maximum(pos, 0)], -1) if len(prev) else np.full(n_towns, -1)
        vi_cell = c if name == "entry" else p  # the VI group that came (event year) or left (year before)
        gc = np.where(has & (vi_cell >= 0), grp[np.maximum(vi_cell, 0)], -1)
        out[f"{name}_group"] = pd.array(np.where(gc >= 0, groups_arr[np.maximum(gc, 0)] if len(groups_arr) else None,
                                                 None), dtype="str")
        fc = g["anchor_firm"][c] if rule == "anchor" else np.full(n_towns, -1)
        out[f"{name}_firm"] = pd.array(np.where(has & (fc >= 0), firms_arr[np.maximum(fc, 0)] if len(firms_arr)
                                                else None, None), dtype="str")
        out[f"{name}_prev_year"] = np.where(has & (p >= 0), years[np.maximum(p, 0) % n_years], 0)
        out[f"{name}_share_before"] = np.where(has & (p >= 0), share[np.maximum(p, 0)], np.nan)
        out[f"{name}_share_after"] = np.where(has, share[c], np.nan)
    out["n_changes"] = np.maximum(n_spells - 1, 0)
    out.update(first_year=first, last_year=last, n_years=n_obs)
    df = pd.DataFrame(out)
    for c in ("entry_year", "exit_year", "reentry_year", "entry_prev_year", "exit_prev_year", "n_changes",
              "first_year", "last_year", "n_years"):
        df[c] = df[c].astype("int64")
    df.attrs.update(rule=rule, threshold=None if np.isnan(threshold) else threshold, min_years=int(min_years),
                    missing=missing, denominator=denominator)
    return df[list(COLUMNS)].sort_values("town_id", kind="stable").reset_index(drop=True)


def join_cohort(panel: pd.DataFrame, events: pd.DataFrame, event: str = "entry", prefix: str = "",
                drop_unusable: bool = True) -> pd.DataFrame:
    """``panel`` (indexed by, or with columns, ``town_id`` and ``year``) with each town's cohort.

    Adds ``{prefix}{event}_year`` (the cohort: first year of the event, 0 never) and the year the
    treatment switches off: ``{prefix}exit_year`` for ``event="entry"``, ``{prefix}reentry_year``
    for ``event="exit"`` (pass it as ``exit=`` to :func:`models.event_study`, or cut the panel
    there). With ``drop_unusable`` (default), the rows of towns that cannot serve are dropped:
    towns never observed in the registry, towns of the panel absent from ``events``, and, for
    ``event="entry"``, towns treated from their first observed year (``entry_censored``: the
    entry year is unknown). ``panel`` keeps its index and row order otherwise.
    """
    if event not in ("entry", "exit"):
        raise ValueError(f"join_cohort: event must be 'entry' or 'exit'; got {event!r}.")
    names = {f"{event}_year": f"{prefix}{event}_year",
             ("exit_year" if event == "entry" else "reentry_year"): f"{prefix}{'exit' if event == 'entry' else 'reentry'}_year"}
    towns_of = panel.index.get_level_values("town_id") if "town_id" in panel.index.names else panel.get("town_id")
    if towns_of is None:
        raise ValueError("join_cohort: the panel has no town_id (index level or column).")
    clash = [n for n in names.values() if n in panel.columns]
    if clash:
        raise ValueError(f"join_cohort: the panel already has column(s) {clash}; pass prefix= to name the derived "
                         "cohort apart.")
    ev = events.set_index(events["town_id"].astype(str))
    pos = ev.index.get_indexer(pd.Index(np.asarray(towns_of, dtype=str)))
    out = panel.copy()
    for src, dst in names.items():
        v = ev[src].to_numpy()
        out[dst] = np.where(pos >= 0, v[np.maximum(pos, 0)], 0).astype("int64")
    if drop_unusable:
        ok = ev["usable"].to_numpy(bool) if event == "entry" else (ev["n_years"].to_numpy() > 0)
        keep = (pos >= 0) & np.where(pos >= 0, ok[np.maximum(pos, 0)], False)
        out = out.loc[keep]
    return out
