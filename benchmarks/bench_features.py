"""Feature builder at Russia scale, against a plain per-town pandas baseline.

Data: ``typology.data.synth.generate`` with about 20,000 municipalities (small towns, rural
municipalities, agglomeration cores) x 20 years x 88 OKVED-2 divisions, about 10 million
employment rows and 2 million firm-year rows (``--quick``: a small panel, to check that the
benchmark runs).

Cases, each against a baseline measured in the same session that computes the same indices
town by town with ``groupby("town_id").apply``:

* the whole build (``build_features``); its baseline computes every per-town group and the
  network's PageRank and HITS with networkx, but not betweenness, so it does less work than
  the builder and the ratio is a lower bound;
* each per-town feature group alone (``FeatureBuilder(groups=[g]).fit_transform``);
* the ownership network, whose indices are not per-town quantities: the last year's network
  of all municipalities against networkx computing the same four indices
  (``pagerank``, ``hits``, ``betweenness_centrality``; the latter takes minutes per year at
  this scale), and all years without a baseline.

The baselines get the references (national shares, cores, the population field, the
classified registry, edges split by town) precomputed outside their timing; the builder's
timing includes learning them. The builder's cases run first, the baselines after them.
Baselines run once (minutes each at full scale); peak memory is measured for the builder only.
"""

from __future__ import annotations

import functools
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd

from benchmarks.harness import Case
from features import FeatureBuilder, FeatureWarning, build_features, employment_matrix
from features.builder import stagnation_status
from features.connectivity import EARTH_RADIUS_KM
from features.corporate import classify_groups, firm_years, ownership_edges
from features.sectors import hierarchy_from

GROUPS = ("specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics")
FULL = {"n_towns": 13_450, "n_years": 20, "firms_per_town": 3.5, "seed": 0}
QUICK = {"n_towns": 200, "n_years": 5, "firms_per_town": 3.5, "seed": 0}
TARGET = {"median_s": 30, "peak_mib": 4096, "speedup": 20}


@functools.lru_cache(maxsize=2)
def dataset(quick: bool):
    from typology.data.synth import generate

    return generate(**(QUICK if quick else FULL)).data


@functools.lru_cache(maxsize=2)
def context(quick: bool) -> SimpleNamespace:
    return context_for(dataset(quick))


