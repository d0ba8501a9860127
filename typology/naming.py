"""Readable suggested names of types, built from the features that define them.

A type's defining features are those whose type mean in model space (transformed, in
reference standard deviations) is at least ``min_z`` away from the reference mean (default
0.5: half a standard deviation, a "medium" difference in Cohen's sense), the largest first, at
most ``max_terms`` of them. Each feature has a phrase for "high" and one for "low" (the
vocabulary below covers the canonical features; others read "high <name>" / "low <name>");
phrases are adjectives placed before "town" or qualifiers placed after it::

    z(corp_share) = +1.4, z(dist_core_km) = +0.9  ->  "corporate town far from agglomerations"

A type with no defining feature is "average town". When two types would get the same name,
more features are added to both until they differ; remaining duplicates get " (type n)".
The analyst can replace any name (``TownTypology.set_type_names``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PHRASES", "suggest_names"]

A, Q = "adj", "post"
#: feature -> ((kind, phrase) when high, (kind, phrase) when low); kind "adj" or "post"
PHRASES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "corp_share": ((A, "corporate"), (A, "non-corporate")),
    "external_control_share": ((A, "externally controlled"), (A, "locally controlled")),
    "core_control_share": ((Q, "controlled from agglomerations"), (Q, "not controlled from agglomerations")),
    "largest_employer_share": ((A, "single-employer"), (Q, "without a dominant employer")),
    "n_groups": ((Q, "with many corporate groups"), (Q, "with few corporate groups")),
    "dist_core_km": ((Q, "far from agglomerations"), (Q, "near an agglomeration")),
    "market_potential": ((A, "accessible"), (A, "isolated")),
    "core_access": ((Q, "with good access to agglomerations"), (Q, "with poor access to agglomerations")),
    "core_links": ((Q, "tied to agglomerations by ownership"), (Q, "without ownership ties to agglomerations")),
    "entropy": ((A, "diversified"), (A, "simplified")),
    "related_variety": ((Q, "with related variety"), (Q, "with little related variety")),
    "unrelated_variety": ((Q, "with unrelated variety"), (Q, "with little unrelated variety")),
    "effective_sectors": ((A, "diversified"), (A, "narrow")),
    "hhi": ((A, "concentrated"), (A, "unconcentrated")),
    "hhi_norm": ((A, "concentrated"), (A, "unconcentrated")),
    "krugman": ((A, "specialized"), (A, "unspecialized")),
    "theil": ((A, "specialized"), (A, "unspecialized")),
    "lq_max": ((A, "specialized"), (A, "unspecialized")),
    "leading_share": ((A, "one-sector"), (A, "many-sector")),
    "rural_reach": ((Q, "controlling its villages"), (Q, "detached from its villages")),
    "rural_links": ((Q, "tied to its villages"), (Q, "with weak village ties")),
    "pagerank": ((A, "central"), (A, "peripheral")),
    "hub": ((Q, "controlling other towns"), (Q, "controlling no other towns")),
    "authority": ((Q, "controlled from hubs"), (Q, "not controlled from hubs")),
    "betweenness": ((A, "brokering"), (A, "non-brokering")),
    "pop_growth": ((A, "growing"), (A, "shrinking")),
    "emp_growth": ((Q, "with growing employment"), (Q, "with shrinking employment")),
    "wage_growth": ((Q, "with fast wage growth"), (Q, "with slow wage growth")),
    "entropy_change": ((A, "diversifying"), (A, "simplifying")),
    "ss_competitive": ((A, "competitive"), (A, "uncompetitive")),
    "ss_industry_mix": ((Q, "with a growing industry mix"), (Q, "with a declining industry mix")),
}


def _phrase(feature: str, high: bool) -> tuple[str, str]:
    if feature in PHRASES:
        return PHRASES[feature][0 if high else 1]
    return (Q, f"with {'high' if high else 'low'} {feature}")


def _compose(terms: list[tuple[str, bool]]) -> str:
    adjs, posts, seen = [], [], set()
    for feature, high in terms:
        kind, text = _phrase(feature, high)
        if text in seen:  # e.g. two specialization indices saying the same
            continue
        seen.add(text)
        (adjs if kind == A else posts).append(text)
    if not adjs and not posts:
        return "average town"
    return " ".join(adjs + ["town"]) + "".join(f" {p}" if i == 0 else f", {p}" for i, p in enumerate(posts))


def suggest_names(z: pd.DataFrame, min_z: float = 0.5, max_terms: int = 3) -> dict:
    """Suggested names of types from their model-space mean z-scores (types x features)."""
    order = {}
    for t, row in z.iterrows():
        v = row.to_numpy(dtype=float)
        keep = np.flatnonzero(np.abs(v) >= min_z)
        keep = keep[np.lexsort((keep, -np.abs(v[keep])))]  # largest |z| first, then column order
        order[t] = [(z.columns[j], bool(v[j] > 0)) for j in keep]
    n_terms = dict.fromkeys(z.index, max_terms)
    names = {t: _compose(order[t][: n_terms[t]]) for t in z.index}
    for _ in range(z.shape[1]):
        groups = pd.Series(names).groupby(pd.Series(names)).groups
        clash = [list(ix) for ix in groups.values() if len(ix) > 1]
        grown = False
        for ts in clash:
            for t in ts:
                if n_terms[t] < len(order[t]):
                    n_terms[t] += 1
                    grown = True
                names[t] = _compose(order[t][: n_terms[t]])
        if not grown:
            break
    counts = pd.Series(names).value_counts()
    return {t: (f"{n} (type {t})" if counts[n] > 1 else n) for t, n in names.items()}
