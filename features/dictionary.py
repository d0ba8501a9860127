"""The data dictionary: every feature column with its group, one-line definition and source."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["FEATURES", "FeatureInfo", "data_dictionary"]


@dataclass(frozen=True)
class FeatureInfo:
    name: str
    group: str
    definition: str
    source: str


_F = FeatureInfo
FEATURES: tuple[FeatureInfo, ...] = (
    _F("lq_max", "specialization", "location quotient of the leading sector, max_s s_rs / S_s (S = national shares of the year)", "Isard (1960)"),
    _F("leading_sector", "specialization", "sector with the largest location quotient (ties: larger share)", "Isard (1960)"),
    _F("leading_share", "specialization", "town share s_rs of the leading sector", "-"),
    _F("n_specialized", "specialization", "number of published sectors with LQ >= 1", "Isard (1960)"),
    _F("krugman", "specialization", "Krugman dissimilarity sum_s |s_rs - S_s| against national shares", "Krugman (1991)"),
    _F("hhi", "specialization", "Herfindahl-Hirschman index sum_s s_rs^2", "Rhoades (1993)"),
    _F("hhi_norm", "specialization", "normalized HHI (H - 1/k) / (1 - 1/k), k = number of sectors of the fitted sector universe", "Rhoades (1993)"),
    _F("theil", "specialization", "Theil specialization sum_s s_rs ln(s_rs / S_s)", "Theil (1967)"),
    _F("hachman", "specialization", "Hachman index 1 / sum_s s_rs^2 / S_s", "Hachman (1995)"),
    _F("ogive", "specialization", "ogive index sum_s (s_rs - 1/k)^2 / (1/k)", "Tress (1938)"),
    _F("entropy", "diversification", "Shannon entropy -sum_s s_rs ln s_rs (nats)", "Shannon (1948); Frenken et al. (2007)"),
    _F("related_variety", "diversification", "entropy within OKVED sections weighted by section shares, sum_g P_g H_g", "Frenken, Van Oort & Verburg (2007)"),
    _F("unrelated_variety", "diversification", "entropy between OKVED sections, -sum_g P_g ln P_g", "Frenken, Van Oort & Verburg (2007)"),
    _F("effective_sectors", "diversification", "effective number of sectors 1 / HHI", "Adelman (1969)"),
    _F("corp_share", "corporate", "share of town employment in firms of vertically integrated groups (flagged, or present in >= 2 towns and >= 2 sections)", "firm registry; study definition"),
    _F("external_control_share", "corporate", "share of town employment in firms of groups headquartered in another town", "firm registry"),
    _F("core_control_share", "corporate", "share of town employment in firms of groups headquartered in an agglomeration core", "firm registry"),
    _F("largest_employer_share", "corporate", "largest employer (firm, or group with all its firms in the town) over town employment; >= 0.20 is the monotown criterion", "Decree No. 709 (2014)"),
    _F("n_groups", "corporate", "number of corporate groups with a firm in the town", "firm registry"),
    _F("dist_core_km", "agglomeration", "great-circle distance to the nearest agglomeration core, km (0 for a core)", "haversine, R = 6371.0088 km"),
    _F("market_potential", "agglomeration", "Harris market potential sum_{j != i} pop_j / d_ij, persons per km", "Harris (1954)"),
    _F("core_access", "agglomeration", "gravity access to agglomeration cores only, sum_{cores c != i} pop_c / d_ic", "Harris (1954)"),
    _F("core_links", "agglomeration", "number of agglomeration cores tied to the town by ownership, either direction", "firm registry"),
    _F("rural_reach", "town_village", "employment in rural municipalities controlled from the town, over the town's own employment", "firm registry"),
    _F("rural_links", "town_village", "sum of link weights between the town and rural municipalities (links table)", "links table"),
    _F("pagerank", "network", "weighted PageRank (damping 0.85) in the ownership network of the year", "Page et al. (1999)"),
    _F("hub", "network", "HITS hub score (controls towns that are controlled by few), sums to 1", "Kleinberg (1999)"),
    _F("authority", "network", "HITS authority score (controlled from important hubs), sums to 1", "Kleinberg (1999)"),
    _F("betweenness", "network", "directed betweenness, distance = 1 / employees, normalized", "Brandes (2001)"),
    _F("pop_growth", "dynamics", "annualized population growth since the town's base year, 100 (ln P_t - ln P_0) / (t - t0), % per year", "-"),
    _F("emp_growth", "dynamics", "annualized growth of published employment since the base year, % per year", "-"),
    _F("wage_growth", "dynamics", "annualized growth of the average wage since the base year, % per year", "-"),
    _F("entropy_change", "dynamics", "entropy now minus entropy in the base year (negative = simplification)", "-"),
    _F("ss_national_share", "dynamics", "shift-share national component since the base year, per base-year job (jobs of the sectors published in both years; = national growth rate)", "Dunn (1960)"),
    _F("ss_industry_mix", "dynamics", "shift-share industry-mix component, per base-year job; the three components add up to the growth of employment in the sectors published in both years", "Dunn (1960)"),
    _F("ss_competitive", "dynamics", "shift-share competitive component, per base-year job", "Dunn (1960)"),
    _F("status", "dynamics", "'stagnating': population and employment both fall since the base year; 'modernizing': not stagnating, the average wage outgrows the national average wage and ss_competitive >= 0; 'intermediate': otherwise; missing in the base year and where a needed growth rate is undefined", "study definition; features.builder.stagnation_status"),
    _F("coverage", "quality", "share of the town's reported sector cells that are published (1 = nothing suppressed)", "-"),
)

GROUPS = ("specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics")


def data_dictionary() -> pd.DataFrame:
    """The data dictionary as a DataFrame indexed by feature name, with columns ``group``,
    ``definition`` and ``source``: every column :class:`features.FeatureBuilder` can produce."""
    return pd.DataFrame([f.__dict__ for f in FEATURES]).set_index("name")