def context_for(data) -> SimpleNamespace:
    """What the baselines get for free: long tables split by town and the references."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureWarning)
        fb = FeatureBuilder().fit(data)
    E = employment_matrix(data.employment)
    years = fb.years_
    nat = fb.national_
    towns = data.towns.set_index("town_id")
    classified = classify_groups(data.firms, data.groups, hierarchy=fb.hierarchy_)
    fy = firm_years(data.firms, classified, years=years)
    edges = ownership_edges(fy)
    edges["target_rural"] = edges["target"].isin(towns.index[towns["kind"] == "rural"])
    return SimpleNamespace(
        data=data, sectors=list(E.columns), years=years,
        nat=nat, nat_share=nat.div(nat.sum(axis=1), axis=0),
        section_of=hierarchy_from(E.columns, data.sectors),
        total=pd.Series(np.nansum(E.to_numpy(), axis=1), index=E.index),
        cores=set(fb.cores_), towns=towns, masses=fb.masses_.dropna(),
        rural=set(towns.index[towns["kind"] == "rural"]),
        fy=fy, edges=edges, outcomes=dict(tuple(data.outcomes.groupby("town_id"))),
        out_edges=dict(tuple(edges[edges["source"] != edges["target"]].groupby("source"))),
        in_edges=dict(tuple(edges[edges["source"] != edges["target"]].groupby("target"))),
        national_wage=fb.national_wage_,
    )


# ------------------------------------------------------------------------- per-town baseline

def _town_matrix(g: pd.DataFrame, sectors) -> pd.DataFrame:
    """Year x sector matrix of one town: absent rows 0, suppressed cells NaN."""
    wide = g.set_index(["year", "sector"])["employment"].fillna(-1.0).unstack(fill_value=0.0)
    wide = wide.reindex(columns=sectors, fill_value=0.0)
    X = wide.to_numpy(dtype=float)
    return pd.DataFrame(np.where(X == -1.0, np.nan, X), index=wide.index, columns=wide.columns)


def _spec_town(g, ctx):
    M = _town_matrix(g, ctx.sectors)
    k = len(ctx.sectors)
    S = ctx.nat_share.loc[M.index].where(M.notna())
    S = S.div(S.sum(axis=1), axis=0)
    s = M.div(M.sum(axis=1), axis=0)
    lq = (s / S).where(S > 0)
    lead = lq.idxmax(axis=1)
    pos = lq.columns.get_indexer(lead)
    with np.errstate(divide="ignore", invalid="ignore"):
        theil = (s * np.log(s / S)).where(s > 0, 0.0).sum(axis=1)
        hach = 1.0 / (s**2 / S).where(s > 0, 0.0).sum(axis=1)
    h = (s**2).sum(axis=1)
    return pd.DataFrame({"lq_max": lq.max(axis=1), "leading_sector": lead,
                         "leading_share": s.to_numpy()[np.arange(len(s)), pos],
                         "n_specialized": (lq >= 1).sum(axis=1).astype(float),
                         "krugman": (s - S).abs().sum(axis=1), "hhi": h, "hhi_norm": (h - 1 / k) / (1 - 1 / k),
                         "theil": theil, "hachman": hach, "ogive": ((s - 1 / k) ** 2 * k).sum(axis=1)})


def _entropy(p: pd.DataFrame) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(p * np.log(p)).where(p > 0, 0.0).sum(axis=1)


def _div_town(g, ctx):
    M = _town_matrix(g, ctx.sectors)
    s = M.div(M.sum(axis=1), axis=0)
    h = _entropy(s)
    P = s.fillna(0.0).T.groupby(ctx.section_of.to_numpy()).sum().T
    uv = _entropy(P)
    return pd.DataFrame({"entropy": h, "related_variety": h - uv, "unrelated_variety": uv,
                         "effective_sectors": 1.0 / (s**2).sum(axis=1)})


def _dyn_town(g, ctx):
    town = g.name
    M = _town_matrix(g, ctx.sectors)
    years = M.index.to_numpy()
    by = years.min()
    dt = (years - by).astype(float)
    dtn = np.where(dt > 0, dt, np.nan)
    tot = M.sum(axis=1)
    out = ctx.outcomes.get(town, pd.DataFrame(columns=["year", "population", "avg_wage"])).set_index("year")
    pop = out["population"].reindex(M.index)
    wage = out["avg_wage"].reindex(M.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = lambda x: 100 * (np.log(x) - np.log(x.loc[by])) / dtn  # noqa: E731
        res = pd.DataFrame({"pop_growth": growth(pop), "emp_growth": growth(tot), "wage_growth": growth(wage)})
    ent = _entropy(M.div(tot, axis=0))
    res["entropy_change"] = (ent - ent.loc[by]).where(dt > 0)
    # shift-share of every year against the base year, over the sectors published in both
    e0 = M.loc[[by]].to_numpy()
    e1 = M.to_numpy()
    both = ~(np.isnan(e0) | np.isnan(e1))
    a, b = np.where(both, e0, 0.0), np.where(both, e1, 0.0)
    n0 = ctx.nat.loc[by].to_numpy()
    n1 = ctx.nat.loc[years].to_numpy()
    gn = n1.sum(axis=1) / n0.sum() - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        gs = np.where(n0 > 0, n1 / np.where(n0 > 0, n0, 1.0) - 1, 0.0)
        base = np.where((a.sum(axis=1) > 0) & (dt > 0), a.sum(axis=1), np.nan)
    res["ss_national_share"] = np.where(np.isnan(base), np.nan, gn)
    res["ss_industry_mix"] = (a * (gs - gn[:, None])).sum(axis=1) / base
    res["ss_competitive"] = (b - a * (1 + gs)).sum(axis=1) / base
    nw = ctx.national_wage
    with np.errstate(divide="ignore", invalid="ignore"):
        nat_g = 100 * (np.log(nw.loc[years].to_numpy()) - np.log(nw.loc[by])) / dtn
    res["status"] = stagnation_status(res["pop_growth"], res["emp_growth"], res["wage_growth"], nat_g,
                                      res["ss_competitive"])
    return res


def _corp_town(f, ctx):
    town = f.name
    tot = ctx.total.xs(town, level="town_id")
    hq = f["hq_town_id"]
    ext = hq.notna() & (hq != town)
    core = ext & hq.isin(ctx.cores)
    by = f.groupby("year")
    emp = f["employees"]
    employer = f["group_id"].where(f["group_id"].notna(), "firm:" + f["firm_id"])
    largest = emp.groupby([f["year"], employer]).sum().groupby(level=0).max()
    res = pd.DataFrame({
        "corp_share": emp.where(f["vi"], 0.0).groupby(f["year"]).sum(),
        "external_control_share": emp.where(ext, 0.0).groupby(f["year"]).sum(),
        "core_control_share": emp.where(core, 0.0).groupby(f["year"]).sum(),
        "largest_employer_share": largest,
    }).reindex(tot.index).fillna(0.0).div(tot, axis=0)
    res["n_groups"] = by["group_id"].nunique().reindex(tot.index).fillna(0.0)
    return res


def _agg_town(t, ctx):
    town = t.name
    lat, lon = np.radians(t["lat"].iloc[0]), np.radians(t["lon"].iloc[0])
    dest = ctx.towns.loc[ctx.masses.index]
    la, lo = np.radians(dest["lat"].to_numpy()), np.radians(dest["lon"].to_numpy())
    a = np.sin((la - lat) / 2) ** 2 + np.cos(lat) * np.cos(la) * np.sin((lo - lon) / 2) ** 2
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    w = np.where(dest.index == town, 0.0, 1.0 / np.maximum(d, 1.0))
    is_core = dest.index.isin(list(ctx.cores))
    years = ctx.total.xs(town, level="town_id").index
    M = ctx.masses[years]
    none = ctx.edges.iloc[:0]
    e = pd.concat([ctx.out_edges.get(town, none), ctx.in_edges.get(town, none)])
    partner = e["target"].where(e["source"] == town, e["source"])
    links = partner[partner.isin(ctx.cores)].groupby(e["year"]).nunique()
    return pd.DataFrame({"dist_core_km": d[is_core].min(), "market_potential": w @ M.to_numpy(),
                         "core_access": (w * is_core) @ M.to_numpy(),
                         "core_links": links.reindex(years).fillna(0.0).to_numpy()}, index=years)


def _tv_town(g, ctx):
    town = g.name
    tot = g.groupby("year")["employment"].sum()  # the town's published employment per year
    e = ctx.out_edges.get(town, ctx.edges.iloc[:0])
    e = e[e["target_rural"]]
    return pd.DataFrame({"rural_reach": e.groupby("year")["weight"].sum().reindex(tot.index).fillna(0.0) / tot})


def _network_networkx(ctx, betweenness: bool = True):
    """PageRank, HITS and (optionally) betweenness with networkx, one network per year."""
    import networkx as nx

    out = []
    nodes = list(ctx.towns.index)
    e = ctx.edges[ctx.edges["source"] != ctx.edges["target"]]
    for y, ey in e.groupby("year"):  # one network per year
        G = nx.DiGraph()
        G.add_nodes_from(nodes)
        G.add_weighted_edges_from(zip(ey["source"], ey["target"], ey["weight"], strict=True))
        nx.set_edge_attributes(G, {(s, t): 1.0 / w for s, t, w in zip(ey["source"], ey["target"], ey["weight"],
                                                                       strict=True)}, "distance")
        pr = nx.pagerank(G, weight="weight")
        hubs, auth = nx.hits(G)
        cols = {"pagerank": pr, "hub": hubs, "authority": auth}
        if betweenness:
            cols["betweenness"] = nx.betweenness_centrality(G, weight="distance")
        out.append(pd.DataFrame(cols).assign(year=y))
    return pd.concat(out)


def baseline(group: str, ctx: SimpleNamespace, betweenness: bool = True) -> pd.DataFrame:
    """The indices of one feature group computed town by town (network: networkx by year)."""
    emp = ctx.data.employment
    if group == "specialization":
        return emp.groupby("town_id").apply(_spec_town, ctx)
    if group == "diversification":
        return emp.groupby("town_id").apply(_div_town, ctx)
    if group == "dynamics":
        return emp.groupby("town_id").apply(_dyn_town, ctx)
    if group == "corporate":
        return ctx.fy.groupby("town_id").apply(_corp_town, ctx)
    if group == "town_village":
        return emp.groupby("town_id").apply(_tv_town, ctx)
    towns = ctx.total.index.get_level_values("town_id").unique()
    t = ctx.towns.loc[towns].reset_index()
    if group == "agglomeration":
        return t.groupby("town_id").apply(_agg_town, ctx)
    if group == "network":
        return _network_networkx(ctx, betweenness=betweenness)
    raise ValueError(f"unknown group {group!r}")


def baseline_all(ctx: SimpleNamespace) -> dict[str, pd.DataFrame]:
    """Every group town by town, the network with networkx PageRank and HITS but without
    betweenness (networkx needs minutes per year for it at this scale; see the one-year
    network case), so the baseline does less work than the builder."""
    return {g: baseline(g, ctx, betweenness=False) for g in GROUPS}


@functools.lru_cache(maxsize=2)
def last_year(quick: bool):
    """The panel's last year alone (every municipality, one ownership network)."""
    data = dataset(quick)
    y = int(data.years.max())
    return data.replace(employment=data.employment[data.employment["year"] == y],
                        firms=data.firms[data.firms["year"] == y], outcomes=data.outcomes[data.outcomes["year"] == y])


