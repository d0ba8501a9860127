"""The event-study panel: validated input, one row per town, outcome as a towns x years array.

Every estimator of :mod:`models.event` starts from an :class:`EventPanel`: the towns (sorted),
the years (sorted, consecutive positions), each town's cohort (first treated year; ``0`` for
never treated), the outcome as a ``towns x years`` array with ``NaN`` where a town-year is
missing, the covariates (``towns x years x k``) and the cluster code of each town. Building it
checks the data once and names the towns at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["EventDataError", "EventPanel", "build_panel"]

NEVER = 0  # the cohort code of never-treated towns


class EventDataError(ValueError):
    """Event-study data that cannot be used as given (the message names the column and the towns)."""


@dataclass(frozen=True, eq=False)
class EventPanel:
    """Towns x years arrays of one outcome, with cohorts, covariates and clusters.

    ``y[i, t]`` is the outcome of town ``towns[i]`` in year ``years[t]`` (``NaN`` if missing);
    ``cohort[i]`` its first treated year (``0``: never treated); ``x[i, t, :]`` its covariates;
    ``cluster[i]`` the code of its cluster (``0..n_clusters-1``); ``notes`` what was dropped.
    """

    towns: np.ndarray
    years: np.ndarray
    cohort: np.ndarray
    y: np.ndarray
    x: np.ndarray
    cluster: np.ndarray
    n_clusters: int
    outcome: str
    covariates: tuple = ()
    notes: tuple = field(default=())

    @property
    def n_towns(self) -> int:
        return len(self.towns)

    @property
    def event_time(self) -> np.ndarray:
        """``years[t] - cohort[i]`` for treated towns, ``NaN`` for never-treated ones."""
        e = self.years[None, :].astype(float) - self.cohort[:, None]
        e[self.cohort == NEVER, :] = np.nan
        return e

    def subset(self, keep: np.ndarray, note: str | None = None) -> EventPanel:
        """The panel restricted to the towns in the boolean mask ``keep`` (clusters re-coded)."""
        codes, cl = np.unique(self.cluster[keep], return_inverse=True)
        notes = self.notes + ((note,) if note else ())
        return EventPanel(self.towns[keep], self.years, self.cohort[keep], self.y[keep], self.x[keep],
                          cl.astype(np.int64), len(codes), self.outcome, self.covariates, notes)


def _listing(labels, limit: int = 8) -> str:
    labels = [str(v) for v in labels]
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return ", ".join(labels[:limit]) + more


def _long(data: pd.DataFrame, unit: str, time: str) -> pd.DataFrame:
    """The data as columns ``unit``, ``time``, ... (from a (town_id, year) index or from columns)."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"event_study: data must be a pandas DataFrame indexed by ({unit}, {time}), "
                        f"got {type(data).__name__}.")
    if isinstance(data.index, pd.MultiIndex) and list(data.index.names[:2]) == [unit, time]:
        return data.reset_index()
    if unit in data.columns and time in data.columns:
        return data.reset_index(drop=True)
    raise EventDataError(
        f"event_study: data must be indexed by ({unit!r}, {time!r}) (a pandas MultiIndex) or hold "
        f"columns {unit!r} and {time!r}; found index {list(data.index.names)} and columns "
        f"{list(data.columns)[:10]}.")


def _numeric(df: pd.DataFrame, col: str, role: str) -> np.ndarray:
    if col not in df.columns:
        raise EventDataError(f"event_study: the {role} column {col!r} is not in the data "
                             f"(columns: {_listing(df.columns, 20)}).")
    v = pd.to_numeric(df[col], errors="coerce")
    bad = v.isna() & df[col].notna()
    if bad.any():
        rows = df.loc[bad, ["town_id", "year"]].head(5).to_numpy().tolist()
        raise EventDataError(f"event_study: the {role} column {col!r} must be numeric; non-numeric values "
                             f"in {int(bad.sum())} rows, first (town_id, year): {rows}.")
    return v.to_numpy(dtype=float)


