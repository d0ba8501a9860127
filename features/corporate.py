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

from .panel import member, row_positions, sorted_factorize
from .sectors import hierarchy_from

__all__ = ["classify_groups", "corporate_ties", "firm_years", "ownership_edges"]


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
    # distinct towns and sections per group, counted on integer codes
    if "group_id" in firms.columns:
        gcode, guniq = pd.factorize(firms["group_id"])
    else:
        gcode, guniq = np.full(len(firms), -1, dtype=np.int64), np.array([], dtype=object)
    has = gcode >= 0
    tcode, tuniq = pd.factorize(firms["town_id"][has])
    scode, suniq = pd.factorize(firms["sector"][has].astype(str))
    sections = hierarchy_from(suniq, hierarchy).reindex([str(x) for x in suniq]).to_numpy()
    section_code, section_uniq = pd.factorize(sections)
    gcode = gcode[has]
    by_group = pd.Index(guniq)
    n_towns = pd.Series(_distinct_per_group(gcode, tcode, len(tuniq), len(guniq)), index=by_group)
    n_sections = pd.Series(_distinct_per_group(gcode, section_code[scode], len(section_uniq), len(guniq)),
                           index=by_group)
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


def _distinct_per_group(group: np.ndarray, value: np.ndarray, n_values: int, n_groups: int) -> np.ndarray:
    """Number of distinct ``value`` codes of each ``group`` code (codes >= 0)."""
    ok = value >= 0  # a missing value is not a value
    pairs = pd.unique(group[ok].astype(np.int64) * max(n_values, 1) + value[ok])
    return np.bincount(pairs // max(n_values, 1), minlength=n_groups)


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
    # look the groups up once per distinct group, not once per row
    codes, uniq = pd.factorize(f["group_id"])
    pos = classified.index.get_indexer(pd.Index(uniq, dtype=object))
    known = np.r_[pos >= 0, False]  # the last slot serves code -1 (independent firm) and unknown groups
    pos = np.r_[pos, -1]
    slot = np.where(codes >= 0, codes, len(uniq))
    ok = known[slot]
    at = np.where(ok, pos[slot], -1)  # -1: no classified group
    hq = pd.array(classified["hq_town_id"].astype("str"), dtype="str")
    f["hq_town_id"] = hq.take(at, allow_fill=True)
    f["vi"] = np.where(ok, classified["vertically_integrated"].to_numpy(dtype=bool)[np.maximum(at, 0)], False) \
        if len(classified) else np.zeros(len(f), dtype=bool)
    return f


def ownership_edges(fy: pd.DataFrame, town_kind: pd.Series | None = None) -> pd.DataFrame:
    """Intermunicipal control: one row per (year, source = headquarters town, target = firm town)
    with ``weight`` (employees) and ``n_firms``; independent firms have no edge. Self-loops
    (a group controlled from the firm's own town) are kept here, with ``source == target``;
    network measures leave them out. ``fy`` may also be the aggregated rows of
    :func:`features.firm_registry.employer_years` (each row counts its ``n_firms``)."""
    has = fy["hq_town_id"].notna().to_numpy()
    # one code per (year, source, target), numbered in sorted order
    ycode, years = sorted_factorize(fy["year"].to_numpy(dtype="int64")[has])
    scode, sources = sorted_factorize(fy["hq_town_id"][has].astype("str"))
    tcode, targets = sorted_factorize(fy["town_id"][has].astype("str"))
    ns, nt = max(len(sources), 1), max(len(targets), 1)
    edge, inverse = np.unique((ycode * ns + scode) * nt + tcode, return_inverse=True)
    return pd.DataFrame({
        "year": pd.array(years[edge // nt // ns], dtype="int64"),
        "source": pd.array(sources, dtype="str").take(edge // nt % ns),
        "target": pd.array(targets, dtype="str").take(edge % nt),
        "weight": np.bincount(inverse, weights=fy["employees"].to_numpy(dtype=float)[has],
                              minlength=len(edge)).astype(float),
        "n_firms": np.bincount(inverse, minlength=len(edge),
                               weights=fy["n_firms"].to_numpy(dtype=float)[has] if "n_firms" in fy.columns else None
                               ).astype("int64"),
    })


def corporate_ties(fy: pd.DataFrame, town_employment: pd.Series, cores) -> pd.DataFrame:
    """Shares of town employment by kind of control, per (town_id, year).

    Parameters
    ----------
    fy : DataFrame from :func:`firm_years`
        Or the aggregated rows of :func:`features.firm_registry.employer_years`: one row per
        town-year and group (its firms in the town counted together) or the town-year's
        independent firms, whose ``largest`` is then the largest of them.
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
    f = fy
    core_set = {str(c) for c in cores}
    idx = town_employment.index
    den = town_employment.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(den > 0, 1.0 / np.where(den > 0, den, 1.0), np.nan)
    # position of each firm-year's (town, year) in the output, -1 if the town-year has no row
    town = f["town_id"].astype("str")
    row = row_positions(idx, town, f["year"].to_numpy())
    inside = row >= 0
    n = len(idx)
    hq = f["hq_town_id"]
    has_hq = hq.notna().to_numpy()
    hq_s = hq.astype("str")
    ext = has_hq & (hq_s != town).to_numpy()
    core = ext & member(hq_s, core_set)
    emp = f["employees"].to_numpy(dtype=float)
    r = row[inside]

    def total(mask: np.ndarray) -> np.ndarray:
        return np.bincount(r, weights=np.where(mask, emp, 0.0)[inside], minlength=n)

    vi_sum = total(f["vi"].to_numpy(dtype=bool))
    ext_sum = total(ext)
    core_sum = total(core)
    # largest employer: a group counts all its firms in the town, an independent firm itself
    gcode, _ = pd.factorize(f["group_id"])
    if "largest" in f.columns:  # aggregated rows: each row one employer, its independents by their largest
        fcode, size = np.arange(len(f)), np.where(gcode >= 0, emp, f["largest"].to_numpy(dtype=float))
    else:
        (fcode, _), size = pd.factorize(f["firm_id"]), emp
    employer = np.where(gcode >= 0, gcode, -1 - fcode).astype(np.int64)  # groups >= 0, firms < 0
    ecode, euniq = pd.factorize(employer)
    key = r.astype(np.int64) * len(euniq) + ecode[inside]
    ukey, kinv = np.unique(key, return_inverse=True)
    by_employer = np.bincount(kinv, weights=size[inside])
    largest = np.zeros(n)
    if len(ukey):  # keys are sorted, so each town-year's employers are contiguous
        ty = ukey // len(euniq)
        starts = np.flatnonzero(np.r_[True, ty[1:] != ty[:-1]])
        largest[ty[starts]] = np.maximum.reduceat(by_employer, starts)
    # distinct groups per town-year
    gk = key[gcode[inside] >= 0]
    n_groups = np.bincount(np.unique(gk) // len(euniq), minlength=n).astype(float) if len(gk) else np.zeros(n)
    out = pd.DataFrame({
        "corp_share": vi_sum * inv,
        "external_control_share": ext_sum * inv,
        "core_control_share": core_sum * inv,
        "largest_employer_share": largest * inv,
        "n_groups": np.where(den > 0, n_groups, np.nan),
    }, index=idx)
    return out
