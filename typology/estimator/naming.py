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

from features.dictionary import FEATURES

__all__ = ["PHRASES", "SIGNED_PHRASES", "has_natural_zero", "naming_terms", "suggest_names"]

A, Q = "adj", "post"
#: feature -> ((kind, phrase) when high, (kind, phrase) when low); kind "adj" or "post"
#: (from the data dictionary's ``high`` and ``low``, ``features.dictionary.FEATURES``)
PHRASES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    f.name: (f.high, f.low) for f in FEATURES if f.high is not None}

#: feature with a natural zero -> (kind, (high & mean > 0, high & mean < 0, low & mean > 0, low & mean < 0))
#: (from the data dictionary's ``signed``)
SIGNED_PHRASES: dict[str, tuple[str, tuple[str, str, str, str]]] = {
    f.name: f.signed for f in FEATURES if f.signed is not None}

_NATURAL_ZERO = {f.name: f.natural_zero for f in FEATURES}


def has_natural_zero(feature: str) -> bool:
    """Whether the sign of a feature's level means something (growth rates, changes, shift-share):
    the data dictionary's ``natural_zero`` for its columns, the name's growth words otherwise."""
    if feature in _NATURAL_ZERO:
        return _NATURAL_ZERO[feature]
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
