"""Readable suggested names of types, built from the features that define them.

A name's words follow from the type's profile (:mod:`typology.estimator.profiles`). A feature enters
the name of a type only when all of these hold:

1. its type mean in model space (transformed, in reference standard deviations, ``z``) is at
   least ``min_z`` away from the reference (default 0.5: half a standard deviation, a "medium"
   difference in Cohen's sense);
2. the difference is significant: the Mann-Whitney test of the type against the other towns
   has Benjamini-Hochberg adjusted p-value below the profiles' ``alpha`` (0.05);
3. the two differences agree in sign: ``z`` and Cliff's delta (type vs the other towns);
4. for a feature with a natural zero (growth rates, changes and shift-share components:
   ``pop_growth``, ``emp_growth``, ``wage_growth``, ``entropy_change``, ``ss_*``, and any
   feature whose name ends in ``_growth`` or ``_change``), the type's mean in the feature's own
   units is non-zero, and the phrase agrees with its sign as well as with the sign of ``z``.

The largest ``|z|`` come first, at most ``max_terms`` of them. A feature without a natural
zero has a phrase for "high" (above the reference) and one for "low"; "corporate" means a
corporate share above the reference towns' average, whatever its level. A feature with a
natural zero has four, so that no word contradicts the type's own mean::

    above the reference, mean > 0   "growing"            (pop_growth)
    above the reference, mean < 0   "slowly shrinking"   shrinking less than the average town
    below the reference, mean > 0   "slowly growing"     growing less than the average town
    below the reference, mean < 0   "shrinking"

and likewise "with growing / slowly shrinking / slowly growing / shrinking employment",
"with fast wage growth / slowly falling wages / slow wage growth / falling wages",
"diversifying / slowly simplifying / slowly diversifying / simplifying" (entropy change),
"competitive / mildly uncompetitive / mildly competitive / uncompetitive" (competitive
shift), "with a growing / mildly declining / mildly growing / declining industry mix"; a
feature outside the vocabulary reads "with positive / small negative / small positive /
negative <name>". Phrases are adjectives placed before "town" or qualifiers placed after it::

    z(corp_share) = +1.4, z(dist_core_km) = +0.9  ->  "corporate town far from agglomerations"

A type with no feature passing the rules is "average town". When two types would get the
same name, more features are added to both until they differ; remaining duplicates get
" (type n)". The analyst can replace any name (``TownTypology.set_type_names``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PHRASES", "SIGNED_PHRASES", "has_natural_zero", "naming_terms", "suggest_names"]

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
}

#: feature with a natural zero -> (kind, (high & mean > 0, high & mean < 0, low & mean > 0, low & mean < 0))
SIGNED_PHRASES: dict[str, tuple[str, tuple[str, str, str, str]]] = {
    "pop_growth": (A, ("growing", "slowly shrinking", "slowly growing", "shrinking")),
    "emp_growth": (Q, ("with growing employment", "with slowly shrinking employment",
                       "with slowly growing employment", "with shrinking employment")),
    "wage_growth": (Q, ("with fast wage growth", "with slowly falling wages", "with slow wage growth",
                        "with falling wages")),
    "entropy_change": (A, ("diversifying", "slowly simplifying", "slowly diversifying", "simplifying")),
    "ss_competitive": (A, ("competitive", "mildly uncompetitive", "mildly competitive", "uncompetitive")),
    "ss_industry_mix": (Q, ("with a growing industry mix", "with a mildly declining industry mix",
                            "with a mildly growing industry mix", "with a declining industry mix")),
}


def has_natural_zero(feature: str) -> bool:
    """Whether the sign of a feature's level means something (growth rates, changes, shift-share)."""
    return feature in SIGNED_PHRASES or feature.startswith("ss_") or feature.endswith(("_growth", "_change"))


def _phrase(feature: str, high: bool, positive: bool | None) -> tuple[str, str]:
    if positive is not None:  # natural zero: the level's sign and the relative position both show
        slot = (0 if positive else 1) if high else (2 if positive else 3)
        if feature in SIGNED_PHRASES:
            kind, words = SIGNED_PHRASES[feature]
            return kind, words[slot]
        return Q, f"with {('positive', 'small negative', 'small positive', 'negative')[slot]} {feature}"
    if feature in PHRASES:
        return PHRASES[feature][0 if high else 1]
    return (Q, f"with {'high' if high else 'low'} {feature}")


def _compose(terms: list[tuple[str, bool, bool | None]]) -> str:
    adjs, posts, seen = [], [], set()
    for feature, high, positive in terms:
        kind, text = _phrase(feature, high, positive)
        if text in seen:  # e.g. two specialization indices saying the same
            continue
        seen.add(text)
        (adjs if kind == A else posts).append(text)
    if not adjs and not posts:
        return "average town"
    return " ".join(adjs + ["town"]) + "".join(f" {p}" if i == 0 else f", {p}" for i, p in enumerate(posts))


def naming_terms(profiles, min_z: float = 0.5) -> dict:
    """Per type, the features that may enter its name (rules 1-4 of the module docstring), as
    ``(feature, high, positive)`` with the largest ``|z|`` first; ``positive`` is the sign of
    the type's mean for a feature with a natural zero, else None."""
    z = profiles.z
    cols = list(z.columns)
    tests = profiles.tests
    p_adj = tests["p_adjusted"].unstack("feature").reindex(index=z.index, columns=cols)
    delta = tests["cliffs_delta"].unstack("feature").reindex(index=z.index, columns=cols)
    mean = profiles.mean.reindex(index=z.index, columns=cols)
    Zv, P, D, M = (f.to_numpy(dtype=float) for f in (z, p_adj, delta, mean))
    natural = np.array([has_natural_zero(c) for c in cols])
    with np.errstate(invalid="ignore"):
        ok = (np.abs(Zv) >= min_z) & (P < profiles.alpha) & (np.sign(D) == np.sign(Zv))
        ok &= ~natural[None, :] | (np.isfinite(M) & (M != 0))
    out = {}
    for i, t in enumerate(z.index):  # loop over types (k <= a few dozen), vectorized over features
        keep = np.flatnonzero(ok[i])
        keep = keep[np.lexsort((keep, -np.abs(Zv[i, keep])))]  # largest |z| first, then column order
        out[t] = [(cols[j], bool(Zv[i, j] > 0), bool(M[i, j] > 0) if natural[j] else None) for j in keep]
    return out


def suggest_names(profiles, min_z: float = 0.5, max_terms: int = 3) -> dict:
    """Suggested names of types from their profiles (a :class:`typology.estimator.profiles.TypeProfiles`).

    Uses ``profiles.z`` (model-space mean z-scores), ``profiles.tests`` (``p_adjusted``,
    ``cliffs_delta``), ``profiles.mean`` (type means in the features' units) and
    ``profiles.alpha``; see the module docstring for the rules and the vocabulary.
    """
    order = naming_terms(profiles, min_z)
    index = list(profiles.z.index)
    n_terms = dict.fromkeys(index, max_terms)
    names = {t: _compose(order[t][: n_terms[t]]) for t in index}
    for _ in range(profiles.z.shape[1]):
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
