"""The rows a linear panel model uses: which rows are dropped and why, and the sample in levels.

Rows are dropped, each with its reason, when a variable of the model is missing or invalid
(:func:`models.formula.build_design`), when a cluster variable is missing
(:func:`drop_missing_clusters`) or an absorbed effect (:func:`drop_missing_effects`), and by the
estimator's own rule: first differences need the previous calendar year
(:func:`drop_without_previous_year`), fixed effects drop singletons (:func:`drop_singletons`;
of absorbed effects, iteratively across all of them: :func:`drop_singleton_effects`). :func:`panel_sample` then takes the rows kept, renumbers towns and
years, and adds the Mundlak means when asked. Every function is pure (new arrays out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .absorb import AbsorbedEffects, make_factor, singleton_rows
from .checks import check_outcome, no_variation_left
from .clusters import cluster_values
from .formula import Design
from .panel import PanelIndex, compress_codes
from .transforms import consecutive_pairs, group_means

__all__ = [
    "PanelSample",
    "Rows",
    "drop_missing_clusters",
    "drop_missing_coordinates",
    "drop_missing_effects",
    "drop_singleton_effects",
    "drop_singletons",
    "drop_without_previous_year",
    "dropped_rows",
    "panel_sample",
]


@dataclass(frozen=True, eq=False)
class Rows:
    """Rows of the data kept (``keep``), why the others are not (``reasons``, ``""`` when kept),
    and for first differences the position of each row's previous year (``previous``, -1: none)."""

    keep: np.ndarray
    reasons: np.ndarray
    previous: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class PanelSample:
    """The rows a model uses, in levels: what every estimator transforms.

    ``X`` holds the regressors without an intercept column (with the Mundlak means appended
    when asked), ``y`` the outcome; ``entity``/``time`` code the towns and years of the rows
    ``0 .. n-1`` (calendar order), ``entity_counts`` the rows of each town; ``previous``:
    ``(X, y)`` of each row's previous calendar year (first differences), else ``None``;
    ``absorb``: the absorbed effects of the rows (``PanelModelSpec.absorb``), else ``None``.
    """

    X: np.ndarray
    y: np.ndarray
    names: tuple[str, ...]
    y_name: str
    has_intercept: bool
    entity: np.ndarray
    time: np.ndarray
    n_entities: int
    n_periods: int
    entity_counts: np.ndarray
    previous: tuple[np.ndarray, np.ndarray] | None = None
    absorb: AbsorbedEffects | None = None

    @property
    def nobs(self) -> int:
        return len(self.y)


def drop_missing_clusters(rows: Rows, data: pd.DataFrame, dims: tuple[str, ...]) -> Rows:
    """Drop the rows whose cluster column (any of ``dims`` but ``entity`` and ``time``) is missing."""
    columns = [dim for dim in dims if dim not in ("entity", "time")]
    if not columns:
        return rows
    return _drop_missing(rows, data, columns, "missing cluster")


def _drop_missing(rows: Rows, data: pd.DataFrame, columns, reason: str) -> Rows:
    """Drop the rows missing a value of any of ``columns`` (index levels or columns), each row
    with the reason ``"{reason} {column}"`` of the first column it misses."""
    missing = [(col, cluster_values(data, col).isna().to_numpy()) for col in columns]
    if not any(miss.any() for _, miss in missing):
        return rows
    keep, reasons = rows.keep.copy(), rows.reasons.copy()
    for col, miss in missing:
        reasons[miss & keep] = f"{reason} {col}"
        keep &= ~miss
    return Rows(keep, reasons, rows.previous)


def drop_missing_coordinates(rows: Rows, data: pd.DataFrame, columns: tuple[str, ...]) -> Rows:
    """Drop the rows whose coordinate (``columns``, e.g. ``("lat", "lon")``) is missing: Conley
    errors need the position of every row."""
    absent = [c for c in columns if c not in data.columns and c not in [n for n in data.index.names if n]]
    if absent:
        raise ValueError(f"Conley errors need the coordinates of the rows: column(s) {absent} not in the data "
                         f"(columns {list(map(str, data.columns))[:20]}); name the latitude and longitude columns "
                         "(degrees) with coordinates=('lat', 'lon')")
    return _drop_missing(rows, data, columns, "missing coordinate")


def drop_missing_effects(rows: Rows, effects: tuple) -> Rows:
    """Drop the rows where a column of an absorbed effect is missing; ``effects`` holds
    ``(name, codes, levels)`` with code ``-1`` for a missing value."""
    missing = [(name, codes < 0) for name, codes, _ in effects]
    if not any(miss.any() for _, miss in missing):
        return rows
    keep, reasons = rows.keep.copy(), rows.reasons.copy()
    for name, miss in missing:
        reasons[miss & keep] = f"missing {name}"
        keep &= ~miss
    return Rows(keep, reasons, rows.previous)


def drop_singleton_effects(rows: Rows, effects: tuple, spec) -> Rows:
    """Absorbed effects: drop the rows alone in a level of an effect, repeatedly across all
    effects until none is left (``spec.singletons == "drop"``, as ``reghdfe`` and ``fixest``);
    the reason names the effect (``"singleton region^year"``)."""
    if spec.singletons != "drop" or not effects:
        return rows
    keep, by = singleton_rows([(codes, n) for _, codes, n in effects], rows.keep)
    if keep.all() or (keep == rows.keep).all():
        return rows
    reasons = rows.reasons.copy()
    for q, (name, _, _) in enumerate(effects):
        reasons[by == q] = f"singleton {name}"
    return Rows(keep, reasons, rows.previous)


