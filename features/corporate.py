"""Corporate ties of towns from a firm registry (SPARK / Contour.Focus style) and its groups.

Pure functions on the contract's ``firms`` and ``groups`` tables:

* :func:`classify_groups`: which groups are vertically integrated, flagged in the data or
  inferred (present in at least ``min_towns`` towns and ``min_sections`` OKVED sections);
* :func:`firm_years`: the registry as one row per firm and year (a registry without ``year`` is
  a snapshot valid for every year asked for), joined with its group's headquarters;
* :func:`ownership_edges`: the intermunicipal control network, headquarters town -> firm
  town, weighted by employees;
* :func:`corporate_ties`: the per town-year shares of employment controlled in each way.

The monotown criterion: the largest employer (a firm, or a group counting all its firms in the
town) employs at least 20 percent of the town (Government of the Russian Federation, decree
No. 709 of 29.07.2014, criteria of single-industry municipalities).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .sectors import hierarchy_from

__all__ = ["classify_groups", "corporate_ties", "firm_years", "ownership_edges"]

MONOTOWN_SHARE = 0.20


def classify_groups(firms: pd.DataFrame, groups: pd.DataFrame, min_towns: int = 2, min_sections: int = 2,
                    hierarchy=None) -> pd.DataFrame:
    """Resolve each group's vertical integration.

    A group is vertically integrated when the ``vertically_integrated`` flag says so; where the
    flag is absent or empty it is inferred: the group has firms in at least ``min_towns`` towns
    and in at least ``min_sections`` OKVED sections (over the whole registry, all years).

    Returns a DataFrame indexed by ``group_id`` with ``hq_town_id``, ``n_towns``,
    ``n_sections``, ``vertically_integrated`` (bool) and ``vi_source``
    (``"flagged"`` or ``"inferred"``).
    """
    g = groups.set_index("group_id")
    has = firms[firms["group_id"].notna()] if "group_id" in firms.columns else firms.iloc[0:0]
    sec_map = hierarchy_from(pd.unique(firms["sector"].astype(str)), hierarchy)
    has = has.assign(section=has["sector"].astype(str).map(sec_map))
    n_towns = has.groupby("group_id")["town_id"].nunique()
    n_sections = has.groupby("group_id")["section"].nunique()
    out = pd.DataFrame({"hq_town_id": g["hq_town_id"].astype(str)}, index=g.index)
    out["n_towns"] = n_towns.reindex(out.index).fillna(0).astype("int64")
    out["n_sections"] = n_sections.reindex(out.index).fillna(0).astype("int64")
    inferred = (out["n_towns"] >= min_towns) & (out["n_sections"] >= min_sections)
    if "vertically_integrated" in g.columns:
        flag = g["vertically_integrated"].astype("boolean")
        known = flag.notna().to_numpy()
    else:
        flag = pd.Series(pd.NA, index=g.index, dtype="boolean")
        known = np.zeros(len(g), bool)
    out["vertically_integrated"] = np.where(known, flag.fillna(False).to_numpy(dtype=bool), inferred.to_numpy())
    out["vi_source"] = np.where(known, "flagged", "inferred")
    out.index.name = "group_id"
    return out


def firm_years(firms: pd.DataFrame, classified: pd.DataFrame, years=None) -> pd.DataFrame:
    """One row per firm and year with ``town_id``, ``year``, ``firm_id``, ``employees``,
    ``group_id``, ``hq_town_id`` and ``vi`` (the group is vertically integrated).

    A registry without ``year`` is a snapshot: it is repeated for every year in ``years``.
    """
    cols = ["firm_id", "town_id", "sector", "employees"] + [c for c in ("year", "group_id") if c in firms.columns]
    f = firms[cols].copy()
    if "group_id" not in f.columns:
        f["group_id"] = pd.Series(pd.NA, index=f.index, dtype="str")
    if "year" not in f.columns:
        if years is None:
            raise ValueError("a firm registry without 'year' needs the years it applies to")
        yrs = np.asarray(sorted(set(int(y) for y in years)), dtype="int64")
        f = f.loc[f.index.repeat(len(yrs))].reset_index(drop=True)
        f["year"] = np.tile(yrs, len(firms))
    f["year"] = f["year"].astype("int64")
    f["hq_town_id"] = f["group_id"].map(classified["hq_town_id"])
    f["vi"] = f["group_id"].map(classified["vertically_integrated"]).fillna(False).astype(bool)
    return f


def ownership_edges(fy: pd.DataFrame, town_kind: pd.Series | None = None) -> pd.DataFrame:
    """Intermunicipal control: one row per (year, source = headquarters town, target = firm town)
    with ``weight`` (employees) and ``n_firms``; independent firms have no edge. Self-loops
    (a group controlled from the firm's own town) are kept here, with ``source == target``;
    network measures leave them out."""
    g = fy[fy["hq_town_id"].notna()]
    e = (g.groupby(["year", "hq_town_id", "town_id"], sort=True)
           .agg(weight=("employees", "sum"), n_firms=("firm_id", "size"))
           .reset_index()
           .rename(columns={"hq_town_id": "source", "town_id": "target"}))
    e["source"] = e["source"].astype(str)
    e["target"] = e["target"].astype(str)
    return e


def corporate_ties(fy: pd.DataFrame, town_employment: pd.Series, cores) -> pd.DataFrame:
    """Shares of town employment by kind of control, per (town_id, year).

    Parameters
    ----------
    fy : DataFrame from :func:`firm_years`
    town_employment : Series indexed by (town_id, year)
        The denominator: published total employment of the town-year.
    cores : iterable of town_id
        Agglomeration cores.

    Returns
    -------
    DataFrame indexed like ``town_employment`` with ``corp_share`` (employees of firms in
    vertically integrated groups), ``external_control_share`` (firms of groups headquartered in
    another town), ``core_control_share`` (firms of groups headquartered in an agglomeration
    core other than the town), ``largest_employer_share`` (largest firm or group, all its firms
    in the town counted together), ``n_groups`` (distinct groups with a firm in the town). Each
    share is divided by ``town_employment``; a town-year whose registry has no firm gets 0 (the
    registry is taken as complete) and one with no published employment ``NaN``. Shares above 1
    (registry larger than the published statistics) are kept as they are.
    """
    core_set = {str(c) for c in cores}
    f = fy
    own = f["hq_town_id"].astype("str")
    ext = f["hq_town_id"].notna() & (own != f["town_id"].astype(str))
    core = ext & own.isin(core_set)
    emp = f["employees"].to_numpy(dtype=float)
    parts = pd.DataFrame({
        "town_id": f["town_id"].astype(str).to_numpy(),
        "year": f["year"].to_numpy(),
        "vi": np.where(f["vi"].to_numpy(), emp, 0.0),
        "ext": np.where(ext.to_numpy(), emp, 0.0),
        "core": np.where(core.to_numpy(), emp, 0.0),
    })
    sums = parts.groupby(["town_id", "year"], sort=False)[["vi", "ext", "core"]].sum()
    employer = f["group_id"].astype("str").where(f["group_id"].notna(), "firm:" + f["firm_id"].astype(str))
    by_emp = pd.DataFrame({"town_id": parts["town_id"], "year": parts["year"], "employer": employer.to_numpy(), "e": emp})
    largest = by_emp.groupby(["town_id", "year", "employer"], sort=False)["e"].sum().groupby(level=[0, 1]).max()
    n_groups = f[f["group_id"].notna()].assign(town_id=lambda d: d["town_id"].astype(str)).groupby(["town_id", "year"])["group_id"].nunique()
    idx = town_employment.index
    den = town_employment.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(den > 0, 1.0 / np.where(den > 0, den, 1.0), np.nan)

    def share(s: pd.Series) -> np.ndarray:
        return s.reindex(idx).fillna(0.0).to_numpy() * inv

    out = pd.DataFrame({
        "corp_share": share(sums["vi"]),
        "external_control_share": share(sums["ext"]),
        "core_control_share": share(sums["core"]),
        "largest_employer_share": share(largest),
        "n_groups": n_groups.reindex(idx).fillna(0).to_numpy(dtype=float),
    }, index=idx)
    out.loc[~(den > 0), "n_groups"] = np.nan
    return out