def _cohorts(df: pd.DataFrame, cohort: str, towns: np.ndarray, town_codes: np.ndarray,
             years: np.ndarray) -> np.ndarray:
    """Each town's cohort (0 = never treated), checked constant within town and inside the panel."""
    g = _numeric(df, cohort, "cohort")
    g = np.where(np.isnan(g) | (g == 0), NEVER, g)
    lo = np.full(len(towns), np.inf)
    hi = np.full(len(towns), -np.inf)
    np.minimum.at(lo, town_codes, g)
    np.maximum.at(hi, town_codes, g)
    varying = lo != hi
    if varying.any():
        raise EventDataError(
            f"event_study: the cohort column {cohort!r} must hold one first treated year per town (0 or "
            f"missing = never treated); it changes within {int(varying.sum())} towns: "
            f"{_listing(towns[varying])}. Put each town's first treated year in every row of the town.")
    g = lo
    if np.any(g != np.round(g)):
        raise EventDataError(f"event_study: the cohort column {cohort!r} must hold whole years; towns "
                             f"{_listing(towns[g != np.round(g)])} do not.")
    outside = (g != NEVER) & ~np.isin(g, years)
    if outside.any():
        raise EventDataError(
            f"event_study: the cohort column {cohort!r} holds years outside the panel's years "
            f"({int(years[0])}-{int(years[-1])}) for {int(outside.sum())} towns: "
            f"{_listing([f'{t} ({int(v)})' for t, v in zip(towns[outside], g[outside], strict=True)])}. "
            "Code a town never treated within the panel as 0 or missing, and a town treated before "
            "the panel starts as the first panel year (it is then always treated).")
    return g.astype(np.int64)


def _exits(df: pd.DataFrame, exit: str | None, towns, town_codes, years, method: str) -> None:
    """Refuse treatments that switch off: a town whose exit year is inside the panel."""
    if exit is None or exit not in df.columns:
        return
    x = _numeric(df, exit, "exit")
    ends = (~np.isnan(x)) & (x != 0) & (x <= years[-1])
    if ends.any():
        off = np.unique(town_codes[ends])
        raise EventDataError(
            f"event_study: the treatment switches off in {len(off)} towns (column {exit!r} holds an exit "
            f"year inside the panel, up to {int(years[-1])}): {_listing(towns[off])}. The estimators of "
            f"method={method!r} assume treatment is absorbing (once treated, always treated). Study the "
            "entry with the panel cut before each exit, drop those towns, or study the exit as its own "
            f"event (pass exit=None to skip this check when {exit!r} is not the end of this treatment).")


def build_panel(data: pd.DataFrame, outcome: str, cohort: str, *, cluster: str = "town_id",
                covariates=(), exit: str | None = "exit_year", method: str = "",
                unit: str = "town_id", time: str = "year", drop_always: bool = True) -> EventPanel:
    """Validate the long data and return the :class:`EventPanel` (towns sorted, years sorted)."""
    df = _long(data, unit, time)
    dup = df.duplicated([unit, time])
    if dup.any():
        rows = df.loc[dup, [unit, time]].head(5).to_numpy().tolist()
        raise EventDataError(f"event_study: ({unit}, {time}) must identify rows; {int(dup.sum())} duplicates, "
                             f"first: {rows}.")
    towns, town_codes = np.unique(df[unit].astype(str).to_numpy(), return_inverse=True)
    yr = _numeric(df, time, "year")
    years, year_codes = np.unique(yr.astype(np.int64), return_inverse=True)
    g = _cohorts(df, cohort, towns, town_codes, years)
    _exits(df, exit, towns, town_codes, years, method)
    y = np.full((len(towns), len(years)), np.nan)
    y[town_codes, year_codes] = _numeric(df, outcome, "outcome")
    covariates = tuple(covariates)
    x = np.full((len(towns), len(years), len(covariates)), np.nan)
    for k, c in enumerate(covariates):
        x[town_codes, year_codes, k] = _numeric(df, c, "covariate")
    if cluster not in (unit,) and cluster not in df.columns:
        raise EventDataError(f"event_study: the cluster column {cluster!r} is not in the data.")
    cl = df[cluster].astype(str).to_numpy()
    first = np.zeros(len(towns), dtype=np.int64)
    first[town_codes[::-1]] = np.arange(len(df))[::-1]
    per_town = pd.Series(cl).groupby(town_codes).nunique().to_numpy()
    if (per_town > 1).any():
        raise EventDataError(f"event_study: the cluster column {cluster!r} must be constant within town; it "
                             f"changes within towns {_listing(towns[per_town > 1])}.")
    codes, cl_codes = np.unique(cl[first], return_inverse=True)
    panel = EventPanel(towns, years, g, y, x, cl_codes.astype(np.int64), len(codes), outcome, covariates)
    always = (g != NEVER) & (g <= years[0])
    if always.any() and drop_always:
        panel = panel.subset(~always, f"{int(always.sum())} towns treated from the first panel year "
                                      f"{int(years[0])} on (no untreated year) were dropped: {_listing(panel.towns[always])}")
    return panel