@functools.lru_cache(maxsize=2)
def last_year_context(quick: bool) -> SimpleNamespace:
    return context_for(last_year(quick))


# ------------------------------------------------------------------------- cases

def _quiet(fn):
    def run(state):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FeatureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return fn(state)
    return run


def cases(quick: bool) -> list[Case]:
    params = QUICK if quick else FULL
    repeat = 2 if quick else 3
    label = "quick panel" if quick else "Russia scale"
    setup_data = functools.partial(dataset, quick)
    setup_ctx = functools.partial(context, quick)

    d = dataset(quick)
    s = d.summary()["rows"]
    note = (f"{label}: {int(s['towns']):,} municipalities, {len(d.years)} years, {int(s['employment']):,} "
            f"employment rows, {int(s['firms']):,} firm rows (typology.data.synth.generate({params}))")
    print(note, flush=True)
    feats = [Case(name="features: build_features, all groups", setup=setup_data,
                  run=_quiet(lambda data: build_features(data)), repeat=repeat,
                  baseline="baseline: per-town apply, all groups", note=note, target=dict(TARGET))]
    bases = [Case(name="baseline: per-town apply, all groups", setup=setup_ctx,
                  run=_quiet(baseline_all), repeat=1, measure_memory=False)]
    for g in GROUPS:
        if g == "network":
            continue
        feats.append(Case(name=f"features: {g}", setup=setup_data,
                          run=_quiet(lambda data, g=g: FeatureBuilder(groups=[g]).fit_transform(data)),
                          repeat=repeat, baseline=f"baseline: {g}", target=dict(TARGET)))
        bases.append(Case(name=f"baseline: {g}", setup=setup_ctx,
                          run=_quiet(lambda ctx, g=g: baseline(g, ctx)), repeat=1, measure_memory=False,
                          note="groupby('town_id').apply"))
    # the ownership network: all years (no baseline: networkx needs many minutes per year for
    # betweenness), and one year of the full network against networkx computing the same indices
    feats.append(Case(name="features: network, all years", setup=setup_data,
                      run=_quiet(lambda data: FeatureBuilder(groups=["network"]).fit_transform(data)),
                      repeat=repeat, target={"median_s": TARGET["median_s"], "peak_mib": TARGET["peak_mib"]}))
    feats.append(Case(name="features: network, last year", setup=functools.partial(last_year, quick),
                      run=_quiet(lambda data: FeatureBuilder(groups=["network"]).fit_transform(data)),
                      repeat=repeat, baseline="baseline: network, last year (networkx)", target=dict(TARGET)))
    bases.append(Case(name="baseline: network, last year (networkx)", setup=functools.partial(last_year_context, quick),
                      run=_quiet(lambda ctx: baseline("network", ctx)), repeat=1, measure_memory=False,
                      note="networkx pagerank, hits, betweenness_centrality"))
    # the builder runs first, before the baselines' contexts (millions of small Python objects
    # that every garbage collection would walk) exist
    return feats + bases
