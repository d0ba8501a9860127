"""Synthetic northern towns with known truth: the embedded dataset of the demo and the tests.

The generator encodes the study's mechanisms (small towns of Russia's North: towns embedded
in the networks of vertically integrated corporations and tied to agglomerations modernize,
detached towns stagnate, post-Soviet economies were simplified) in a dataset that follows the
data contract, so that every stage of the toolkit can be checked against a truth it did not
see.

Municipalities
    * ``n_cores`` agglomeration cores (population >= 250,000, all sectors present), placed in
      a northern band (latitude 60-72 N, longitude 30-170 E);
    * ``n_towns`` small towns of four true types (about a quarter each):

      ``integrated_connected``  embedded in a vertically integrated (VI) corporation whose
                                headquarters is in a core, 40-220 km from a core; an anchor
                                firm (mining or heavy industry) with about 30 % of the jobs,
                                its suppliers partly in the group, a broad service base;
                                stable population.
      ``corporate_remote``      a corporate town 450+ km from any core: the anchor firm holds
                                about half of the jobs (a monotown), few other sectors, the
                                group's headquarters in a core or in a remote corporate town;
                                population falls about 1 % a year.
      ``diversified_satellite`` 40-220 km from a core, many manufacturing and service sectors,
                                independent firms and retail chains from the cores; growing.
      ``detached_simplified``   450+ km from any core, no corporate ties, a public-sector
                                economy that loses sectors over the years (entropy falls)
                                and its ties with villages; population falls about 2 % a year.
    * rural municipalities around the towns (``kind = "rural"``), agriculture, forestry and
      public services, some firms controlled from their town (rarely for detached towns, whose
      town-village ties are lost over time).

Employment by OKVED-2 division for every municipality and year; small cells of sectors
without registered firms are suppressed (empty) at random, as Rosstat does.

Firm registry (one row per firm and year) and corporate groups: VI groups (flagged in
``groups.vertically_integrated`` or left empty to be inferred: they span >= 2 towns and >= 2
sections), retail chains (one section, never VI) and local holdings controlled from small
towns. Corporate ties change over time: VI groups buy suppliers and local firms (enter) and
sell them (leave), anchor firms change owner between groups headquartered in cores and
elsewhere, retail chains enter towns.

Outcomes (``population``, ``avg_wage``, ``investment``) with known equations, for every
municipality and year present::

    log(avg_wage)_it   = a_i + g_t + 0.25 corp_share_it + 0.10 core_control_share_it
                         + 0.40 corp_share_it * core_control_share_it + e_it,  sd(e) = 0.04
    log(investment)_it = b_i + h_t + 1.20 corp_share_it + 0.60 core_control_share_it + u_it,
                                                                              sd(u) = 0.15

where ``corp_share`` (share of employment in firms of VI groups) and ``core_control_share``
(share in firms of groups headquartered in a core) are computed from the generated registry
and the published employment exactly as the feature builder defines them; ``a_i, b_i`` are
town effects correlated with the type, ``g_t, h_t`` year effects.

Unbalanced panel: about 12 % of the towns enter the data 1 to 4 years late, and about 4 % of
outcome cells are missing at random. Everything is drawn from one ``numpy`` generator seeded
by ``seed``: the same arguments give identical files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import TownData
from features.connectivity import EARTH_RADIUS_KM
from features.connectivity import haversine_matrix as _haversine
from features.sectors import OKVED_DIVISIONS
from features.validation import YEAR_RANGE as _YEAR_RANGE

__all__ = ["TYPES", "SyntheticDataset", "generate"]

TYPES = ("integrated_connected", "corporate_remote", "diversified_satellite", "detached_simplified")
TYPE_DESCRIPTIONS = {
    "integrated_connected": "embedded in a vertically integrated corporation and tied to an agglomeration",
    "corporate_remote": "corporate (single-industry) town far from agglomerations",
    "diversified_satellite": "diversified satellite of an agglomeration",
    "detached_simplified": "detached town with a simplified, shrinking economy",
}

WAGE_COEF = {"corp_share": 0.25, "core_control_share": 0.10, "corp_share:core_control_share": 0.40}
INVEST_COEF = {"corp_share": 1.20, "core_control_share": 0.60}
WAGE_SD = 0.04
INVEST_SD = 0.15

_CORE_SITES = [  # (lat, lon): plausible sites of northern agglomeration cores
    (64.54, 40.54), (68.97, 33.07), (61.67, 50.84), (61.25, 73.40), (62.03, 129.73), (66.53, 66.60),
    (67.50, 86.00), (63.50, 110.00), (60.10, 150.80), (69.30, 160.00), (65.00, 95.00), (61.00, 120.00),
]
_REGIONS = ["08", "11", "29", "51", "71", "87", "89", "24", "14", "49", "83", "75"]

_BASE = {"47": 10, "84": 6, "85": 9, "86": 7, "49": 4, "35": 3, "36": 1, "38": 1, "41": 3, "43": 2, "56": 2,
         "68": 2, "96": 1, "46": 2, "52": 2, "53": 1, "61": 1, "64": 1, "88": 2, "45": 1, "10": 1, "93": 0.5,
         "90": 0.5, "95": 0.5, "55": 0.5, "69": 0.5, "70": 0.3, "71": 0.5, "80": 0.3, "81": 1, "82": 0.3}
_EXTRA = ["11", "13", "14", "15", "16", "18", "20", "22", "23", "25", "26", "27", "28", "29", "31", "32", "33",
          "42", "58", "62", "63", "65", "66", "72", "73", "74", "75", "77", "78", "79", "87", "91", "92", "94"]
_CHAIN = ["09", "33", "52", "71", "35", "49"]
_ANCHORS = ["05", "06", "07", "08", "24", "17", "16"]
_RURAL = {"01": 8, "02": 4, "03": 2, "85": 5, "86": 3, "47": 4, "84": 3, "35": 1, "49": 1}
_DETACHED = {"47": 10, "84": 9, "85": 11, "86": 9, "35": 3, "49": 3, "02": 3, "03": 2, "36": 1, "68": 1, "96": 1,
             "56": 1, "88": 2}

_SYLL_A = ["Severo", "Polyarno", "Ust-", "Novo", "Krasno", "Zapolyarno", "Belo", "Kamenno", "Lesno", "Ozerno",
           "Verkhne", "Nizhne", "Sredne", "Sosno", "Kedro", "Pechoro"]
_SYLL_B = ["dvinsk", "vorsk", "ozersk", "gorsk", "yarsk", "kamsk", "lesk", "morsk", "rechensk", "borsk",
           "ural'sk", "polyarsk", "sopka", "bereg", "zavodsk", "rudnyi"]


@dataclass(frozen=True)
class SyntheticDataset:
    """A generated dataset with its truth.

    ``data`` is the validated :class:`features.TownData`; ``truth`` the JSON-ready dict written
    to ``truth.json`` (types of towns, true coefficients); ``regressors`` the true
    ``corp_share`` and ``core_control_share`` of every municipality-year, as the generator
    computed them.
    """

    data: TownData
    truth: dict
    regressors: pd.DataFrame


def _destination(lat, lon, dist_km, bearing):
    """Point at ``dist_km`` and ``bearing`` (radians) from (lat, lon) on the sphere."""
    p1, l1 = np.radians(lat), np.radians(lon)
    d = dist_km / EARTH_RADIUS_KM
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(bearing))
    l2 = l1 + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 540.0) % 360.0 - 180.0


def _profile(weights: dict, sectors: list[str]) -> np.ndarray:
    v = np.zeros(len(sectors))
    pos = {s: i for i, s in enumerate(sectors)}
    for k, w in weights.items():
        v[pos[k]] = w
    return v


def check_arguments(n_towns: int = 300, n_years: int = 15, seed: int = 0, start_year: int = 2010) -> None:
    """Raise ``ValueError`` naming the argument that :func:`generate` cannot honour.

    ``n_towns >= 8`` (two towns of each of the four true types), ``n_years >= 5`` (ownership
    changes happen between the third and the last year), ``seed >= 0`` (numpy's
    ``default_rng``), and every year within the range the data contract accepts.
    """
    lo, hi = _YEAR_RANGE

    def whole(name, v):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ValueError(f"{name} must be a whole number, got {v!r}")

    for name, v in (("n_towns", n_towns), ("n_years", n_years), ("seed", seed), ("start_year", start_year)):
        whole(name, v)
    if n_towns < 8:
        raise ValueError(f"n_towns must be at least 8 (two towns of each true type), got {n_towns}")
    if n_years < 5:
        raise ValueError(f"n_years must be at least 5 (ownership changes happen between the third and the last year), "
                         f"got {n_years}")
    if seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed}")
    if start_year < lo or start_year + n_years - 1 > hi:
        raise ValueError(f"the years {start_year}..{start_year + n_years - 1} (start_year, n_years) must lie in "
                         f"{lo}..{hi}, the range the data contract accepts")


def generate(n_towns: int = 300, n_years: int = 15, seed: int = 0, start_year: int = 2010, n_cores: int | None = None,
             rural_per_town: float = 0.5, firms_per_town: float = 5.0, suppress_rate: float = 0.1,
             late_entry_rate: float = 0.12, missing_outcome_rate: float = 0.04) -> SyntheticDataset:
    """Generate the synthetic northern-towns dataset (see the module docstring).

    Parameters
    ----------
    n_towns : int
        Small towns with a true type (at least 8).
    n_years : int
        Years ``start_year .. start_year + n_years - 1`` (at least 5).
    seed : int
        Seed of the one random generator behind every draw.
    n_cores : int, optional
        Agglomeration cores; default ``clip(n_towns // 50, 4, 12)``, more only for very large
        panels.
    rural_per_town : float
        Mean number of rural municipalities per town.
    firms_per_town : float
        Scale of the registry: registered (large and medium) firms per municipality besides
        the anchor and chain firms.
    """
    check_arguments(n_towns=n_towns, n_years=n_years, seed=seed, start_year=start_year)
    rng = np.random.default_rng(seed)
    T = n_years
    years = np.arange(start_year, start_year + T)
    sectors = sorted(OKVED_DIVISIONS)
    S = len(sectors)
    spos = {s: i for i, s in enumerate(sectors)}
    if n_cores is None:
        n_cores = int(np.clip(n_towns // 50, 4, 12)) if n_towns <= 5000 else max(12, n_towns // 400)

    # ---------------------------------------------------------------- municipalities
    n_sites = min(n_cores, len(_CORE_SITES))
    core_lat = np.array([s[0] for s in _CORE_SITES[:n_sites]])
    core_lon = np.array([s[1] for s in _CORE_SITES[:n_sites]])
    if n_cores > n_sites:
        core_lat = np.r_[core_lat, rng.uniform(60.5, 71.5, n_cores - n_sites)]
        core_lon = np.r_[core_lon, rng.uniform(32, 168, n_cores - n_sites)]
    core_pop = np.round(rng.uniform(260_000, 650_000, n_cores))

    counts = np.full(4, n_towns // 4)
    counts[: n_towns % 4] += 1
    ttype = rng.permutation(np.repeat(np.arange(4), counts))
    near = np.isin(ttype, [0, 2])
    lat = np.empty(n_towns)
    lon = np.empty(n_towns)
    home_core = rng.integers(0, n_cores, n_towns)
    d_near = rng.uniform(40, 220, n_towns)
    brg = rng.uniform(0, 2 * np.pi, n_towns)
    nl, nlo = _destination(core_lat[home_core], core_lon[home_core], d_near, brg)
    lat[near], lon[near] = nl[near], nlo[near]
    # far towns: of 24 candidates in the band, the one farthest from every core
    n_far = int((~near).sum())
    cand_lat = rng.uniform(60.0, 72.0, (n_far, 24))
    cand_lon = rng.uniform(30.0, 170.0, (n_far, 24))
    dmin = _haversine(cand_lat.ravel(), cand_lon.ravel(), core_lat, core_lon).min(axis=1).reshape(n_far, 24)
    ok = dmin >= 450.0
    score = np.where(ok, rng.random((n_far, 24)), -1.0 + dmin / 1e5)
    pick = score.argmax(axis=1)
    lat[~near] = cand_lat[np.arange(n_far), pick]
    lon[~near] = cand_lon[np.arange(n_far), pick]

    n_rural_each = np.minimum(rng.poisson(rural_per_town, n_towns), 3)
    parent = np.repeat(np.arange(n_towns), n_rural_each)
    n_rural = len(parent)
    r_lat, r_lon = _destination(lat[parent], lon[parent], rng.uniform(15, 60, n_rural), rng.uniform(0, 2 * np.pi, n_rural))

    N = n_cores + n_towns + n_rural
    kind = np.array(["town"] * (n_cores + n_towns) + ["rural"] * n_rural, dtype=object)
    m_lat = np.r_[core_lat, lat, r_lat]
    m_lon = np.r_[core_lon, lon, r_lon]
    # role: 0..3 town types, 4 core, 5 rural
    role = np.r_[np.full(n_cores, 4), ttype, np.full(n_rural, 5)]
    town_of = np.r_[np.arange(n_cores) * 0 - 1, np.arange(n_towns), parent]  # parent town index, -1 for cores
    dist_cores = _haversine(m_lat, m_lon, core_lat, core_lon)
    region_idx = dist_cores.argmin(axis=1)
    codes = np.array(_REGIONS)[region_idx % len(_REGIONS)]
    serial = np.arange(N) + 1
    town_id = np.array([f"{c}{s:06d}" for c, s in zip(codes, serial, strict=True)], dtype=object)
    names = np.array([f"{_SYLL_A[a]}{_SYLL_B[b]}" for a, b in zip(rng.integers(0, 16, N), rng.integers(0, 16, N), strict=True)], dtype=object)
    names[:n_cores] = [f"Core city {i + 1}" for i in range(n_cores)]
    names = np.array([f"{n} {i}" for n, i in zip(names, serial, strict=True)], dtype=object)

    # population paths
    pop0 = np.empty(N)
    lo_hi = {0: (20e3, 80e3), 1: (10e3, 60e3), 2: (10e3, 50e3), 3: (3e3, 25e3), 5: (1.5e3, 9e3)}
    pop0[:n_cores] = core_pop
    for r, (lo, hi) in lo_hi.items():
        sel = role == r
        pop0[sel] = np.exp(rng.uniform(np.log(lo), np.log(hi), sel.sum()))
    trend = np.select([role == 0, role == 1, role == 2, role == 3, role == 4, role == 5],
                      [0.0, -0.011, 0.005, -0.02, 0.005, -0.015]) + rng.normal(0, 0.003, N)
    t_idx = np.arange(T)
    pop = pop0[:, None] * np.exp(trend[:, None] * t_idx[None, :] + rng.normal(0, 0.004, (N, T)))
    pop = np.round(pop)

    # first year of each municipality (late entry of some small towns)
    first = np.zeros(N, dtype=int)
    late = (role <= 3) & (rng.random(N) < late_entry_rate)
    first[late] = rng.integers(1, 5, late.sum())
    first[role == 5] = first[np.maximum(town_of[role == 5], 0) + n_cores] * (town_of[role == 5] >= 0)
    present = t_idx[None, :] >= first[:, None]  # N x T

    # ---------------------------------------------------------------- sector structure
    W = np.zeros((N, S))
    base = _profile(_BASE, sectors)
    extra_mask = np.zeros(S)
    extra_mask[[spos[s] for s in _EXTRA]] = 1.0
    chain_idx = np.array([spos[s] for s in _CHAIN])
    anchor_choice = rng.integers(0, len(_ANCHORS), N)
    anchor_idx = np.array([spos[_ANCHORS[a]] for a in anchor_choice])
    rows = np.arange(N)
    # cores: everything
    W[role == 4] = base + extra_mask * 1.5 + 0.3
    # satellites: base + broad extras
    sat = role == 2
    W[sat] = base + extra_mask * rng.uniform(0.5, 2.0, (sat.sum(), S))
    # integrated: base + some extras + chain + anchor (~30 %)
    integ = role == 0
    W[integ] = base + extra_mask * (rng.random((integ.sum(), S)) < 0.35) * rng.uniform(0.5, 1.5, (integ.sum(), S))
    # remote corporate: thin base
    rem = role == 1
    W[rem] = base * (rng.random((rem.sum(), S)) < 0.55)
    W[rem, spos["47"]] = base[spos["47"]]
    W[rem, spos["84"]] = base[spos["84"]]
    corp_town = integ | rem
    W[np.ix_(corp_town, chain_idx)] += 6.0
    # detached: public sector economy
    det = role == 3
    W[det] = _profile(_DETACHED, sectors) * (rng.random((det.sum(), S)) < 0.85)
    W[det, spos["84"]] = _DETACHED["84"]
    W[role == 5] = _profile(_RURAL, sectors)
    W = W * rng.gamma(6.0, 1.0 / 6.0, (N, S))
    # anchor share: 30 % integrated, 50 % remote
    anchor_share = np.where(integ, rng.uniform(0.25, 0.35, N), np.where(rem, rng.uniform(0.45, 0.58, N), 0.0))
    W[rows[corp_town], anchor_idx[corp_town]] = 0.0
    Wn = W / W.sum(axis=1, keepdims=True)
    Wn = Wn * (1.0 - anchor_share)[:, None]
    Wn[rows[corp_town], anchor_idx[corp_town]] = anchor_share[corp_town]

    # shares drift over time; detached towns lose small sectors (simplification)
    drift = rng.normal(0, 0.01, (N, S))
    shares = Wn[:, None, :] * np.exp(drift[:, None, :] * t_idx[None, :, None])  # N x T x S
    small = (Wn > 0) & (Wn < 0.05) & det[:, None] & (rng.random((N, S)) < 0.6)
    lose_year = rng.integers(2, T, (N, S))
    gone = small[:, None, :] & (t_idx[None, :, None] >= lose_year[:, None, :])
    shares = np.where(gone, 0.0, shares)
    shares = shares / shares.sum(axis=2, keepdims=True)
    emp_rate = np.where(role == 5, 0.25, rng.uniform(0.36, 0.44, N))
    total_emp = pop * emp_rate[:, None] * np.exp(rng.normal(0, 0.01, (N, T)))
    E = np.round(shares * total_emp[:, :, None])  # N x T x S

    # ---------------------------------------------------------------- groups
    n_corp = int(corp_town.sum())
    n_vi = int(np.clip(n_corp // 10, 3, 400))
    vi_hq_core = rng.random(n_vi) < 0.6
    rem_ids = rows[rem]
    vi_hq = np.where(vi_hq_core, rng.integers(0, n_cores, n_vi), rem_ids[rng.integers(0, max(1, len(rem_ids)), n_vi)] if len(rem_ids) else 0)
    vi_flag = np.where(rng.random(n_vi) < 0.6, "true", "")
    n_chain = int(np.clip(n_towns // 40, 2, 200))
    chain_hq = rng.integers(0, n_cores, n_chain)
    # local holdings: headquartered in small towns that control rural firms
    has_rural = np.zeros(N, bool)
    has_rural[n_cores + np.unique(parent)] = True
    holding_towns = rows[has_rural]
    n_hold = len(holding_towns)
    group_ids = ([f"VI{i:04d}" for i in range(n_vi)] + [f"RC{i:04d}" for i in range(n_chain)]
                 + [f"LH{i:04d}" for i in range(n_hold)])
    g_hq = np.r_[vi_hq, chain_hq, holding_towns]
    g_vi_true = np.r_[np.ones(n_vi, bool), np.zeros(n_chain + n_hold, bool)]
    g_flag = np.r_[vi_flag, np.where(rng.random(n_chain) < 0.5, "false", ""), np.where(rng.random(n_hold) < 0.5, "false", "")]
    G_RC0, G_LH0 = n_vi, n_vi + n_chain  # group index offsets of retail chains and holdings
    # every VI group needs >= 2 towns: assign corporate towns round-robin over a permutation
    corp_ids = rows[corp_town]
    vi_of_town = np.full(N, -1)
    # integrated towns take groups headquartered in cores when possible
    core_groups = np.flatnonzero(vi_hq_core)
    other_groups = np.flatnonzero(~vi_hq_core)
    perm = rng.permutation(corp_ids)
    vi_of_town[perm] = np.arange(len(perm)) % n_vi
    integ_ids = rows[integ]
    if len(core_groups):
        vi_of_town[integ_ids] = core_groups[np.arange(len(integ_ids)) % len(core_groups)]
    if len(other_groups):
        rem_perm = rng.permutation(rem_ids)
        half = rem_perm[: len(rem_perm) // 2]
        vi_of_town[half] = other_groups[np.arange(len(half)) % len(other_groups)]
    # groups headquartered in a remote town should not own that same town's anchor only:
    # a group is kept VI-valid (>= 2 towns, >= 2 sections) by construction of chain firms.

    # ---------------------------------------------------------------- firms
    firm_town: list[np.ndarray] = []
    firm_sector: list[np.ndarray] = []
    firm_frac: list[np.ndarray] = []
    g0_l: list[np.ndarray] = []
    g1_l: list[np.ndarray] = []
    tau_l: list[np.ndarray] = []

    def add(town, sector, frac, g0, g1, tau):
        firm_town.append(np.asarray(town))
        firm_sector.append(np.asarray(sector))
        firm_frac.append(np.asarray(frac, dtype=float))
        g0_l.append(np.asarray(g0))
        g1_l.append(np.asarray(g1))
        tau_l.append(np.asarray(tau))

    never = T + 1
    ct = rows[corp_town]
    gv = vi_of_town[ct]
    # anchor firm: 90 % of the anchor sector; owner may switch to another VI group
    switch = rng.random(len(ct)) < 0.25
    alt = np.where(vi_hq_core[gv], other_groups[rng.integers(0, max(1, len(other_groups)), len(ct))] if len(other_groups) else gv,
                   core_groups[rng.integers(0, max(1, len(core_groups)), len(ct))] if len(core_groups) else gv)
    add(ct, anchor_idx[ct], np.full(len(ct), 0.9), gv, np.where(switch, alt, gv), np.where(switch, rng.integers(3, T - 1, len(ct)), never))
    # chain firms (suppliers) in 3 chain sectors: in the group from the start, bought later, or sold
    for _ in range(3):
        sec = chain_idx[rng.integers(0, len(chain_idx), len(ct))]
        u = rng.random(len(ct))
        g0 = np.where(u < 0.4, gv, -1)
        g1 = np.where(u < 0.4, np.where(rng.random(len(ct)) < 0.35, -1, gv), np.where(u < 0.8, gv, -1))
        tau = np.where(g0 != g1, rng.integers(2, T - 1, len(ct)), never)
        add(ct, sec, np.full(len(ct), 0.85), g0, g1, tau)
    # VI entries into other towns (satellites and detached): buy a local firm for some years
    other = rows[(role == 2) | (role == 3)]
    enter = other[rng.random(len(other)) < 0.3]
    sec = np.array([spos[s] for s in ("35", "49", "52")])[rng.integers(0, 3, len(enter))]
    grp = rng.integers(0, n_vi, len(enter))
    add(enter, sec, np.full(len(enter), 0.8), np.full(len(enter), -1), grp, rng.integers(2, T - 2, len(enter)))
    # retail chains: in satellites and integrated towns, entering at random years
    rc_towns = rows[(role == 0) | (role == 2) | (role == 4)]
    rc_in = rc_towns[rng.random(len(rc_towns)) < 0.7]
    g_rc = G_RC0 + rng.integers(0, n_chain, len(rc_in))
    start_in = rng.random(len(rc_in)) < 0.5
    add(rc_in, np.full(len(rc_in), spos["47"]), np.full(len(rc_in), 0.35), np.where(start_in, g_rc, -1), g_rc,
        np.where(start_in, never, rng.integers(2, T - 1, len(rc_in))))
    rc_d = rows[role == 3][rng.random(int((role == 3).sum())) < 0.1]
    add(rc_d, np.full(len(rc_d), spos["47"]), np.full(len(rc_d), 0.3), G_RC0 + rng.integers(0, n_chain, len(rc_d)),
        G_RC0 + rng.integers(0, n_chain, len(rc_d)), np.full(len(rc_d), never))
    # public institutions and independent firms: several per municipality
    k = np.maximum(1, rng.poisson(firms_per_town, N))
    ft = np.repeat(rows, k)
    prob = Wn[ft] * (Wn[ft] > 0.02)
    prob = np.where(prob.sum(axis=1, keepdims=True) > 0, prob, Wn[ft])
    cum = np.cumsum(prob, axis=1)
    cum = cum / cum[:, -1:]
    fs = (rng.random(len(ft))[:, None] > cum).sum(axis=1)
    fs = np.minimum(fs, S - 1)
    clash = corp_town[ft] & (fs == anchor_idx[ft])
    fs = np.where(clash, spos["86"], fs)
    add(ft, fs, rng.uniform(0.15, 0.4, len(ft)), np.full(len(ft), -1), np.full(len(ft), -1), np.full(len(ft), never))
    # rural firms controlled from their town's local holding (lost over time for detached towns)
    ru = rows[role == 5]
    ptown = town_of[ru] + n_cores
    hold_of = np.full(N, -1, dtype=np.int64)  # municipality -> its local holding's group
    hold_of[holding_towns] = G_LH0 + np.arange(n_hold)
    gh = hold_of[ptown]
    ptype = role[ptown]
    controlled = rng.random(len(ru)) < np.where(ptype == 3, 0.5, 0.7)
    lost = controlled & (ptype == 3)
    add(ru, np.full(len(ru), spos["01"]), np.full(len(ru), 0.7), np.where(controlled, gh, -1),
        np.where(lost, -1, np.where(controlled, gh, -1)), np.where(lost, rng.integers(2, T - 1, len(ru)), never))
    # the local (agricultural) holding also owns a farm in its own town: one section, never VI
    add(holding_towns, np.full(n_hold, spos["01"]), np.full(n_hold, 0.5), G_LH0 + np.arange(n_hold),
        G_LH0 + np.arange(n_hold), np.full(n_hold, never))

    f_town = np.concatenate(firm_town).astype(int)
    f_sec = np.concatenate(firm_sector).astype(int)
    f_frac = np.concatenate(firm_frac)
    f_g0 = np.concatenate(g0_l).astype(int)
    f_g1 = np.concatenate(g1_l).astype(int)
    f_tau = np.concatenate(tau_l).astype(int)
    # a sector with registered firms has at least 20 jobs in every year present
    has_firm_sector = np.zeros((N, S), bool)
    has_firm_sector[f_town, f_sec] = True
    E = np.where(has_firm_sector[:, None, :] & (E < 20), np.maximum(E, 20 * present[:, :, None]), E)
    cell_frac = np.zeros((N, S))
    np.add.at(cell_frac, (f_town, f_sec), f_frac)
    scale = np.where(cell_frac > 0.95, 0.95 / np.maximum(cell_frac, 1e-12), 1.0)
    f_frac = f_frac * scale[f_town, f_sec]
    n_f = len(f_town)
    firm_id = np.array([f"F{i:07d}" for i in range(n_f)], dtype=object)
    # firm-years
    fe = np.round(f_frac[:, None] * E[f_town, :, f_sec] * np.exp(rng.normal(0, 0.02, (n_f, T))))
    fe = np.maximum(fe, 1.0)
    grp_t = np.where(t_idx[None, :] < f_tau[:, None], f_g0[:, None], f_g1[:, None])  # n_f x T, -1 = independent
    f_present = present[f_town]

    # ---------------------------------------------------------------- suppression
    no_firm = ~has_firm_sector
    supp = (E > 0) & (E < 50) & no_firm[:, None, :] & (rng.random(E.shape) < suppress_rate)

    # ---------------------------------------------------------------- true regressors
    published = np.where(supp, 0.0, E).sum(axis=2)  # N x T
    vi_t = np.where(grp_t >= 0, g_vi_true[np.maximum(grp_t, 0)], False)
    hq_t = np.where(grp_t >= 0, g_hq[np.maximum(grp_t, 0)], -1)
    core_t = (grp_t >= 0) & (hq_t < n_cores) & (hq_t >= 0) & (hq_t != f_town[:, None])
    vi_emp = np.zeros((N, T))
    core_emp = np.zeros((N, T))
    np.add.at(vi_emp, f_town, np.where(vi_t, fe, 0.0))
    np.add.at(core_emp, f_town, np.where(core_t, fe, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corp_share = np.where(published > 0, vi_emp / published, np.nan)
        core_share = np.where(published > 0, core_emp / published, np.nan)

    # ---------------------------------------------------------------- outcomes
    type_wage = np.select([role == 0, role == 1, role == 2, role == 3, role == 4, role == 5],
                          [0.15, 0.25, 0.05, -0.15, 0.20, -0.25])
    alpha = np.log(38_000) + type_wage + 0.1 * (m_lat - 66) / 6 + rng.normal(0, 0.08, N)
    gamma = 0.06 * t_idx + rng.normal(0, 0.01, T)
    log_wage = (alpha[:, None] + gamma[None, :] + WAGE_COEF["corp_share"] * corp_share
                + WAGE_COEF["core_control_share"] * core_share
                + WAGE_COEF["corp_share:core_control_share"] * corp_share * core_share
                + rng.normal(0, WAGE_SD, (N, T)))
    beta_i = np.log(60_000) + 0.5 * type_wage + rng.normal(0, 0.2, N)
    h_t = 0.03 * t_idx + rng.normal(0, 0.03, T)
    log_inv = (beta_i[:, None] + h_t[None, :] + INVEST_COEF["corp_share"] * corp_share
               + INVEST_COEF["core_control_share"] * core_share + rng.normal(0, INVEST_SD, (N, T)))
    avg_wage = np.round(np.exp(log_wage), 2)
    investment = np.round(np.exp(log_inv), 2)
    miss_w = rng.random((N, T)) < missing_outcome_rate
    miss_i = rng.random((N, T)) < missing_outcome_rate
    avg_wage = np.where(miss_w, np.nan, avg_wage)
    investment = np.where(miss_i, np.nan, investment)

    # ---------------------------------------------------------------- tables
    towns = pd.DataFrame({
        "town_id": town_id.astype(str), "name": names.astype(str),
        "region": np.array([f"Region {c}" for c in codes], dtype=object).astype(str),
        "lat": np.round(m_lat, 5), "lon": np.round(m_lon, 5), "population": pop[:, 0],
        "kind": kind.astype(str), "area_km2": np.round(np.where(role == 4, 300.0, np.where(role == 5, 2000.0, 60.0)) * rng.uniform(0.7, 1.3, N), 1),
        "north": m_lat >= 64.0,
    })
    ii, tt, ss = np.nonzero((E > 0) & present[:, :, None])
    emp_vals = E[ii, tt, ss].astype(float)
    emp_vals[supp[ii, tt, ss]] = np.nan
    employment = pd.DataFrame({"town_id": town_id[ii].astype(str), "year": years[tt], "sector": np.array(sectors)[ss],
                               "employment": emp_vals})
    fi, ft_ = np.nonzero(f_present)
    g_of = grp_t[fi, ft_]
    firms = pd.DataFrame({
        "firm_id": firm_id[fi].astype(str), "town_id": town_id[f_town[fi]].astype(str),
        "sector": np.array(sectors)[f_sec[fi]], "employees": fe[fi, ft_], "year": years[ft_],
        "group_id": pd.array(np.where(g_of >= 0, np.array(group_ids, dtype=object)[np.maximum(g_of, 0)], None), dtype="str"),
    })
    # firms must sit in a sector with employment that year
    groups = pd.DataFrame({"group_id": group_ids, "hq_town_id": town_id[g_hq].astype(str),
                           "name": [f"Group {g}" for g in group_ids],
                           "vertically_integrated": pd.array([{"true": True, "false": False}.get(v) for v in g_flag], dtype="boolean")})
    oi, ot = np.nonzero(present)
    outcomes = pd.DataFrame({"town_id": town_id[oi].astype(str), "year": years[ot], "population": pop[oi, ot],
                             "avg_wage": avg_wage[oi, ot], "investment": investment[oi, ot]})
    data = TownData.from_tables(towns=towns, employment=employment, firms=firms, groups=groups, outcomes=outcomes,
                                source=f"synthetic(n_towns={n_towns}, n_years={n_years}, seed={seed})")

    regressors = pd.DataFrame({"town_id": town_id[oi].astype(str), "year": years[ot],
                               "corp_share": corp_share[oi, ot], "core_control_share": core_share[oi, ot]}
                              ).set_index(["town_id", "year"])
    type_names = np.array(list(TYPES) + ["core", "rural"], dtype=object)
    truth = {
        "generator": "typology.data.synth.generate",
        "params": {"n_towns": n_towns, "n_years": n_years, "seed": seed, "start_year": start_year,
                   "n_cores": n_cores, "rural_per_town": rural_per_town, "firms_per_town": firms_per_town,
                   "suppress_rate": suppress_rate, "late_entry_rate": late_entry_rate,
                   "missing_outcome_rate": missing_outcome_rate},
        "types": dict(TYPE_DESCRIPTIONS),
        "n_types": len(TYPES),
        "typed_towns": "municipalities of kind 'town' that are not agglomeration cores",
        "town_types": {str(t): str(type_names[r]) for t, r in zip(town_id, role, strict=True)},
        "equations": {
            "wages": {
                "formula": "log(avg_wage) ~ corp_share + core_control_share + corp_share:core_control_share",
                "effects": "twoway", "coefficients": dict(WAGE_COEF), "noise_sd": WAGE_SD,
            },
            "investment": {
                "formula": "log(investment) ~ corp_share + core_control_share",
                "effects": "twoway", "coefficients": dict(INVEST_COEF), "noise_sd": INVEST_SD,
            },
        },
        "population_trend_per_year": {"integrated_connected": 0.0, "corporate_remote": -0.011,
                                      "diversified_satellite": 0.005, "detached_simplified": -0.02,
                                      "core": 0.005, "rural": -0.015},
        "cores": [str(t) for t in town_id[:n_cores]],
    }
    return SyntheticDataset(data=data, truth=truth, regressors=regressors)