def drop_without_previous_year(rows: Rows, pidx: PanelIndex, spec) -> Rows:
    """First differences: drop the rows without the previous calendar year of the same town
    (the first year of a town, or after a gap), and record each kept row's previous row."""
    keep, reasons = rows.keep.copy(), rows.reasons.copy()
    n_all = len(keep)
    rows0 = np.flatnonzero(keep)
    cur, prev = consecutive_pairs(pidx.entity[rows0], pidx.year[rows0])
    has = np.zeros(n_all, bool)
    has[rows0[cur]] = True
    prev_pos = np.full(n_all, -1)
    prev_pos[rows0[cur]] = rows0[prev]
    reasons[keep & ~has] = "no previous year to difference (first year of the town or a gap)"
    keep &= has
    return Rows(keep, reasons, prev_pos)


def drop_singletons(rows: Rows, pidx: PanelIndex, spec) -> Rows:
    """Fixed effects: drop towns (and, with year effects, years) left with one row, repeatedly
    until none is left (``spec.singletons == "drop"``, as ``reghdfe`` and ``fixest``)."""
    if spec.singletons != "drop":
        return rows
    keep, reasons = rows.keep, rows.reasons
    dims = [(codes, label) for codes, label, effs in ((pidx.entity, "singleton town", ("entity", "twoway")),
                                                      (pidx.time, "singleton year", ("time", "twoway")))
            if spec.effects in effs]
    changed = True
    while changed:
        changed = False
        for codes, label in dims:
            cnt = np.bincount(codes[keep], minlength=codes.max() + 1 if len(codes) else 0)
            single = keep & (cnt[codes] == 1)
            if single.any():
                if keep is rows.keep:  # copied once, when something is dropped
                    keep, reasons = keep.copy(), reasons.copy()
                reasons[single] = label
                keep &= ~single
                changed = True
    return Rows(keep, reasons, rows.previous)


def _mundlak_means(X: np.ndarray, names: list[str], entity: np.ndarray, n_ent: int, counts: np.ndarray):
    """Append the town means of the time-varying regressors, ``mean(x)`` (Mundlak 1978)."""
    xm = group_means(X, entity, n_ent, counts)
    xw = X - xm[entity]
    # time-varying regressors whose town means differ between towns (the means of year
    # dummies in a balanced panel are constant: collinear with the intercept)
    varies = ~no_variation_left(xw, X - X.mean(axis=0)) & ~no_variation_left(xm - xm.mean(axis=0), xm)
    if not varies.any():
        raise ValueError("mundlak=True needs regressors that vary within towns; none do")
    return (np.column_stack([X, xm[entity][:, varies]]),
            names + [f"mean({nm})" for nm, v in zip(names, varies, strict=True) if v])


def panel_sample(design: Design, pidx: PanelIndex, rows: Rows, has_intercept: bool, mundlak: bool,
                 effects: tuple = (), absorb_options: tuple = ()) -> PanelSample:
    """The sample of the rows kept: towns and years renumbered, the outcome checked to vary,
    the Mundlak means appended when ``mundlak``, the absorbed ``effects`` (``(name, codes,
    levels)`` of every row) coded for the rows kept with ``absorb_options`` ``(tol, maxiter,
    dof)``; raises ``ValueError`` when no row is left."""
    keep = rows.keep
    all_kept = bool(keep.all())
    idx = None if all_kept else np.flatnonzero(keep)
    if idx is not None and len(idx) == 0:
        raise ValueError("no rows left to estimate the model: " + "; ".join(
            f"{r} ({c})" for r, c in pd.Series(rows.reasons[rows.reasons != ""]).value_counts().head(5).items()))

    def sub(a):
        return a if idx is None else a[idx]

    y, X, names = sub(design.y), sub(design.X), list(design.names)
    entity, used_e = compress_codes(sub(pidx.entity), pidx.n_entities)
    time, used_t = compress_codes(sub(pidx.time), pidx.n_periods)
    n_ent = len(used_e)
    counts = np.bincount(entity, minlength=n_ent)
    check_outcome(y, None, design.y_name)
    if mundlak:
        X, names = _mundlak_means(X, names, entity, n_ent, counts)
    previous = None
    if rows.previous is not None:
        prev = sub(rows.previous)
        previous = (design.X[prev], design.y[prev])
    absorb = None
    if effects:
        absorb = AbsorbedEffects(tuple(make_factor(name, sub(codes), n) for name, codes, n in effects),
                                 *absorb_options)
    return PanelSample(X=X, y=y, names=tuple(names), y_name=design.y_name, has_intercept=has_intercept,
                       entity=entity, time=time, n_entities=n_ent, n_periods=len(used_t), entity_counts=counts,
                       previous=previous, absorb=absorb)


def dropped_rows(data: pd.DataFrame, rows: Rows) -> tuple[pd.DataFrame, str | None]:
    """The rows not used, indexed as ``data``, with their ``reason``; and a note counting them
    by reason and naming the first towns (``None`` when every row is used)."""
    drop_mask = ~rows.keep
    if not drop_mask.any():
        return pd.DataFrame({"reason": pd.array([], dtype="str")}, index=data.index[:0]), None
    dropped = pd.DataFrame({"reason": pd.array(rows.reasons[drop_mask], dtype="str")}, index=data.index[drop_mask])
    counts = dropped["reason"].value_counts()
    towns = dropped.index.get_level_values(0).unique()
    note = (f"{int(drop_mask.sum())} of {len(data)} rows not used ("
            + "; ".join(f"{r}: {c}" for r, c in counts.items())
            + f"), in {len(towns)} town(s): " + ", ".join(map(str, towns[:8]))
            + (" ..." if len(towns) > 8 else "") + "; see result.dropped")
    return dropped, note
