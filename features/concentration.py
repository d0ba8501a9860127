"""Concentration of sectors across towns: Hoover, locational Gini, Ellison-Glaeser.

Where :mod:`features.specialization` describes a town across its sectors, these indices
describe a sector across towns: one value per sector (a Series indexed by sector).

Notation: ``E`` is an employment matrix (rows = towns, columns = sectors, ``NaN`` =
suppressed), ``e_s = sum_r E_rs`` the sector's employment and ``R_r`` a reference mass of
town ``r`` (default its total published employment ``e_r``, or a user vector such as
population). Suppressed cells are complete cases here too: for sector ``s`` a town whose cell
is suppressed leaves the comparison (its employment *and* its reference mass), as
``EconGeo::hoover_index`` does with ``complete.cases``. A sector with no employment gets
``NaN``.

References: Hoover, E. M. (1936) "The measurement of industrial localization", *Review of
Economics and Statistics* 18(4): 162-171; Krugman, P. (1991) *Geography and Trade*, MIT Press,
ch. 2 and app. D (locational Gini); Ellison, G. & Glaeser, E. L. (1997) "Geographic
concentration in U.S. manufacturing industries: a dartboard approach", *Journal of Political
Economy* 105(5): 889-927. R equivalents: ``EconGeo::hoover_index``, ``REAT::hoover``,
``EconGeo::locational_gini``, ``REAT::gini.conc``, ``REAT::ellison.a2``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._matrix import check_matrix

__all__ = ["ellison_glaeser", "hoover", "locational_gini", "plant_herfindahl"]


def _reference_mass(E: pd.DataFrame, X: np.ndarray, reference) -> np.ndarray:
    if reference is None:
        return np.nansum(X, axis=1)
    if isinstance(reference, str):
        if reference != "uniform":
            raise ValueError(f"reference must be None, 'uniform' or a Series indexed by town; got {reference!r}")
        return np.ones(X.shape[0])
    if not isinstance(reference, pd.Series | dict):
        raise TypeError(f"reference must be None, 'uniform' or a Series indexed by town; got {type(reference).__name__}")
    ref = pd.Series(reference, dtype=float)
    absent = E.index.difference(ref.index)
    if len(absent):
        raise ValueError(f"reference lacks town(s) {list(absent[:5])} of E")
    R = ref.reindex(E.index).to_numpy(dtype=float)
    if np.isnan(R).any() or (R < 0).any():
        raise ValueError("reference masses must be numbers >= 0 (no missing values)")
    return R


def _complete_cases(E, reference, missing):
    """Sector employment and reference mass per cell, zero where the cell is suppressed,
    with their column totals."""
    X = check_matrix(E, missing)
    R = _reference_mass(E, X, reference)
    known = ~np.isnan(X)
    Xk = np.where(known, X, 0.0)
    Rk = np.where(known, R[:, None], 0.0)
    return Xk, Rk, Xk.sum(axis=0), Rk.sum(axis=0)


def hoover(E: pd.DataFrame, reference=None, missing: str = "omit") -> pd.Series:
    """Hoover coefficient of localization of each sector across towns.

    ``H_s = 1/2 sum_r | E_rs / e_s - R_r / R |`` (Hoover 1936), between 0 (the sector is
    spread like the reference) and 1 (all of it where the reference has nothing): the share
    of the sector's jobs that would have to move for it to follow the reference.

    Parameters
    ----------
    E : DataFrame
        Employment, rows = towns, columns = sectors, ``NaN`` = suppressed.
    reference : None, "uniform" or Series indexed by town
        ``None`` (default): each town's total published employment, the coefficient of
        localization. ``"uniform"``: every town weighs ``1/n``, the default of
        ``EconGeo::hoover_index`` and ``REAT::hoover`` when no reference is given. A Series
        (population, say) is used as given.
    missing : {"omit", "raise"}

    Returns
    -------
    Series indexed by sector, named ``hoover``. ``EconGeo::hoover_index`` reports
    ``round(100 H, 2)``.
    """
    Xk, Rk, es, Rs = _complete_cases(E, reference, missing)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.abs(Xk / np.where(es > 0, es, np.nan) - Rk / np.where(Rs > 0, Rs, np.nan))
    h = 0.5 * d.sum(axis=0)
    return pd.Series(np.where((es > 0) & (Rs > 0), h, np.nan), index=E.columns, name="hoover")


def locational_gini(E: pd.DataFrame, reference=None, weighted: bool = True, missing: str = "omit") -> pd.Series:
    """Locational Gini coefficient of each sector.

    ``weighted=True`` (Krugman 1991, ch. 2): towns are ordered by their location quotient
    ``LQ_rs = (E_rs / e_s) / (R_r / R)``; the Lorenz curve plots the cumulative reference
    share ``X`` against the cumulative sector share ``Y`` and
    ``G_s = 1 - sum_k (X_k - X_(k-1)) (Y_k + Y_(k-1))``, twice the area between the curve and
    the diagonal: 0 when the sector is spread like the reference, towards 1 when it sits in
    a town with a negligible share of the reference. ``EconGeo::locational_gini`` returns the
    area itself, ``G_s / 2`` (its "theoretical limit 0.5").

    ``weighted=False``: the ordinary (unweighted) Gini coefficient of the towns' location
    quotients, ``G_s = 2 / (n^2 mean(LQ)) sum_l l (LQ_(l) - mean(LQ))`` over the ``n`` towns
    with a positive reference mass, LQs sorted ascending (``REAT::gini.conc``; Farhauer &
    Kroell 2013).

    Towns whose cell is suppressed leave the sector's computation; towns with zero reference
    mass have no LQ and are left out of the unweighted version (they are zero-width steps
    of the weighted curve). Returns a Series indexed by sector, named ``locational_gini``.
    """
    Xk, Rk, es, Rs = _complete_cases(E, reference, missing)
    ok = (es > 0) & (Rs > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = Xk / np.where(es > 0, es, np.nan)
        x = Rk / np.where(Rs > 0, Rs, np.nan)
        lq = np.where(x > 0, y / np.where(x > 0, x, 1.0), np.nan)
    if weighted:
        # towns without reference mass only add vertical steps; they go last (LQ = +inf)
        key = np.where(np.isnan(lq), np.where(y > 0, np.inf, -np.inf), lq)
        order = np.argsort(key, axis=0, kind="stable")
        xs = np.take_along_axis(np.nan_to_num(x), order, axis=0)  # steps of the cumulative reference share
        cy = np.cumsum(np.take_along_axis(np.nan_to_num(y), order, axis=0), axis=0)
        cy_prev = np.vstack([np.zeros((1, cy.shape[1])), cy[:-1]])
        g = 1.0 - (xs * (cy + cy_prev)).sum(axis=0)
    else:
        n = np.sum(~np.isnan(lq), axis=0)
        ok &= n > 0
        srt = np.sort(lq, axis=0)  # NaN last
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(lq, axis=0) / np.where(n > 0, n, np.nan)
            lam = np.arange(1, lq.shape[0] + 1)[:, None]
            g = 2.0 / (n.astype(float) ** 2 * mean) * np.nansum(lam * (srt - mean), axis=0)
    return pd.Series(np.where(ok, g, np.nan), index=E.columns, name="locational_gini")


def _check_firms(firms: pd.DataFrame, town: str, sector: str, size: str) -> pd.DataFrame:
    need = [town, sector, size]
    absent = [c for c in need if c not in firms.columns]
    if absent:
        raise ValueError(f"firms must have columns {need}; missing {absent}")
    emp = pd.to_numeric(firms[size], errors="coerce")
    bad = emp.isna() | (emp < 0)
    if bad.any():
        raise ValueError(f"firms.{size} must be numbers >= 0; {int(bad.sum())} row(s) are not, "
                         f"e.g. row(s) {list(firms.index[bad.to_numpy()][:5])}")
    return firms.assign(**{size: emp.astype(float)})


def plant_herfindahl(firms: pd.DataFrame, sector: str = "sector", size: str = "employees") -> pd.Series:
    """Plant (firm) Herfindahl index of each sector, ``H_s = sum_j z_j^2`` with
    ``z_j = e_j / e_s`` the firm's share of the sector's employment (Ellison & Glaeser 1997,
    eq. 2). ``1/H_s`` is the sector's effective number of firms. ``NaN`` for a sector with
    no employees."""
    f = _check_firms(firms, sector, sector, size)
    return _plant_herfindahl(f, sector, size, f.groupby(sector, sort=True)[size].sum())


def _plant_herfindahl(f: pd.DataFrame, sector: str, size: str, tot: pd.Series) -> pd.Series:
    """:func:`plant_herfindahl` of checked firms, given each sector's employment ``tot``."""
    sq = (f[size] ** 2).groupby(f[sector]).sum().reindex(tot.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = sq / tot.where(tot > 0) ** 2
    return h.rename("plant_herfindahl")


def ellison_glaeser(firms: pd.DataFrame, town_employment: pd.Series | None = None, town: str = "town_id",
                    sector: str = "sector", size: str = "employees") -> pd.DataFrame:
    """Ellison-Glaeser (1997) index of geographic concentration of each sector, from firm data.

    ``gamma_s = (G_s - (1 - sum_r x_r^2) H_s) / ((1 - sum_r x_r^2)(1 - H_s))`` with the raw
    geographic concentration ``G_s = sum_r (s_rs - x_r)^2``, ``s_rs`` the town's share of the
    sector's employment, ``x_r`` the town's share of aggregate employment and ``H_s`` the plant
    Herfindahl (:func:`plant_herfindahl`). Under the dartboard model (firms located
    independently with probabilities ``x_r``) ``E[gamma] = 0``; ``gamma > 0`` means more
    concentration than the sector's firm sizes explain (spillovers, natural advantage).
    Same formulas as ``REAT::ellison.a2``.

    Parameters
    ----------
    firms : DataFrame
        One row per firm (or firm-year when there is a ``year`` column: the index is then
        computed for each year) with the town, sector and size columns.
    town_employment : Series, optional
        Aggregate employment by town giving ``x_r``, indexed by town, or by (town, year) for
        a registry with years. Default: the firms' own employment summed by town (all
        sectors), as ``REAT::ellison.a2``. Towns of the registry absent from it raise
        ``ValueError``.

    Returns
    -------
    DataFrame indexed by sector (or by year and sector) with ``n_firms``, ``employees``,
    ``G``, ``H`` and ``gamma``. ``gamma`` is ``NaN`` where ``H = 1`` (a one-firm sector) or the
    sector has no employees.
    """
    f = _check_firms(firms, town, sector, size)
    if "year" in f.columns:
        parts = []
        for y, fy in f.groupby("year", sort=True):  # one index per year; the work inside is vectorized
            ref = town_employment
            if ref is not None and isinstance(ref.index, pd.MultiIndex):
                ref = ref.xs(y, level=-1)
            parts.append(_eg(fy, ref, town, sector, size).assign(year=y))
        out = pd.concat(parts)
        return out.reset_index().set_index(["year", sector])
    return _eg(f, town_employment, town, sector, size)


def _eg(f: pd.DataFrame, town_employment, town: str, sector: str, size: str) -> pd.DataFrame:
    f = f.assign(**{town: f[town].astype(str), sector: f[sector].astype(str)})
    if town_employment is None:
        xr = f.groupby(town)[size].sum()
    else:
        xr = pd.Series(town_employment, dtype=float)
        xr.index = xr.index.astype(str)
        absent = sorted(set(f[town]) - set(xr.index))
        if absent:
            raise ValueError(f"town_employment lacks {len(absent)} town(s) of the firm registry, e.g. {absent[:5]}")
        if xr.isna().any() or (xr < 0).any():
            raise ValueError("town_employment must hold numbers >= 0 (no missing values)")
    total = xr.sum()
    if not total > 0:
        raise ValueError("aggregate employment is zero: no shares x_r")
    x = xr / total
    sum_x2 = float((x ** 2).sum())
    g = f.groupby(sector, sort=True)
    es = g[size].sum()
    n_firms = g.size()
    H = _plant_herfindahl(f, sector, size, es)
    cell = f.groupby([sector, town], sort=False)[size].sum()
    sec = cell.index.get_level_values(0)
    s_rs = cell.to_numpy() / es.reindex(sec).to_numpy()
    x_r = x.reindex(cell.index.get_level_values(1)).to_numpy()
    # G = sum_r s^2 - 2 sum_r s x + sum_r x^2, the first two sums over the towns with firms
    a = pd.Series(s_rs * s_rs - 2.0 * s_rs * x_r, index=sec).groupby(level=0).sum().reindex(es.index)
    G = a + sum_x2
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma = (G - (1.0 - sum_x2) * H) / ((1.0 - sum_x2) * (1.0 - H))
    gamma = gamma.where((es > 0) & (H < 1.0))
    out = pd.DataFrame({"n_firms": n_firms.astype("int64"), "employees": es, "G": G.where(es > 0), "H": H,
                        "gamma": gamma})
    out.index.name = sector
    return out
