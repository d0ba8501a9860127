"""The registry of feature columns: every column the feature builder can produce, described once.

Each column is one :class:`FeatureInfo`: its group, definition, unit, scale, source, the words a
typology name uses for it and the range its definition allows. Everything that needs a
per-column table is derived from :data:`FEATURES`:

* the builder's plan (which columns each group produces, in this order): :func:`group_columns`;
* the data dictionary (``features.data_dictionary()``, ``typology features --list``, the report);
* the range check of the feature table (:class:`features.FeatureValueError`): :func:`feature_range`;
* the typology's automatic transforms (``typology.estimator.transforms.AUTO_TRANSFORMS``, from
  ``scale``) and the naming tables (``typology.estimator.naming.PHRASES``, ``SIGNED_PHRASES``,
  ``has_natural_zero``, from ``high``, ``low``, ``signed`` and ``natural_zero``).

Adding an index is its kernel, its entry here (in the group's block, where its column goes) and
its test; the group module (``features.groups``) computes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["FEATURES", "GROUPS", "SCALES", "FeatureInfo", "data_dictionary", "feature", "feature_range",
           "group_columns"]

#: Feature groups a user can ask for (``FeatureBuilder(groups=...)``), in the order of the
#: feature table's columns. The ``quality`` group (``coverage``) is always built.
GROUPS = ("specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics")

#: What a feature's values are, for the typology's automatic transform: shares in [0, 1]
#: (empirical logit); non-negative, long-tailed values (log1p); values used as they are.
SCALES = {
    "share": "a share in [0, 1]",
    "ratio": "a non-negative ratio with a long right tail",
    "count": "a non-negative count (or an effective number)",
    "distance": "a distance in km",
    "potential": "a gravity potential (persons per km)",
    "amount": "a non-negative amount summed over ties",
    "entropy": "an entropy (nats)",
    "dissimilarity": "a dissimilarity from the reference structure",
    "centrality": "a network centrality score",
    "rate": "a growth rate or a change per base-year job (signed)",
    "change": "a difference between two years (signed)",
    "category": "a text label",
}

A, Q = "adj", "post"  # naming phrases: an adjective before "town", or a qualifier after it


@dataclass(frozen=True)
class FeatureInfo:
    """One column of the feature table.

    Attributes
    ----------
    name, group : the column and the feature group that computes it
    definition : one-line definition with the formula
    unit : unit of the values
    scale : kind of values (a key of :data:`SCALES`); the typology's automatic transform
    source : the reference (author, year) or the data it comes from
    high, low : ``(kind, phrase)`` a typology name uses for a type above / below the reference
        towns (kind ``"adj"``: before "town", ``"post"``: after it); None: generic words
    signed : for a feature with a natural zero, ``(kind, (high & mean > 0, high & mean < 0,
        low & mean > 0, low & mean < 0))``; None: generic words
    natural_zero : whether the sign of the level means something (growth, change, shift-share)
    lower, upper : closed range the definition allows (None: unbounded; ``"1/k"`` and ``"k"``
        stand for the number of fitted sectors)
    dtype : ``"float"`` or ``"str"``
    needs : inputs the column needs beyond its group's (``"links"``: the links table)
    """

    name: str
    group: str
    definition: str
    unit: str
    scale: str
    source: str
    high: tuple[str, str] | None = None
    low: tuple[str, str] | None = None
    signed: tuple[str, tuple[str, str, str, str]] | None = None
    natural_zero: bool = False
    lower: float | str | None = None
    upper: float | str | None = None
    dtype: str = "float"
    needs: tuple[str, ...] = ()


_F = FeatureInfo
_SPEC, _DIV, _CORP, _AGG, _TV, _NET, _DYN = GROUPS
#: Every column, in the order of the feature table (groups in :data:`GROUPS` order, then quality).
FEATURES: tuple[FeatureInfo, ...] = (
    # ------------------------------------------------------------------ specialization
    _F("lq_max", _SPEC, "location quotient of the leading sector, max_s s_rs / S_s (S = national shares of the year)",
       "ratio (1 = national share)", "ratio", "Isard (1960)",
       high=(A, "specialized"), low=(A, "unspecialized"), lower=0.0),
    _F("leading_sector", _SPEC, "sector with the largest location quotient (ties: larger share)",
       "sector code", "category", "Isard (1960)", dtype="str"),
    _F("leading_share", _SPEC, "town share s_rs of the leading sector", "share", "share", "-",
       high=(A, "one-sector"), low=(A, "many-sector"), lower=0.0, upper=1.0),
    _F("n_specialized", _SPEC, "number of published sectors with LQ >= 1", "sectors", "count", "Isard (1960)",
       lower=0.0),
    _F("krugman", _SPEC, "Krugman dissimilarity sum_s |s_rs - S_s| against national shares",
       "index in [0, 2]", "dissimilarity", "Krugman (1991)",
       high=(A, "specialized"), low=(A, "unspecialized"), lower=0.0, upper=2.0),
    _F("hhi", _SPEC, "Herfindahl-Hirschman index sum_s s_rs^2", "index in [1/k, 1]", "share", "Rhoades (1993)",
       high=(A, "concentrated"), low=(A, "unconcentrated"), lower="1/k", upper=1.0),
    _F("hhi_norm", _SPEC, "normalized HHI (H - 1/k) / (1 - 1/k), k = number of sectors of the fitted sector universe",
       "index in [0, 1]", "share", "Rhoades (1993)",
       high=(A, "concentrated"), low=(A, "unconcentrated"), lower=0.0, upper=1.0),
    _F("theil", _SPEC, "Theil specialization sum_s s_rs ln(s_rs / S_s)", "nats", "dissimilarity", "Theil (1967)",
       high=(A, "specialized"), low=(A, "unspecialized"), lower=0.0),
    _F("hachman", _SPEC, "Hachman index 1 / sum_s s_rs^2 / S_s", "index in [0, 1]", "ratio", "Hachman (1995)",
       lower=0.0, upper=1.0),
    _F("ogive", _SPEC, "ogive index sum_s (s_rs - 1/k)^2 / (1/k)", "index in [0, k - 1]", "ratio", "Tress (1938)",
       lower=0.0),
    # ------------------------------------------------------------------ diversification
    _F("entropy", _DIV, "Shannon entropy -sum_s s_rs ln s_rs (nats)", "nats", "entropy",
       "Shannon (1948); Frenken et al. (2007)", high=(A, "diversified"), low=(A, "simplified"), lower=0.0),
    _F("related_variety", _DIV, "entropy within OKVED sections weighted by section shares, sum_g P_g H_g", "nats",
       "entropy", "Frenken, Van Oort & Verburg (2007)",
       high=(Q, "with related variety"), low=(Q, "with little related variety"), lower=0.0),
    _F("unrelated_variety", _DIV, "entropy between OKVED sections, -sum_g P_g ln P_g", "nats", "entropy",
       "Frenken, Van Oort & Verburg (2007)",
       high=(Q, "with unrelated variety"), low=(Q, "with little unrelated variety"), lower=0.0),
    _F("effective_sectors", _DIV, "effective number of sectors 1 / HHI", "sectors", "count", "Adelman (1969)",
       high=(A, "diversified"), low=(A, "narrow"), lower=1.0, upper="k"),
    # ------------------------------------------------------------------ corporate
    _F("corp_share", _CORP, "share of town employment in firms of vertically integrated groups (flagged, or present "
       "in >= 2 towns and >= 2 sections)", "share", "share", "firm registry; study definition",
       high=(A, "corporate"), low=(A, "non-corporate"), lower=0.0, upper=1.0),
    _F("external_control_share", _CORP, "share of town employment in firms of groups headquartered in another town",
       "share", "share", "firm registry",
       high=(A, "externally controlled"), low=(A, "locally controlled"), lower=0.0, upper=1.0),
    _F("core_control_share", _CORP, "share of town employment in firms of groups headquartered in an agglomeration "
       "core", "share", "share", "firm registry",
       high=(Q, "controlled from agglomerations"), low=(Q, "not controlled from agglomerations"), lower=0.0,
       upper=1.0),
    _F("largest_employer_share", _CORP, "largest employer (firm, or group with all its firms in the town) over town "
       "employment; >= 0.20 is the monotown criterion", "share", "share", "Decree No. 709 (2014)",
       high=(A, "single-employer"), low=(Q, "without a dominant employer"), lower=0.0, upper=1.0),
    _F("n_groups", _CORP, "number of corporate groups with a firm in the town", "groups", "count", "firm registry",
       high=(Q, "with many corporate groups"), low=(Q, "with few corporate groups"), lower=0.0),
    # ------------------------------------------------------------------ agglomeration
    _F("dist_core_km", _AGG, "great-circle distance to the nearest agglomeration core, km (0 for a core)", "km",
       "distance", "haversine, R = 6371.0088 km",
       high=(Q, "far from agglomerations"), low=(Q, "near an agglomeration"), lower=0.0),
    _F("market_potential", _AGG, "Harris market potential sum_{j != i} pop_j / d_ij, persons per km",
       "persons per km", "potential", "Harris (1954)", high=(A, "accessible"), low=(A, "isolated"), lower=0.0),
    _F("core_access", _AGG, "gravity access to agglomeration cores only, sum_{cores c != i} pop_c / d_ic",
       "persons per km", "potential", "Harris (1954)",
       high=(Q, "with good access to agglomerations"), low=(Q, "with poor access to agglomerations"), lower=0.0),
    _F("core_links", _AGG, "number of agglomeration cores tied to the town by ownership, either direction", "cores",
       "count", "firm registry",
       high=(Q, "tied to agglomerations by ownership"), low=(Q, "without ownership ties to agglomerations"),
       lower=0.0),
    # ------------------------------------------------------------------ town_village
    _F("rural_reach", _TV, "employment in rural municipalities controlled from the town, over the town's own "
       "employment", "employees per employee", "ratio", "firm registry",
       high=(Q, "controlling its villages"), low=(Q, "detached from its villages"), lower=0.0),
    _F("rural_links", _TV, "sum of link weights between the town and rural municipalities (links table)",
       "link weight", "amount", "links table",
       high=(Q, "tied to its villages"), low=(Q, "with weak village ties"), lower=0.0, needs=("links",)),
    # ------------------------------------------------------------------ network
    _F("pagerank", _NET, "weighted PageRank (damping 0.85) in the ownership network of the year", "score (sums to 1)",
       "centrality", "Page et al. (1999)", high=(A, "central"), low=(A, "peripheral"), lower=0.0, upper=1.0),
    _F("hub", _NET, "HITS hub score (controls towns that are controlled by few), sums to 1", "score (sums to 1)",
       "centrality", "Kleinberg (1999)",
       high=(Q, "controlling other towns"), low=(Q, "controlling no other towns"), lower=0.0, upper=1.0),
    _F("authority", _NET, "HITS authority score (controlled from important hubs), sums to 1", "score (sums to 1)",
       "centrality", "Kleinberg (1999)",
       high=(Q, "controlled from hubs"), low=(Q, "not controlled from hubs"), lower=0.0, upper=1.0),
    _F("betweenness", _NET, "directed betweenness, distance = 1 / employees, normalized", "share of shortest paths",
       "centrality", "Brandes (2001)", high=(A, "brokering"), low=(A, "non-brokering"), lower=0.0, upper=1.0),
    # ------------------------------------------------------------------ dynamics
    _F("pop_growth", _DYN, "annualized population growth since the town's base year, 100 (ln P_t - ln P_0) / (t - t0), "
       "% per year", "% per year", "rate", "-", natural_zero=True,
       signed=(A, ("growing", "slowly shrinking", "slowly growing", "shrinking"))),
    _F("emp_growth", _DYN, "annualized growth of published employment since the base year, % per year", "% per year",
       "rate", "-", natural_zero=True,
       signed=(Q, ("with growing employment", "with slowly shrinking employment", "with slowly growing employment",
                   "with shrinking employment"))),
    _F("wage_growth", _DYN, "annualized growth of the average wage since the base year, % per year", "% per year",
       "rate", "-", natural_zero=True,
       signed=(Q, ("with fast wage growth", "with slowly falling wages", "with slow wage growth",
                   "with falling wages"))),
    _F("entropy_change", _DYN, "entropy now minus entropy in the base year (negative = simplification)", "nats",
       "change", "-", natural_zero=True,
       signed=(A, ("diversifying", "slowly simplifying", "slowly diversifying", "simplifying"))),
    _F("ss_national_share", _DYN, "shift-share national component since the base year, per base-year job (jobs of the "
       "sectors published in both years; = national growth rate)", "jobs per base-year job", "rate", "Dunn (1960)",
       natural_zero=True),
    _F("ss_industry_mix", _DYN, "shift-share industry-mix component, per base-year job; the three components add up "
       "to the growth of employment in the sectors published in both years", "jobs per base-year job", "rate",
       "Dunn (1960)", natural_zero=True,
       signed=(Q, ("with a growing industry mix", "with a mildly declining industry mix",
                   "with a mildly growing industry mix", "with a declining industry mix"))),
    _F("ss_competitive", _DYN, "shift-share competitive component, per base-year job", "jobs per base-year job", "rate",
       "Dunn (1960)", natural_zero=True,
       signed=(A, ("competitive", "mildly uncompetitive", "mildly competitive", "uncompetitive"))),
    _F("status", _DYN, "'stagnating': population and employment both fall since the base year; 'modernizing': not "
       "stagnating, the average wage outgrows the national average wage and ss_competitive >= 0; 'intermediate': "
       "otherwise; missing in the base year and where a needed growth rate is undefined", "category", "category",
       "study definition; features.builder.stagnation_status", dtype="str"),
    # ------------------------------------------------------------------ quality
    _F("coverage", "quality", "share of the town's reported sector cells that are published (1 = nothing suppressed)",
       "share", "share", "-", lower=0.0, upper=1.0),
)

_BY_NAME = {f.name: f for f in FEATURES}


def feature(name: str) -> FeatureInfo:
    """The registry entry of column ``name`` (``KeyError`` naming the known columns otherwise)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a feature column; known columns: {sorted(_BY_NAME)}") from None


def group_columns(group: str, available=()) -> list[str]:
    """The columns of ``group`` in table order; a column that ``needs`` an input is kept only
    when that input is in ``available`` (e.g. ``("links",)``)."""
    return [f.name for f in FEATURES if f.group == group and set(f.needs) <= set(available)]


def feature_range(name: str, k: int) -> tuple[float | None, float | None]:
    """Closed range ``(lower, upper)`` column ``name`` may take with ``k`` fitted sectors
    (None: unbounded; unknown columns are unbounded)."""
    f = _BY_NAME.get(name)
    if f is None:
        return None, None
    lo = 1.0 / k if f.lower == "1/k" else f.lower
    hi = float(k) if f.upper == "k" else f.upper
    return lo, hi


def data_dictionary() -> pd.DataFrame:
    """The data dictionary as a DataFrame indexed by feature name, with columns ``group``,
    ``definition``, ``unit``, ``scale`` and ``source``: every column
    :class:`features.FeatureBuilder` can produce, in the order of the feature table."""
    cols = ["group", "definition", "unit", "scale", "source"]
    return pd.DataFrame([[getattr(f, c) for c in cols] for f in FEATURES],
                        index=pd.Index([f.name for f in FEATURES], name="name"), columns=cols)
