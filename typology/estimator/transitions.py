"""Transitions between types over time: a fitted typology applied to every year of a panel.

Every (town, year) row of the panel is typed by the fitted typology (``assign``: rows are
scored independently against the reference the typology was fitted on, never refitted).
Transitions are counted between a town's types

* ``between="consecutive"``: in consecutive calendar years ``t -> t + 1`` (a town missing a
  year breaks the chain there; such gaps are counted in ``n_gaps``), or
* ``between="first_last"``: in its first and last typed years.

``matrix`` is the row-normalized count matrix (the estimated probability of moving from type
``i`` to type ``j`` in one step). Its intervals are percentile intervals of the town (cluster)
bootstrap: towns are resampled with replacement with all their transitions, so the
dependence between a town's successive years is kept; ``n_boot`` replicates drawn from
``random_state`` in chunks of :data:`CHUNK`, chunk ``j`` from the seed addressed by ``(0, j)``
(:mod:`typology.estimator.parallel`), each chunk a task of :func:`models.compute.run_tasks`
(local or on a dask cluster, the same draws). A type never left from in a replicate gives no
row there (ignored by the percentiles).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .parallel import entropy_of, rng_for, run_tasks

__all__ = ["Transitions", "transitions"]

CHUNK = 128  # bootstrap replicates per task (memory CHUNK x towns)


@dataclass(frozen=True)
class Transitions:
    """Transitions between types (read-only).

    Attributes
    ----------
    assignments : DataFrame
        Indexed by (town_id, year): ``type``, ``type_name`` and the typology's flags
        (``ood``, ``atypical`` for a TownTypology).
    counts, matrix, lower, upper : DataFrame
        From-type (rows) x to-type (columns): transition counts, row shares, and the bootstrap
        interval bounds of the shares.
    stay : DataFrame
        Per type: ``n_from`` (transitions starting there), ``stay`` rate and its interval.
    switchers : DataFrame
        One row per transition that changed type: town_id, year_from, year_to, type_from,
        type_to and the two names.
    """

    assignments: pd.DataFrame
    counts: pd.DataFrame
    matrix: pd.DataFrame
    lower: pd.DataFrame
    upper: pd.DataFrame
    stay: pd.DataFrame
    switchers: pd.DataFrame
    type_names: dict
    between: str
    n_towns: int
    n_pairs: int
    n_gaps: int
    n_ood: int
    left_out: tuple
    n_boot: int
    level: float

    def summary(self) -> str:
        moved = len(self.switchers)
        towns = self.switchers["town_id"].nunique() if moved else 0
        lines = [f"{self.n_pairs} transitions ({self.between}) of {self.n_towns} towns: {moved} changes of type "
                 f"by {towns} towns; {self.n_gaps} gaps in the years, {len(self.left_out)} town-years left out "
                 f"(missing features), {self.n_ood} town-years out of distribution."]
        for t, r in self.stay.iterrows():
            lines.append(f"  type {t} ({self.type_names.get(t, t)}): stays {r['stay']:.1%} "
                         f"[{r['lower']:.1%}, {r['upper']:.1%}] of {int(r['n_from'])} transitions")
        return "\n".join(lines)


def _features_of(fitted) -> list[str]:
    if hasattr(fitted, "feature_names_in_"):
        return list(fitted.feature_names_in_)
    if hasattr(fitted, "features"):
        return list(fitted.features)
    raise TypeError("fitted must be a fitted TownTypology or a RuleTypology")


def _boot_chunk(per_town: np.ndarray, entropy: int, j: int, size: int) -> np.ndarray:
    """Transition counts (``size`` x K*K) of the ``size`` town-bootstrap replicates of chunk ``j``:
    multinomial town weights drawn from the seed addressed by ``(0, j)``, times the towns' counts."""
    n_towns = per_town.shape[0]
    W = rng_for(entropy, 0, j).multinomial(n_towns, np.full(n_towns, 1.0 / n_towns), size=size)
    return W.astype(float) @ per_town


def transitions(fitted, panel_X: pd.DataFrame, between: str = "consecutive", n_boot: int = 999,
                level: float = 0.95, random_state=None) -> Transitions:
    """Type every year of a panel with ``fitted`` and count the transitions between types.

    Parameters
    ----------
    fitted : TownTypology (fitted) or RuleTypology
    panel_X : DataFrame
        Indexed by (``town_id``, ``year``) with the typology's features (other columns are
        ignored). Town-years lacking a feature are left out and listed in ``left_out``.
    between : {"consecutive", "first_last"}
    n_boot : int
        Town-bootstrap replicates of the intervals (0: no intervals).
    level : float
        Coverage of the percentile intervals (0.95).
    random_state : int or None
        Seed of the bootstrap.
    """
    if between not in ("consecutive", "first_last"):
        raise ValueError(f"between must be 'consecutive' or 'first_last'; found {between!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), found {level}")
    if not isinstance(panel_X, pd.DataFrame) or not isinstance(panel_X.index, pd.MultiIndex) \
            or list(panel_X.index.names) != ["town_id", "year"]:
        raise ValueError("panel_X must be a DataFrame indexed by (town_id, year)")
    if panel_X.index.has_duplicates:
        raise ValueError("panel_X has duplicated (town_id, year) rows")
    cols = _features_of(fitted)
    absent = [c for c in cols if c not in panel_X.columns]
    if absent:
        raise ValueError(f"panel_X lacks the typology's features {absent}")
    X = panel_X[cols]
    finite = np.isfinite(X.to_numpy(dtype=float)).all(axis=1)
    left_out = tuple(X.index[~finite])
    X = X[finite]
    a = fitted.assign(X)
    names = dict(fitted.type_names_)
    types = sorted(names)
    K = len(types)
    pos = {t: i for i, t in enumerate(types)}
    assignments = a.sort_index()

    town = np.asarray(assignments.index.get_level_values("town_id").astype(str))
    year = assignments.index.get_level_values("year").to_numpy(dtype=np.int64)
    typ = np.array([pos[t] for t in assignments["type"].to_numpy()], dtype=np.int64)
    same_town_next = np.r_[town[1:] == town[:-1], False]
    if between == "consecutive":
        step = np.r_[year[1:] - year[:-1], 0]
        pair = same_town_next & (step == 1)
        n_gaps = int((same_town_next & (step > 1)).sum())
        i_from = np.flatnonzero(pair)
        i_to = i_from + 1
    else:
        starts = np.flatnonzero(np.r_[True, town[1:] != town[:-1]])
        ends = np.r_[starts[1:] - 1, len(town) - 1]
        keep = ends > starts
        i_from, i_to = starts[keep], ends[keep]
        n_gaps = 0
    f, t = typ[i_from], typ[i_to]
    flat = f * K + t
    counts = np.bincount(flat, minlength=K * K).reshape(K, K).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = counts / counts.sum(axis=1, keepdims=True)

    uniq_towns, town_idx = np.unique(town, return_inverse=True)
    n_towns = len(uniq_towns)
    lower = upper = np.full((K, K), np.nan)
    stay_lo = stay_hi = np.full(K, np.nan)
    if n_boot > 0 and len(flat):
        per_town = np.zeros((n_towns, K * K))
        np.add.at(per_town, (town_idx[i_from], flat), 1.0)
        entropy = entropy_of(random_state)
        sizes = [min(CHUNK, n_boot - s) for s in range(0, n_boot, CHUNK)]
        boot = np.vstack(run_tasks(_boot_chunk, [(per_town, entropy, j, m) for j, m in enumerate(sizes)]))
        boot = boot.reshape(n_boot, K, K)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = boot / boot.sum(axis=2, keepdims=True)
        q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
        diag = shares[:, np.arange(K), np.arange(K)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells: a type never left from
            lower, upper = np.nanpercentile(shares, q, axis=0)
            stay_lo, stay_hi = np.nanpercentile(diag, q, axis=0)

    idx = pd.Index(types, name="from")
    col = pd.Index(types, name="to")

    def frame(m):
        return pd.DataFrame(m, index=idx, columns=col)

    n_from = counts.sum(axis=1)
    stay = pd.DataFrame({"name": [names[tt] for tt in types], "n_from": n_from.astype(np.int64),
                         "stay": np.diag(matrix), "lower": stay_lo, "upper": stay_hi},
                        index=pd.Index(types, name="type"))
    moved = f != t
    tarr = np.array(types)
    switchers = pd.DataFrame({
        "town_id": town[i_from][moved], "year_from": year[i_from][moved], "year_to": year[i_to][moved],
        "type_from": tarr[f[moved]], "type_to": tarr[t[moved]],
        "name_from": [names[x] for x in tarr[f[moved]]], "name_to": [names[x] for x in tarr[t[moved]]],
    })
    n_ood = int(assignments["ood"].sum()) if "ood" in assignments.columns else 0
    return Transitions(assignments=assignments, counts=frame(counts.astype(np.int64)), matrix=frame(matrix),
                       lower=frame(lower), upper=frame(upper), stay=stay, switchers=switchers, type_names=names,
                       between=between, n_towns=n_towns, n_pairs=len(flat), n_gaps=n_gaps, n_ood=n_ood,
                       left_out=left_out, n_boot=int(n_boot), level=float(level))
