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

Stages (:data:`STAGES`, run in order by :func:`generate`): ``geography`` (municipalities,
population paths, entry years), ``economy`` (employment by sector), ``registry`` (corporate
groups, firms, owners by year), ``publication`` (suppressed cells), ``outcomes`` (true
regressors, outcome equations), ``dataset`` (the validated tables and the truth). Each is a
function ``stage(rng, plan, world)`` of the seeded generator, the arguments (:class:`Plan`) and
the results of the stages before it. :data:`WORLDS` maps each version of the generator to its
stages (world 1: :data:`STAGES`; world 2: :data:`STAGES_2`, below). ``tests/test_typology/
test_synth_digest.py`` holds the digests of every table of both worlds: a change that keeps
the draws and their order keeps them.

World 2 (``world=2``, the default; ``world=1`` is the static world above, reproduced bit for
bit): the same geography, economy, registry and suppressed cells (the same draws), then

Corporate entry and exit (stage ``events``)
    Each corporate town (``integrated_connected`` and ``corporate_remote`` sites) has an anchor
    firm, its largest. 10 % are VI-owned from the first year (``entry_year`` = the first year
    of the panel: always treated); the others are bought by their VI group in one of
    ``N_COHORTS = 5`` cohort years spread from the fourth year to the fourth-last (2013, 2015,
    2018, 2020, 2022 for the default panel), drawn at random, independently of every outcome
    draw (a town present less than two years before its cohort is VI-owned from the start).
    In the firms table the anchor's ``group_id`` changes from empty to the VI group in the entry
    year: the event is read from the registry by that rule (or by ``corp_share`` leaving 0: it is 0
    before entry and after exit, at least 0.05 from entry to exit).
    Satellites, detached towns, cores and rural municipalities never change owner
    (``entry_year = 0``). Exits: 35 % of the towns of the first two cohorts are left by the
    group 4-6 years after entry, and 15 % of the always-VI towns in a random year; the anchor's
    ``group_id`` becomes empty again (``exit_year``). Before entry the anchor employs 45 % of
    its consolidated size (``ANCHOR_START``; it is still the town's largest firm); after entry
    the group consolidates it over ``RAMP_YEARS = 5`` years to 100 % (first cohort) .. 45 %
    (last cohort: no consolidation) and buys, 1-5 years
    after entry, the town's suppliers and private local firms (each with probability 0.95 for
    the first cohort .. 0.35 for the last): ``corp_share`` (and ``core_control_share`` where the
    group is headquartered in a core, as for the towns near cores) builds up after entry,
    faster and further for earlier cohorts; at exit the town's firms leave the group.
    Retail chains are present from the first year and VI groups buy no firms elsewhere, so the
    only changes of ownership towards VI groups are the events.

The stagnation index and the outcomes (stage ``dynamics``)
    For every municipality-year, ``L_it = eta_it + eps_it`` with
    ``eta_it = -3.0 - 4.0 corp_share_it - 2.0 core_control_share_it + 0.004 dist_core_km_i``
    (``STATUS_COEF``) and ``eps_it`` standard logistic (an AR(1) Gaussian copula, correlation
    0.7, so a town's status persists). After the municipality's base (first) year ``b``:
    ``log(population_it / population_ib) = -0.03 h(L_it)``, ``h(L) = 3 tanh(L / 3)`` (the sign
    of ``L``, bounded), and the published employment likewise with slope 0.07 where ``L > 0``
    and 0.03 where ``L < 0`` (0.1 times that in the cores), every
    sector cell scaled alike; a total that rounding would leave on the wrong side of its base
    value moves by one person or job. So the dynamics group's ``status`` is ``"stagnating"``
    (population and employment both below the base year) exactly when ``L_it > 0``:
    ``P(stagnating) = logistic(eta_it)``, the logit ``status ~ corp_share + core_control_share +
    dist_core_km`` of the demo with known coefficients (``truth.json`` ``equations.stagnation``;
    ``eta`` uses the shares before the jobs are rescaled, which differ from the published ones by
    rounding). A non-stagnating town-year has a status only when its wages of the year and of
    the base year are both published (probability ``(1 - missing_outcome_rate)^2``, independent
    of the regressors): on those rows the intercept is ``-3.0 - 2 log(1 - missing_outcome_rate)``
    (stored as the coefficient; the slopes are unchanged). Modernizing (not stagnating, wages
    outgrowing the national average, competitive shift >= 0) comes mostly from the towns whose
    ``corp_share`` rises after entry. Wages and investment follow the equations above with the
    generated shares. The municipalities that enter the data late have a quarter of their
    world-1 jobs and residents (they barely move the national totals of the shift-share).

Potential outcomes and the truth
    The outcomes are a deterministic function of the ownership schedule and of draws shared by
    every schedule, so the generator computes them under the actual schedule, without the
    entries of the panel (``untreated``) and without exits. ``truth.json`` ``events`` holds
    ``entry_year`` and ``exit_year`` of every municipality (also columns of the outcomes table,
    0 = never), the cohorts, and for ``log_wage``, ``log_employment``, ``log_population``:
    ``by_cohort`` ``ATT(g, e)`` = the mean over the towns of cohort ``g`` present in year
    ``g + e`` of ``Y(actual) - Y(untreated)`` (exits included; 0 before entry: no
    anticipation), ``dynamic`` ``theta(e) = sum_g n_g ATT(g, e) / sum_g n_g`` over the cohorts
    observed at ``e`` (``n_g`` the cohort's towns: Callaway and Sant'Anna's dynamic
    aggregation), ``overall`` = the ``n_g``-weighted mean of ``ATT(g, t - g)`` over the cells
    ``t >= g`` (their simple aggregation); ``exit_effects`` the same paths of an exit against no
    exit; ``types_by_year`` the type of each town in each year it is present, the study's 2 x 2
    (anchor VI-owned that year or not; site near a core or not); ``town_types`` the type in the
    town's last year. ``SyntheticDataset.potential`` holds the untreated outcomes.

World 3 (``world=3``, opt-in; world 2 with a spatial spillover, stage ``spillover`` drawing from
its own generator): log wages gain ``theta W_t corp_share_t + u_t`` (``SPILL_THETA = 0.20``), ``W_t``
the row-standardized 6-nearest-neighbour weights among the municipalities present in year ``t``
(:class:`Spillover`), and the shock ``u_t = (I - lambda W)^-1 e_t`` (``SPILL_LAMBDA = 0.6``,
``sd(e) = 0.02``) is spatially correlated: an SLX term with a SAR error (SDEM). Every other draw
and table is world 2's; ``truth.json`` ``spatial`` holds the weights' definition, theta, lambda
and the impacts (direct 0.25, indirect 0.20, total 0.45 for ``corp_share`` where
``core_control_share = 0``).

Adding a mechanism: write it as a stage (or a step of one) returning its result; draw its
random numbers from its own generator,
``np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(zlib.crc32(b"name"),)))``,
rather than from ``rng`` (world 2's stages use :func:`_stream`), so that every draw of the
existing stages, and so every dataset written before, stays the same; add it to the stages of
its world (:data:`WORLDS`; a new version of the generator for a change of the data) after the
stages it reads, and its
columns to the tables in ``_dataset``; then rewrite the digests
(``python tests/test_typology/test_synth_digest.py --write``): only the new columns may differ.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from features import TownData
from features.connectivity import EARTH_RADIUS_KM, haversine_matrix
from features.sectors import OKVED_DIVISIONS
from features.validation import YEAR_RANGE

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
DEFAULT_WORLD = 2  # the version of the generator generate() runs (WORLDS)

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
    potential: pd.DataFrame | None = None


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


def check_arguments(n_towns: int = 300, n_years: int = 15, seed: int = 0, start_year: int = 2010,
                    world: int = DEFAULT_WORLD) -> None:
    """Raise ``ValueError`` naming the argument that :func:`generate` cannot honour.

    ``n_towns >= 8`` (two towns of each of the four true types), ``n_years >= 5`` (ownership
    changes happen between the third and the last year), ``seed >= 0`` (numpy's
    ``default_rng``), every year within the range the data contract accepts, and ``world`` one
    of :data:`WORLDS`.
    """
    lo, hi = YEAR_RANGE

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
    if isinstance(world, bool) or world not in WORLDS:
        raise ValueError(f"world must be one of {sorted(WORLDS)} (the versions of the generator), got {world!r}")
    if start_year < lo or start_year + n_years - 1 > hi:
        raise ValueError(f"the years {start_year}..{start_year + n_years - 1} (start_year, n_years) must lie in "
                         f"{lo}..{hi}, the range the data contract accepts")


def generate(n_towns: int = 300, n_years: int = 15, seed: int = 0, start_year: int = 2010, n_cores: int | None = None,
             rural_per_town: float = 0.5, firms_per_town: float = 5.0, suppress_rate: float = 0.1,
             late_entry_rate: float = 0.12, missing_outcome_rate: float = 0.04,
             world: int = DEFAULT_WORLD) -> SyntheticDataset:
    """Generate the synthetic northern-towns dataset (see the module docstring).

    The dataset is built in stages, each a function of the one seeded generator and of what
    the stages before it built (:data:`STAGES`): geography (municipalities, population, entry
    years), economy (employment by sector), corporate registry (groups, firms and their owners
    by year, the floor of registered sectors), publication (suppressed cells), outcomes (the
    true regressors and the outcome equations), then the tables.

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
    world : int
        Version of the generator (:data:`WORLDS`): ``1`` the static world (every file it wrote
        before is reproduced bit for bit), ``2`` (default) the world with corporate entry and
        exit events and the stagnation index (see the module docstring), ``3`` world 2 with the
        spatial wage spillover (opt-in; ``truth.json`` ``spatial``).
    """
    check_arguments(n_towns=n_towns, n_years=n_years, seed=seed, start_year=start_year, world=world)
    if n_cores is None:
        n_cores = int(np.clip(n_towns // 50, 4, 12)) if n_towns <= 5000 else max(12, n_towns // 400)
    plan = Plan(n_towns=n_towns, n_years=n_years, seed=seed, start_year=start_year, n_cores=n_cores,
                rural_per_town=rural_per_town, firms_per_town=firms_per_town, suppress_rate=suppress_rate,
                late_entry_rate=late_entry_rate, missing_outcome_rate=missing_outcome_rate, world=world)
    rng = np.random.default_rng(seed)
    built: dict = {}
    for name, stage in WORLDS[world]:  # in this order: every stage draws from rng after the ones before it
        built[name] = stage(rng, plan, built)
    return built["dataset"]


# ------------------------------------------------------------------------ the plan
@dataclass(frozen=True)
class Plan:
    """The arguments of :func:`generate`, resolved (``n_cores`` filled in), and what follows
    from them: the years, the sectors (every OKVED-2 division) and their positions."""

    n_towns: int
    n_years: int
    seed: int
    start_year: int
    n_cores: int
    rural_per_town: float
    firms_per_town: float
    suppress_rate: float
    late_entry_rate: float
    missing_outcome_rate: float
    world: int = 1

    @property
    def T(self) -> int:
        return self.n_years

    @property
    def years(self) -> np.ndarray:
        return np.arange(self.start_year, self.start_year + self.n_years)

    @property
    def sectors(self) -> list[str]:
        return sorted(OKVED_DIVISIONS)

    @property
    def spos(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.sectors)}

    def params(self) -> dict:
        """The arguments as ``truth.json`` records them."""
        return {"n_towns": self.n_towns, "n_years": self.n_years, "seed": self.seed, "start_year": self.start_year,
                "n_cores": self.n_cores, "rural_per_town": self.rural_per_town, "firms_per_town": self.firms_per_town,
                "suppress_rate": self.suppress_rate, "late_entry_rate": self.late_entry_rate,
                "missing_outcome_rate": self.missing_outcome_rate,
                **({"world": self.world} if self.world != 1 else {})}  # world 1's truth.json is unchanged


# ------------------------------------------------------------------------ stage 1: geography
@dataclass(frozen=True)
class Geography:
    """Municipalities: cores, then towns, then rural municipalities (``N`` rows)."""

    role: np.ndarray        # 0..3 the true town types, 4 core, 5 rural
    town_of: np.ndarray     # parent town index (0..n_towns-1) of rural municipalities, -1 for cores
    parent: np.ndarray      # parent town of each rural municipality
    lat: np.ndarray
    lon: np.ndarray
    codes: np.ndarray       # region code (the nearest core's)
    town_id: np.ndarray
    names: np.ndarray
    kind: np.ndarray        # "town" or "rural"
    pop: np.ndarray         # N x T population
    present: np.ndarray     # N x T: the municipality is in the data that year

    @property
    def N(self) -> int:
        return len(self.role)


def _cores(rng, p: Plan):
    """Agglomeration cores: the plausible northern sites first, then random sites in the band."""
    n_cores = p.n_cores
    n_sites = min(n_cores, len(_CORE_SITES))
    core_lat = np.array([s[0] for s in _CORE_SITES[:n_sites]])
    core_lon = np.array([s[1] for s in _CORE_SITES[:n_sites]])
    if n_cores > n_sites:
        core_lat = np.r_[core_lat, rng.uniform(60.5, 71.5, n_cores - n_sites)]
        core_lon = np.r_[core_lon, rng.uniform(32, 168, n_cores - n_sites)]
    core_pop = np.round(rng.uniform(260_000, 650_000, n_cores))
    return core_lat, core_lon, core_pop


def _towns(rng, p: Plan, core_lat, core_lon):
    """True types (about a quarter each) and sites: near types 40-220 km from a core, far types
    450+ km from every core."""
    n_towns, n_cores = p.n_towns, p.n_cores
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
    dmin = haversine_matrix(cand_lat.ravel(), cand_lon.ravel(), core_lat, core_lon).min(axis=1).reshape(n_far, 24)
    ok = dmin >= 450.0
    score = np.where(ok, rng.random((n_far, 24)), -1.0 + dmin / 1e5)
    pick = score.argmax(axis=1)
    lat[~near] = cand_lat[np.arange(n_far), pick]
    lon[~near] = cand_lon[np.arange(n_far), pick]
    return ttype, lat, lon


def _geography(rng, p: Plan, world: dict) -> Geography:
    """Stage 1: cores, towns of the four true types, rural municipalities around the towns,
    their identifiers (region code of the nearest core + serial), names and population paths."""
    core_lat, core_lon, core_pop = _cores(rng, p)
    ttype, lat, lon = _towns(rng, p, core_lat, core_lon)
    n_cores, n_towns = p.n_cores, p.n_towns
    n_rural_each = np.minimum(rng.poisson(p.rural_per_town, n_towns), 3)
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
    dist_cores = haversine_matrix(m_lat, m_lon, core_lat, core_lon)
    region_idx = dist_cores.argmin(axis=1)
    codes = np.array(_REGIONS)[region_idx % len(_REGIONS)]
    serial = np.arange(N) + 1
    town_id = np.array([f"{c}{s:06d}" for c, s in zip(codes, serial, strict=True)], dtype=object)
    names = np.array([f"{_SYLL_A[a]}{_SYLL_B[b]}" for a, b in zip(rng.integers(0, 16, N), rng.integers(0, 16, N), strict=True)], dtype=object)
    names[:n_cores] = [f"Core city {i + 1}" for i in range(n_cores)]
    names = np.array([f"{n} {i}" for n, i in zip(names, serial, strict=True)], dtype=object)
    pop, present = _population(rng, p, role, town_of, core_pop)
    return Geography(role=role, town_of=town_of, parent=parent, lat=m_lat, lon=m_lon, codes=codes, town_id=town_id,
                     names=names, kind=kind, pop=pop, present=present)


def _population(rng, p: Plan, role, town_of, core_pop):
    """Population paths (type trends, documented in the module docstring) and the first year of
    each municipality (late entry of some small towns; rural municipalities enter with their town)."""
    N, T, n_cores = len(role), p.T, p.n_cores
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
    late = (role <= 3) & (rng.random(N) < p.late_entry_rate)
    first[late] = rng.integers(1, 5, late.sum())
    first[role == 5] = first[np.maximum(town_of[role == 5], 0) + n_cores] * (town_of[role == 5] >= 0)
    present = t_idx[None, :] >= first[:, None]  # N x T
    return pop, present


# ------------------------------------------------------------------------ stage 2: economy
@dataclass(frozen=True)
class Economy:
    """Employment by sector of every municipality and year, and the sector structure it came from."""

    E: np.ndarray            # N x T x S jobs (before the registry's floor and the suppression)
    Wn: np.ndarray           # N x S sector shares of the first year
    anchor_idx: np.ndarray   # N: the anchor sector of a corporate town
    corp_town: np.ndarray    # N: integrated or remote corporate town
    integ: np.ndarray        # N: integrated_connected
    rem: np.ndarray          # N: corporate_remote


def _sector_weights(rng, p: Plan, role):
    """Sector weights by type: cores everything, satellites broad, integrated towns some extras
    and the chain sectors, remote corporate towns a thin base, detached towns the public sector."""
    sectors, spos = p.sectors, p.spos
    N, S = len(role), len(sectors)
    W = np.zeros((N, S))
    base = _profile(_BASE, sectors)
    extra_mask = np.zeros(S)
    extra_mask[[spos[s] for s in _EXTRA]] = 1.0
    chain_idx = np.array([spos[s] for s in _CHAIN])
    anchor_choice = rng.integers(0, len(_ANCHORS), N)
    anchor_idx = np.array([spos[_ANCHORS[a]] for a in anchor_choice])
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
    return W, anchor_idx, integ, rem, corp_town, det


def _economy(rng, p: Plan, world: dict) -> Economy:
    """Stage 2: sector shares (an anchor firm's sector with about 30 % of the jobs of integrated
    towns and half of remote corporate towns'), their drift, the small sectors detached towns
    lose (simplification), and employment = shares x population x employment rate."""
    geo: Geography = world["geography"]
    role, T, N = geo.role, p.T, geo.N
    W, anchor_idx, integ, rem, corp_town, det = _sector_weights(rng, p, role)
    rows = np.arange(N)
    t_idx = np.arange(T)
    # anchor share: 30 % integrated, 50 % remote
    anchor_share = np.where(integ, rng.uniform(0.25, 0.35, N), np.where(rem, rng.uniform(0.45, 0.58, N), 0.0))
    W[rows[corp_town], anchor_idx[corp_town]] = 0.0
    Wn = W / W.sum(axis=1, keepdims=True)
    Wn = Wn * (1.0 - anchor_share)[:, None]
    Wn[rows[corp_town], anchor_idx[corp_town]] = anchor_share[corp_town]

    # shares drift over time; detached towns lose small sectors (simplification)
    S = Wn.shape[1]
    drift = rng.normal(0, 0.01, (N, S))
    shares = Wn[:, None, :] * np.exp(drift[:, None, :] * t_idx[None, :, None])  # N x T x S
    small = (Wn > 0) & (Wn < 0.05) & det[:, None] & (rng.random((N, S)) < 0.6)
    lose_year = rng.integers(2, T, (N, S))
    gone = small[:, None, :] & (t_idx[None, :, None] >= lose_year[:, None, :])
    shares = np.where(gone, 0.0, shares)
    shares = shares / shares.sum(axis=2, keepdims=True)
    emp_rate = np.where(role == 5, 0.25, rng.uniform(0.36, 0.44, N))
    total_emp = geo.pop * emp_rate[:, None] * np.exp(rng.normal(0, 0.01, (N, T)))
    E = np.round(shares * total_emp[:, :, None])  # N x T x S
    return Economy(E=E, Wn=Wn, anchor_idx=anchor_idx, corp_town=corp_town, integ=integ, rem=rem)


# ------------------------------------------------------------------------ stage 3: corporate registry
@dataclass(frozen=True)
class Groups:
    """Corporate groups: VI groups, then retail chains, then local holdings (``ids`` order)."""

    ids: list[str]
    hq: np.ndarray           # headquarters municipality of each group
    vi_true: np.ndarray      # truly vertically integrated
    flag: np.ndarray         # groups.vertically_integrated as published: "true", "false" or "" (unknown)
    n_vi: int
    n_chain: int
    rc0: int                 # index of the first retail chain
    lh0: int                 # index of the first local holding
    vi_hq_core: np.ndarray   # VI group headquartered in a core
    core_groups: np.ndarray  # VI groups headquartered in a core
    other_groups: np.ndarray
    holding_towns: np.ndarray
    vi_of_town: np.ndarray   # N: the VI group of a corporate town (-1 none)


@dataclass(frozen=True)
class Registry:
    """Firms (one row per firm) and their owners by year; employment with the registry's floor."""

    groups: Groups
    E: np.ndarray            # N x T x S: a sector with registered firms has >= 20 jobs in every year present
    has_firm_sector: np.ndarray  # N x S
    f_town: np.ndarray
    f_sec: np.ndarray
    firm_id: np.ndarray
    fe: np.ndarray           # n_f x T employees
    grp_t: np.ndarray        # n_f x T owning group, -1 = independent
    f_present: np.ndarray    # n_f x T
    f_block: np.ndarray | None = None  # n_f: the block of each firm (:data:`FIRM_BLOCKS`)


def _groups(rng, p: Plan, geo: Geography, eco: Economy) -> Groups:
    """VI groups (headquartered in a core or a remote corporate town), retail chains (in cores)
    and local holdings (in towns with rural municipalities), and the VI group of every corporate
    town: every VI group spans >= 2 towns, integrated towns take groups of the cores."""
    n_cores, role = p.n_cores, geo.role
    rows = np.arange(geo.N)
    n_corp = int(eco.corp_town.sum())
    n_vi = int(np.clip(n_corp // 10, 3, 400))
    vi_hq_core = rng.random(n_vi) < 0.6
    rem_ids = rows[eco.rem]
    vi_hq = np.where(vi_hq_core, rng.integers(0, n_cores, n_vi), rem_ids[rng.integers(0, max(1, len(rem_ids)), n_vi)] if len(rem_ids) else 0)
    vi_flag = np.where(rng.random(n_vi) < 0.6, "true", "")
    n_chain = int(np.clip(p.n_towns // 40, 2, 200))
    chain_hq = rng.integers(0, n_cores, n_chain)
    # local holdings: headquartered in small towns that control rural firms
    has_rural = np.zeros(geo.N, bool)
    has_rural[n_cores + np.unique(geo.parent)] = True
    holding_towns = rows[has_rural]
    n_hold = len(holding_towns)
    group_ids = ([f"VI{i:04d}" for i in range(n_vi)] + [f"RC{i:04d}" for i in range(n_chain)]
                 + [f"LH{i:04d}" for i in range(n_hold)])
    g_hq = np.r_[vi_hq, chain_hq, holding_towns]
    g_vi_true = np.r_[np.ones(n_vi, bool), np.zeros(n_chain + n_hold, bool)]
    g_flag = np.r_[vi_flag, np.where(rng.random(n_chain) < 0.5, "false", ""), np.where(rng.random(n_hold) < 0.5, "false", "")]
    # every VI group needs >= 2 towns: assign corporate towns round-robin over a permutation
    corp_ids = rows[eco.corp_town]
    vi_of_town = np.full(geo.N, -1)
    # integrated towns take groups headquartered in cores when possible
    core_groups = np.flatnonzero(vi_hq_core)
    other_groups = np.flatnonzero(~vi_hq_core)
    perm = rng.permutation(corp_ids)
    vi_of_town[perm] = np.arange(len(perm)) % n_vi
    integ_ids = rows[role == 0]
    if len(core_groups):
        vi_of_town[integ_ids] = core_groups[np.arange(len(integ_ids)) % len(core_groups)]
    if len(other_groups):
        rem_perm = rng.permutation(rem_ids)
        half = rem_perm[: len(rem_perm) // 2]
        vi_of_town[half] = other_groups[np.arange(len(half)) % len(other_groups)]
    # groups headquartered in a remote town should not own that same town's anchor only:
    # a group is kept VI-valid (>= 2 towns, >= 2 sections) by construction of chain firms.
    return Groups(ids=group_ids, hq=g_hq, vi_true=g_vi_true, flag=g_flag, n_vi=n_vi, n_chain=n_chain, rc0=n_vi,
                  lh0=n_vi + n_chain, vi_hq_core=vi_hq_core, core_groups=core_groups, other_groups=other_groups,
                  holding_towns=holding_towns, vi_of_town=vi_of_town)


# a block of firms: (municipality, sector, share of the cell's jobs, group before, group from
# year tau on, tau); groups are indices into Groups.ids, -1 = independent, tau = T + 1: never
FirmBlock = tuple
# the blocks in the order _registry concatenates them (Registry.f_block numbers them so)
FIRM_BLOCKS = ("anchor", "supplier", "supplier", "supplier", "vi_entry", "chain_store", "chain_store_detached",
               "local", "rural_controlled", "holding_farm")


def _corporate_firms(rng, p: Plan, geo: Geography, eco: Economy, g: Groups) -> list[FirmBlock]:
    """Anchor firms of corporate towns (their owner may switch between VI groups), their
    suppliers in the chain sectors (in the group from the start, bought or sold), and VI groups
    entering satellites and detached towns."""
    T, spos, role = p.T, p.spos, geo.role
    rows = np.arange(geo.N)
    never = T + 1
    chain_idx = np.array([spos[s] for s in _CHAIN])
    other_groups, core_groups = g.other_groups, g.core_groups
    blocks: list[FirmBlock] = []
    ct = rows[eco.corp_town]
    gv = g.vi_of_town[ct]
    # anchor firm: 90 % of the anchor sector; owner may switch to another VI group
    switch = rng.random(len(ct)) < 0.25
    alt = np.where(g.vi_hq_core[gv], other_groups[rng.integers(0, max(1, len(other_groups)), len(ct))] if len(other_groups) else gv,
                   core_groups[rng.integers(0, max(1, len(core_groups)), len(ct))] if len(core_groups) else gv)
    blocks.append((ct, eco.anchor_idx[ct], np.full(len(ct), 0.9), gv, np.where(switch, alt, gv),
                   np.where(switch, rng.integers(3, T - 1, len(ct)), never)))
    # chain firms (suppliers) in 3 chain sectors: in the group from the start, bought later, or sold
    for _ in range(3):
        sec = chain_idx[rng.integers(0, len(chain_idx), len(ct))]
        u = rng.random(len(ct))
        g0 = np.where(u < 0.4, gv, -1)
        g1 = np.where(u < 0.4, np.where(rng.random(len(ct)) < 0.35, -1, gv), np.where(u < 0.8, gv, -1))
        tau = np.where(g0 != g1, rng.integers(2, T - 1, len(ct)), never)
        blocks.append((ct, sec, np.full(len(ct), 0.85), g0, g1, tau))
    # VI entries into other towns (satellites and detached): buy a local firm for some years
    other = rows[(role == 2) | (role == 3)]
    enter = other[rng.random(len(other)) < 0.3]
    sec = np.array([spos[s] for s in ("35", "49", "52")])[rng.integers(0, 3, len(enter))]
    grp = rng.integers(0, g.n_vi, len(enter))
    blocks.append((enter, sec, np.full(len(enter), 0.8), np.full(len(enter), -1), grp, rng.integers(2, T - 2, len(enter))))
    return blocks


def _chain_stores(rng, p: Plan, geo: Geography, g: Groups) -> list[FirmBlock]:
    """Retail chains: in satellites, integrated towns and cores, entering at random years; a few
    in detached towns."""
    T, role, spos = p.T, geo.role, p.spos
    rows = np.arange(geo.N)
    never = T + 1
    n_chain, rc0 = g.n_chain, g.rc0
    rc_towns = rows[(role == 0) | (role == 2) | (role == 4)]
    rc_in = rc_towns[rng.random(len(rc_towns)) < 0.7]
    g_rc = rc0 + rng.integers(0, n_chain, len(rc_in))
    start_in = rng.random(len(rc_in)) < 0.5
    blocks = [(rc_in, np.full(len(rc_in), spos["47"]), np.full(len(rc_in), 0.35), np.where(start_in, g_rc, -1), g_rc,
               np.where(start_in, never, rng.integers(2, T - 1, len(rc_in))))]
    rc_d = rows[role == 3][rng.random(int((role == 3).sum())) < 0.1]
    blocks.append((rc_d, np.full(len(rc_d), spos["47"]), np.full(len(rc_d), 0.3), rc0 + rng.integers(0, n_chain, len(rc_d)),
                   rc0 + rng.integers(0, n_chain, len(rc_d)), np.full(len(rc_d), never)))
    return blocks


def _local_firms(rng, p: Plan, geo: Geography, eco: Economy, g: Groups) -> list[FirmBlock]:
    """Public institutions and independent firms in every municipality (in its sectors above 2 %),
    rural firms controlled from their town's local holding (lost over time for detached towns),
    and the holding's own farm."""
    T, role, spos = p.T, geo.role, p.spos
    N, S = eco.Wn.shape
    rows = np.arange(N)
    never = T + 1
    Wn, corp_town, anchor_idx = eco.Wn, eco.corp_town, eco.anchor_idx
    k = np.maximum(1, rng.poisson(p.firms_per_town, N))
    ft = np.repeat(rows, k)
    prob = Wn[ft] * (Wn[ft] > 0.02)
    prob = np.where(prob.sum(axis=1, keepdims=True) > 0, prob, Wn[ft])
    cum = np.cumsum(prob, axis=1)
    cum = cum / cum[:, -1:]
    fs = (rng.random(len(ft))[:, None] > cum).sum(axis=1)
    fs = np.minimum(fs, S - 1)
    clash = corp_town[ft] & (fs == anchor_idx[ft])
    fs = np.where(clash, spos["86"], fs)
    blocks = [(ft, fs, rng.uniform(0.15, 0.4, len(ft)), np.full(len(ft), -1), np.full(len(ft), -1), np.full(len(ft), never))]
    # rural firms controlled from their town's local holding (lost over time for detached towns)
    ru = rows[role == 5]
    ptown = geo.town_of[ru] + p.n_cores
    holding_towns, n_hold = g.holding_towns, len(g.holding_towns)
    hold_of = np.full(N, -1, dtype=np.int64)  # municipality -> its local holding's group
    hold_of[holding_towns] = g.lh0 + np.arange(n_hold)
    gh = hold_of[ptown]
    ptype = role[ptown]
    controlled = rng.random(len(ru)) < np.where(ptype == 3, 0.5, 0.7)
    lost = controlled & (ptype == 3)
    blocks.append((ru, np.full(len(ru), spos["01"]), np.full(len(ru), 0.7), np.where(controlled, gh, -1),
                   np.where(lost, -1, np.where(controlled, gh, -1)), np.where(lost, rng.integers(2, T - 1, len(ru)), never)))
    # the local (agricultural) holding also owns a farm in its own town: one section, never VI
    blocks.append((holding_towns, np.full(n_hold, spos["01"]), np.full(n_hold, 0.5), g.lh0 + np.arange(n_hold),
                   g.lh0 + np.arange(n_hold), np.full(n_hold, never)))
    return blocks


def _registry(rng, p: Plan, world: dict) -> Registry:
    """Stage 3: corporate groups, firms (corporate, chain stores, local), the floor of 20 jobs in
    a sector with registered firms, and every firm's employees and owner by year."""
    geo, eco = world["geography"], world["economy"]
    T = p.T
    g = _groups(rng, p, geo, eco)
    blocks = [*_corporate_firms(rng, p, geo, eco, g), *_chain_stores(rng, p, geo, g), *_local_firms(rng, p, geo, eco, g)]
    f_block = np.repeat(np.arange(len(blocks)), [len(np.asarray(b[0])) for b in blocks])
    f_town, f_sec, f_frac, f_g0, f_g1, f_tau = (np.concatenate([np.asarray(b[i]) for b in blocks]) for i in range(6))
    f_town, f_sec, f_g0, f_g1, f_tau = (a.astype(int) for a in (f_town, f_sec, f_g0, f_g1, f_tau))
    f_frac = f_frac.astype(float)
    E, present = eco.E, geo.present
    # a sector with registered firms has at least 20 jobs in every year present
    has_firm_sector = np.zeros(eco.Wn.shape, bool)
    has_firm_sector[f_town, f_sec] = True
    E = np.where(has_firm_sector[:, None, :] & (E < 20), np.maximum(E, 20 * present[:, :, None]), E)
    cell_frac = np.zeros(eco.Wn.shape)
    np.add.at(cell_frac, (f_town, f_sec), f_frac)
    scale = np.where(cell_frac > 0.95, 0.95 / np.maximum(cell_frac, 1e-12), 1.0)
    f_frac = f_frac * scale[f_town, f_sec]
    n_f = len(f_town)
    firm_id = np.array([f"F{i:07d}" for i in range(n_f)], dtype=object)
    # firm-years
    t_idx = np.arange(T)
    fe = np.round(f_frac[:, None] * E[f_town, :, f_sec] * np.exp(rng.normal(0, 0.02, (n_f, T))))
    fe = np.maximum(fe, 1.0)
    grp_t = np.where(t_idx[None, :] < f_tau[:, None], f_g0[:, None], f_g1[:, None])  # n_f x T, -1 = independent
    return Registry(groups=g, E=E, has_firm_sector=has_firm_sector, f_town=f_town, f_sec=f_sec, firm_id=firm_id,
                    fe=fe, grp_t=grp_t, f_present=present[f_town], f_block=f_block)


# ------------------------------------------------------------------------ stage 4: publication
def _publication(rng, p: Plan, world: dict) -> np.ndarray:
    """Stage 4: the cells Rosstat suppresses (N x T x S): small cells (1-49 jobs) of sectors
    without registered firms, at random with probability ``suppress_rate``."""
    reg: Registry = world["registry"]
    E = reg.E
    no_firm = ~reg.has_firm_sector
    return (E > 0) & (E < 50) & no_firm[:, None, :] & (rng.random(E.shape) < p.suppress_rate)


# ------------------------------------------------------------------------ stage 5: outcomes
@dataclass(frozen=True)
class Outcomes:
    corp_share: np.ndarray   # N x T true regressors, as the feature builder defines them
    core_share: np.ndarray
    avg_wage: np.ndarray     # N x T, NaN = missing
    investment: np.ndarray


def _true_regressors(p: Plan, geo: Geography, reg: Registry, supp: np.ndarray):
    """``corp_share`` (employment in firms of VI groups / published employment) and
    ``core_control_share`` (in firms of groups headquartered in another municipality that is a
    core), N x T, computed as the feature builder defines them."""
    N, T, n_cores = geo.N, p.T, p.n_cores
    E, fe, grp_t, f_town, g = reg.E, reg.fe, reg.grp_t, reg.f_town, reg.groups
    published = np.where(supp, 0.0, E).sum(axis=2)  # N x T
    vi_t = np.where(grp_t >= 0, g.vi_true[np.maximum(grp_t, 0)], False)
    hq_t = np.where(grp_t >= 0, g.hq[np.maximum(grp_t, 0)], -1)
    core_t = (grp_t >= 0) & (hq_t < n_cores) & (hq_t >= 0) & (hq_t != f_town[:, None])
    vi_emp = np.zeros((N, T))
    core_emp = np.zeros((N, T))
    np.add.at(vi_emp, f_town, np.where(vi_t, fe, 0.0))
    np.add.at(core_emp, f_town, np.where(core_t, fe, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corp_share = np.where(published > 0, vi_emp / published, np.nan)
        core_share = np.where(published > 0, core_emp / published, np.nan)
    return corp_share, core_share


def _outcomes(rng, p: Plan, world: dict) -> Outcomes:
    """Stage 5: the outcome equations of the module docstring (town effects correlated with the
    type, year effects, the true coefficients, noise), then missing cells at random."""
    geo: Geography = world["geography"]
    role, N, T = geo.role, geo.N, p.T
    corp_share, core_share = _true_regressors(p, geo, world["registry"], world["publication"])
    t_idx = np.arange(T)
    type_wage = np.select([role == 0, role == 1, role == 2, role == 3, role == 4, role == 5],
                          [0.15, 0.25, 0.05, -0.15, 0.20, -0.25])
    alpha = np.log(38_000) + type_wage + 0.1 * (geo.lat - 66) / 6 + rng.normal(0, 0.08, N)
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
    miss_w = rng.random((N, T)) < p.missing_outcome_rate
    miss_i = rng.random((N, T)) < p.missing_outcome_rate
    avg_wage = np.where(miss_w, np.nan, avg_wage)
    investment = np.where(miss_i, np.nan, investment)
    return Outcomes(corp_share=corp_share, core_share=core_share, avg_wage=avg_wage, investment=investment)


# ------------------------------------------------------------------------ world 2: corporate events
# The study's dynamics (the module docstring, "World 2"): constants of the mechanisms.
STATUS_COEF = {"Intercept": -3.0, "corp_share": -4.0, "core_control_share": -2.0, "dist_core_km": 0.004}
STATUS_RHO = 0.7          # AR(1) correlation of the Gaussian copula behind the logistic errors
POP_RESPONSE = 0.03       # log population change since the base year per unit of the index near 0
RESPONSE_BOUND = 3.0      # the responses act on RESPONSE_BOUND * tanh(L / RESPONSE_BOUND): no jump beyond 3 units
EMP_RESPONSE = (0.07, 0.03)  # log published employment change since the base year per unit of the index:
#                              where the index is positive (falling) and negative (growing)
CORE_RESPONSE = 0.1       # ... times this in the agglomeration cores (the national total stays near flat)
LATE_SCALE = 0.25         # jobs and residents of the municipalities that enter the data late, times this
N_COHORTS = 5             # entry cohorts spread over the panel
ALWAYS_SHARE = 0.1        # corporate towns whose anchor firm is VI-owned from the first year
ANCHOR_START = 0.45       # the anchor firm's jobs before consolidation, as a share of the consolidated firm's
CONSOLIDATION = (1.0, 0.45)  # ... after consolidation: towns of the first and of the last cohort
RAMP_YEARS = 5            # the group consolidates the anchor (and buys suppliers) over these years after entry
SUPPLIER_BUY = (0.95, 0.35)  # probability that the group buys a supplier or a private local firm after
#                              entry: first and last cohort
PUBLIC_SECTORS = ("84", "85", "86")  # local firms in these divisions (public institutions) are never bought
EXIT_SHARE = 0.35         # towns of the first two cohorts that the group leaves 4-6 years after entry
ALWAYS_EXIT_SHARE = 0.15  # always-VI towns that the group leaves during the panel
EVENT_OUTCOMES = ("log_wage", "log_employment", "log_population")


def _stream(p: Plan, name: str) -> np.random.Generator:
    """The own generator of a world-2 mechanism (the draws of the stages of world 1 stay as they were)."""
    return np.random.default_rng(np.random.SeedSequence(p.seed, spawn_key=(zlib.crc32(name.encode()),)))


def cohort_indices(n_years: int) -> np.ndarray:
    """Year indices of the entry cohorts: :data:`N_COHORTS` spread from the fourth year to the
    fourth-last (fewer in short panels; at least two years before each)."""
    lo = min(3, n_years - 2)
    hi = max(lo, n_years - 3)
    return np.unique(np.round(np.linspace(lo, hi, N_COHORTS)).astype(int))


@dataclass(frozen=True)
class Events:
    """Corporate entry and exit: the schedule of every municipality's anchor firm (``N``) and of
    the suppliers the group buys (``n_f``, per firm)."""

    entry_t: np.ndarray      # N: year index of entry; 0 = VI-owned from the first year; -1 never
    exit_t: np.ndarray       # N: year index of exit; -1 never
    cohort_rank: np.ndarray  # N: 0 .. n_cohorts - 1 for towns with an entry in the panel, else -1
    consolidation: np.ndarray  # N: the anchor firm's jobs once consolidated (share of the full firm; 1 = none)
    near: np.ndarray         # N: a town within 220 km of a core (integrated and satellite towns)
    join_delay: np.ndarray   # n_f: years after entry the firm joins the group (0 anchor), -1 never
    cohorts: np.ndarray      # year indices of the cohorts


def _events(rng, p: Plan, world: dict) -> Events:
    """World 2, stage ``events``: which corporate towns are VI-owned from the first year, which
    are bought in which cohort (at least two years after their first year, else VI-owned from
    the start), the exits, the anchor's consolidation and the firms bought after entry."""
    geo, eco, reg = world["geography"], world["economy"], world["registry"]
    r = _stream(p, "events")
    N, T, n_f = geo.N, p.T, len(reg.f_town)
    cohorts = cohort_indices(T)
    n_c = len(cohorts)
    first = geo.present.argmax(axis=1)
    corp = eco.corp_town
    always = corp & (r.random(N) < ALWAYS_SHARE)
    rank = r.integers(0, n_c, N)
    entry_t = np.where(always, 0, np.where(corp, cohorts[rank], -1))
    entry_t = np.where(corp & (first > entry_t - 2), 0, entry_t)  # no two years before: VI from the start
    entered = entry_t > 0
    rank = np.where(entered, rank, -1)
    leave = r.integers(4, 7, N)
    exit_t = np.where(entered & (rank <= 1) & (r.random(N) < EXIT_SHARE), entry_t + leave, -1)
    lo_x = min(4, T - 1)
    exit_at = r.integers(lo_x, max(lo_x + 1, T - 1), N)
    exit_t = np.where((entry_t == 0) & corp & (r.random(N) < ALWAYS_EXIT_SHARE), exit_at, exit_t)
    exit_t = np.where(exit_t >= T, -1, exit_t)
    frac = np.where(n_c > 1, rank / max(n_c - 1, 1), 0.0)
    near = np.isin(geo.role, [0, 2])
    consolidation = np.where(entered, CONSOLIDATION[0] + (CONSOLIDATION[1] - CONSOLIDATION[0]) * frac, 1.0)
    # suppliers and private local firms: bought 1..RAMP_YEARS years after entry (suppliers are in the
    # group from the start in half of the always-VI towns' cases)
    ft, blk = reg.f_town, reg.f_block
    public = np.isin(np.array(p.sectors)[reg.f_sec], PUBLIC_SECTORS)
    buyable = np.isin(blk, [1, 2, 3]) | ((blk == 7) & ~public & entered[ft])
    p_buy = np.where(entered[ft], SUPPLIER_BUY[0] + (SUPPLIER_BUY[1] - SUPPLIER_BUY[0]) * frac[ft], 0.5)
    bought = buyable & (r.random(n_f) < p_buy)
    delay = np.where(entered[ft], r.integers(1, RAMP_YEARS + 1, n_f), 0)
    join_delay = np.where(blk == 0, 0, np.where(bought, delay, -1))
    return Events(entry_t=entry_t, exit_t=exit_t, cohort_rank=rank, consolidation=consolidation, near=near,
                  join_delay=join_delay, cohorts=cohorts)


def _ownership(p: Plan, reg: Registry, ev: Events, mode: str):
    """Owner of every firm by year (n_f x T) and the anchor's job multiplier (N x T) under the
    schedule ``mode``: ``"actual"``, ``"untreated"`` (no entry in the panel: the towns bought
    during the panel keep an independent anchor) or ``"no_exit"`` (no group leaves)."""
    T = p.T
    t = np.arange(T)
    never = T + 1
    entry, exit_ = ev.entry_t, ev.exit_t
    if mode == "untreated":
        entry = np.where(entry > 0, -1, entry)
    if mode == "no_exit":
        exit_ = np.full_like(exit_, -1)
    ent = np.where(entry < 0, never, entry)
    ext = np.where(exit_ < 0, never, exit_)
    blk, ft = reg.f_block, reg.f_town
    grp = reg.grp_t.copy()
    grp[blk == 4] = -1                                        # no VI firms in satellites and detached towns
    chains = (blk == 5) | (blk == 6)
    grp[chains] = reg.grp_t[chains][:, -1:]                   # retail chains present from the first year
    sched = (blk <= 3) | ((blk == 7) & (ev.join_delay >= 0))  # the anchor, its suppliers, local firms bought
    join = np.where(ev.join_delay[sched] < 0, never, ent[ft[sched]] + ev.join_delay[sched])
    owned = (t[None, :] >= join[:, None]) & (t[None, :] < ext[ft[sched]][:, None])
    grp[sched] = np.where(owned, reg.groups.vi_of_town[ft[sched]][:, None], -1)
    e = t[None, :] - ent[:, None]
    start = np.where(ev.entry_t > 0, ANCHOR_START, 1.0)[:, None]  # towns bought in the panel (in any mode)
    A = start + (ev.consolidation[:, None] - start) * np.clip(e / RAMP_YEARS, 0.0, 1.0)
    return grp, A


@dataclass(frozen=True)
class Noise:
    """The draws of world 2's outcomes, shared by every potential schedule."""

    eps: np.ndarray          # N x T logistic errors of the stagnation index (AR(1) Gaussian copula)
    alpha: np.ndarray        # N town effects of log wages
    gamma: np.ndarray        # T year effects of log wages
    e_w: np.ndarray          # N x T wage noise
    beta: np.ndarray         # N town effects of log investment
    h: np.ndarray            # T year effects of log investment
    u: np.ndarray            # N x T investment noise
    miss_w: np.ndarray       # N x T missing wage cells
    miss_i: np.ndarray       # N x T missing investment cells


def _noise(p: Plan, geo: Geography) -> Noise:
    from scipy import special

    r = _stream(p, "outcomes")
    N, T, role = geo.N, p.T, geo.role
    z = np.empty((N, T))
    z[:, 0] = r.standard_normal(N)
    shocks = r.standard_normal((N, T))
    for t in range(1, T):  # T steps of a vectorized AR(1), stationary N(0, 1)
        z[:, t] = STATUS_RHO * z[:, t - 1] + np.sqrt(1.0 - STATUS_RHO ** 2) * shocks[:, t]
    eps = special.logit(special.ndtr(z))  # standard logistic margins
    type_wage = np.select([role == 0, role == 1, role == 2, role == 3, role == 4, role == 5],
                          [0.15, 0.25, 0.05, -0.15, 0.20, -0.25])
    t_idx = np.arange(T)
    return Noise(eps=eps, alpha=np.log(38_000) + type_wage + 0.1 * (geo.lat - 66) / 6 + r.normal(0, 0.08, N),
                 gamma=0.06 * t_idx + r.normal(0, 0.01, T), e_w=r.normal(0, WAGE_SD, (N, T)),
                 beta=np.log(60_000) + 0.5 * type_wage + r.normal(0, 0.2, N), h=0.03 * t_idx + r.normal(0, 0.03, T),
                 u=r.normal(0, INVEST_SD, (N, T)), miss_w=r.random((N, T)) < p.missing_outcome_rate,
                 miss_i=r.random((N, T)) < p.missing_outcome_rate)


def core_distance_km(p: Plan, geo: Geography) -> np.ndarray:
    """Distance to the nearest agglomeration core from the published coordinates, as the
    agglomeration feature group computes ``dist_core_km`` (0 for a core)."""
    lat, lon = np.round(geo.lat, 5), np.round(geo.lon, 5)
    n_c = p.n_cores
    return haversine_matrix(lat, lon, lat[:n_c], lon[:n_c]).min(axis=1)


def _signed_growth(level: np.ndarray, base: np.ndarray, down: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``level`` (N x T, whole numbers) moved by one unit where its sign against ``base`` (N)
    disagrees with ``down`` (below the base) after the base year, so that rounding never flips it."""
    b = base[:, None]
    return np.where(after & down & (level >= b), b - 1, np.where(after & ~down & (level <= b), b + 1, level))


# ------------------------------------------------------------------------ world 3: the spillover
SPILL_K = 6              # neighbours of the spillover weights (k nearest municipalities, great circle)
SPILL_THETA = 0.20       # log wage per unit of the neighbours' mean corp_share (SLX coefficient)
SPILL_LAMBDA = 0.6       # spatial autoregressive parameter of the wage shock (SAR error)
SPILL_SD = 0.02          # sd of the innovations of the spatially correlated wage shock


@dataclass(frozen=True)
class Spillover:
    """World 3's spillover: the weights, the neighbours' term and the spatially correlated shock.

    ``weights``: row-standardized k-nearest-neighbour weights (``k = SPILL_K``) among every
    municipality of the dataset (cores, towns and rural municipalities; the published, rounded
    coordinates; great-circle distances), :func:`features.spatial.knn_weights`. In year ``t``
    the weights are those among the municipalities present that year, rows re-standardized
    over the neighbours present (``weights.reindex``). ``shock``: ``u_t = (I - lambda W)^-1 e_t``
    with ``W`` the weights among every municipality and ``e_t ~ N(0, SPILL_SD^2)`` i.i.d.
    """

    weights: object  # features.spatial.SpatialWeights
    theta: float
    lam: float
    shock: np.ndarray  # N x T

    def lagged(self, x: np.ndarray, present: np.ndarray) -> np.ndarray:
        """``W_t x_t`` for every year (N x T; 0 where absent); a neighbour's missing value counts as 0."""
        out = np.zeros_like(x, dtype=float)
        ids = self.weights.ids
        for t in range(x.shape[1]):  # one sparse product per year
            keep = present[:, t]
            w = self.weights.reindex(ids[keep], warn=False)
            out[keep, t] = w.lag(np.nan_to_num(x[keep, t], nan=0.0))
        return out

    def term(self, corp: np.ndarray, present: np.ndarray) -> np.ndarray:
        """What world 3 adds to log wages: ``theta W_t corp_share_t + u_t``."""
        return self.theta * self.lagged(corp, present) + self.shock


def _spillover(rng, p: Plan, world: dict) -> Spillover:
    """World 3, stage ``spillover``: the weights among the municipalities and the spatially
    correlated wage shock, from the stage's own generator (``_stream(p, "spillover")``)."""
    from scipy.sparse import identity
    from scipy.sparse.linalg import splu

    from features.spatial import knn_weights

    geo = world["geography"]
    w = knn_weights(np.round(geo.lat, 5), np.round(geo.lon, 5), k=SPILL_K, ids=geo.town_id.astype(str))
    e = _stream(p, "spillover").normal(0.0, SPILL_SD, (geo.N, p.T))
    A = (identity(geo.N, format="csc") - SPILL_LAMBDA * w.sparse.tocsc()).tocsc()
    shock = splu(A).solve(e)
    return Spillover(weights=w, theta=SPILL_THETA, lam=SPILL_LAMBDA, shock=shock)


def _spatial_truth(p: Plan) -> dict:
    """The ``spatial`` section of truth.json (world 3)."""
    b = WAGE_COEF["corp_share"]
    return {
        "weights": {"kind": "knn", "k": SPILL_K, "transform": "r", "distance": "great circle (haversine, km)",
                    "among": ("every municipality of the dataset (cores, towns and rural municipalities; the "
                              "published coordinates of towns.csv); in each year the weights among the "
                              "municipalities present that year, rows re-standardized over the neighbours present "
                              "(features.spatial.knn_weights(lat, lon, k=6).reindex(present ids))")},
        "model": "SLX + SAR error (SDEM): log(avg_wage)_t = ... + theta W_t corp_share_t + u_t, u_t = lambda W u_t + e_t",
        "formula": ("log(avg_wage) ~ corp_share + core_control_share + corp_share:core_control_share + W(corp_share), "
                    "twoway effects"),
        "theta": {"corp_share": SPILL_THETA}, "lambda": SPILL_LAMBDA, "rho": 0.0, "innovation_sd": SPILL_SD,
        "impacts": {"corp_share": {"direct": b, "indirect": SPILL_THETA, "total": b + SPILL_THETA,
                                   "note": ("at core_control_share = 0; no spatial lag of the outcome (rho = 0), so "
                                            "the direct effect is the coefficient of corp_share and the indirect "
                                            "effect theta (LeSage and Pace 2009, SLX/SDEM)")}},
        "shock": ("u_t = (I - lambda W)^-1 e_t, e_t ~ N(0, innovation_sd^2) i.i.d. over municipalities and years, W "
                  "the weights among every municipality"),
        "error_note": ("the wage equation's whole error is this shock plus the independent wage noise of world 2 "
                       "(sd 0.04), so a spatial error model of log(avg_wage) estimates a smaller lambda than the "
                       "shock's; theta and the impacts are unaffected"),
        "events_note": ("the event effects of log_wage (events.effects) include the spillover: the potential "
                        "outcomes move every town's neighbours' corp_share with the schedule"),
    }


def _realize(p: Plan, geo: Geography, reg: Registry, supp: np.ndarray, ev: Events, nz: Noise, dist: np.ndarray,
             mode: str, spill: Spillover | None = None) -> dict:
    """Every outcome of world 2 under the schedule ``mode`` (see :func:`_ownership`), from the
    shared draws ``nz``: a deterministic function, so potential outcomes differ only by the schedule.
    ``spill`` (world 3) adds the spillover and the spatially correlated shock to log wages."""
    N, T = geo.N, p.T
    rows, t = np.arange(N), np.arange(T)
    grp, A = _ownership(p, reg, ev, mode)
    is_anchor = reg.f_block == 0
    anchor = np.full(N, -1)
    anchor[reg.f_town[is_anchor]] = reg.f_sec[is_anchor]
    b = geo.present.argmax(axis=1)
    size = np.where(b > 0, LATE_SCALE, 1.0)  # late entrants are small: they barely move the national totals
    E = reg.E * size[:, None, None]
    fe = np.round(reg.fe * size[reg.f_town][:, None] * np.where(is_anchor[:, None], A[reg.f_town], 1.0))
    corp0, core0 = _true_regressors(p, geo, replace(reg, E=E, fe=fe, grp_t=grp), supp)
    eta = (STATUS_COEF["Intercept"] + STATUS_COEF["corp_share"] * corp0 + STATUS_COEF["core_control_share"] * core0
           + STATUS_COEF["dist_core_km"] * dist[:, None])
    L = eta + nz.eps
    down = L > 0
    after = t[None, :] > b[:, None]
    # employment: every cell of the town-year scaled so that the published total moves by exp(-c L) from the base year
    pub = np.where(supp, 0.0, E).sum(axis=2)
    c_e = np.where(down, EMP_RESPONSE[0], EMP_RESPONSE[1]) * np.where(geo.role == 4, CORE_RESPONSE, 1.0)[:, None]
    h = RESPONSE_BOUND * np.tanh(L / RESPONSE_BOUND)  # monotone, the sign of L, bounded
    m = np.where(after, np.exp(-c_e * h) * pub[rows, b][:, None] / np.maximum(pub, 1.0), 1.0)
    E2 = np.where(E > 0, np.maximum(np.round(E * m[:, :, None]), 1.0), 0.0)
    pub2 = np.where(supp, 0.0, E2).sum(axis=2)
    fixed = _signed_growth(pub2, pub2[rows, b], down, after)
    big = np.where(supp, -1.0, E2).argmax(axis=2)  # the largest published cell absorbs the repair
    E2[rows[:, None], t[None, :], big] += fixed - pub2
    fe2 = np.maximum(np.round(fe * m[reg.f_town]), 1.0)
    # population: exp(-c L) from the base year
    pop = np.round(geo.pop * size[:, None])
    pop_b = pop[rows, b]
    pop2 = np.where(after, np.round(pop_b[:, None] * np.exp(-POP_RESPONSE * h)), pop)
    pop2 = _signed_growth(pop2, pop_b, down, after)
    reg2 = replace(reg, E=E2, fe=fe2, grp_t=grp)
    corp, core = _true_regressors(p, geo, reg2, supp)
    log_wage = (nz.alpha[:, None] + nz.gamma[None, :] + WAGE_COEF["corp_share"] * corp
                + WAGE_COEF["core_control_share"] * core
                + WAGE_COEF["corp_share:core_control_share"] * corp * core + nz.e_w)
    if spill is not None:
        log_wage = log_wage + spill.term(corp, geo.present)
    log_inv = (nz.beta[:, None] + nz.h[None, :] + INVEST_COEF["corp_share"] * corp
               + INVEST_COEF["core_control_share"] * core + nz.u)
    avg_wage = np.round(np.exp(log_wage), 2)
    return {"registry": reg2, "pop": pop2, "corp_share": corp, "core_share": core, "avg_wage": avg_wage,
            "investment": np.round(np.exp(log_inv), 2), "employment": E2.sum(axis=2), "index": L, "eta": eta,
            "vi_anchor": _vi_anchor(reg, grp, N),
            "log_wage": np.log(avg_wage), "log_employment": np.log(E2.sum(axis=2)), "log_population": np.log(pop2)}


def _vi_anchor(reg: Registry, grp: np.ndarray, N: int) -> np.ndarray:
    """N x T: the municipality's anchor firm is owned by a VI group that year."""
    out = np.zeros((N, grp.shape[1]), dtype=bool)
    a = reg.f_block == 0
    out[reg.f_town[a]] = grp[a] >= 0
    return out


@dataclass(frozen=True)
class Dynamics:
    """World 2's replacements of the tables' sources (population, registry, outcomes) and its truth."""

    geography: Geography
    registry: Registry
    outcomes: Outcomes
    events: Events
    employment: np.ndarray   # N x T total jobs
    untreated: dict          # the outcomes without the entries of the panel (EVENT_OUTCOMES, N x T)
    truth: dict              # the ``events`` section and the stagnation equation of truth.json


def _dynamics(rng, p: Plan, world: dict) -> Dynamics:
    """World 2, stage ``dynamics``: the outcomes under the actual schedule and the potential
    ones (without the entries, without the exits), from one set of draws; the truth."""
    geo, reg, supp, ev = world["geography"], world["registry"], world["publication"], world["events"]
    nz = _noise(p, geo)
    dist = core_distance_km(p, geo)
    spill = world.get("spillover")  # world 3
    real = {m: _realize(p, geo, reg, supp, ev, nz, dist, m, spill) for m in ("actual", "untreated", "no_exit")}
    a = real["actual"]
    out = Outcomes(corp_share=a["corp_share"], core_share=a["core_share"],
                   avg_wage=np.where(nz.miss_w, np.nan, a["avg_wage"]),
                   investment=np.where(nz.miss_i, np.nan, a["investment"]))
    truth = {"events": _events_truth(p, geo, ev, real),
             "stagnation": _stagnation_truth(p)}
    return Dynamics(geography=replace(geo, pop=a["pop"]), registry=a["registry"], outcomes=out, events=ev,
                    employment=a["employment"], untreated={k: real["untreated"][k] for k in EVENT_OUTCOMES},
                    truth=truth)


def _stagnation_truth(p: Plan) -> dict:
    """The stagnation equation of truth.json: the latent logit, and its intercept on the rows
    where the dynamics group can decide the status (see the module docstring)."""
    shift = -2.0 * float(np.log1p(-p.missing_outcome_rate))
    coef = dict(STATUS_COEF)
    coef["Intercept"] = STATUS_COEF["Intercept"] + shift
    return {
        "formula": "status ~ corp_share + core_control_share + dist_core_km", "kind": "logit",
        "outcome_level": "stagnating", "coefficients": coef, "latent_coefficients": dict(STATUS_COEF),
        "intercept_shift": shift,
        "note": ("P(stagnating) = logistic(latent index) for every municipality-year after its base year; a "
                 "not-stagnating town-year has a defined status only when its wages of that year and of the "
                 "base year are both published (probability (1 - missing_outcome_rate)^2, independent of the "
                 "regressors), so on the rows with a status the intercept is the latent one plus "
                 "-2 log(1 - missing_outcome_rate) and the slopes are the latent ones"),
    }


def _att_paths(p: Plan, present: np.ndarray, start: np.ndarray, diff: np.ndarray) -> dict:
    """Average effects of an event at year index ``start`` (N, -1 = none) from ``diff`` (N x T,
    Y(event) - Y(no event)): by cohort and event time over the cohort's towns present that
    year, the dynamic path (cohorts weighted by their number of towns) and the simple overall
    average over post-event cells (each cohort's cells weighted by its number of towns)."""
    T, years = p.T, p.years
    by_cohort, n_g = {}, {}
    for g in np.unique(start[start >= 0]):
        members = start == g
        e = np.arange(T) - g
        ok = present[members]
        d = np.where(ok, diff[members], 0.0).sum(axis=0)
        k = ok.sum(axis=0)
        by_cohort[int(years[g])] = {int(e[j]): float(d[j] / k[j]) for j in range(T) if k[j] > 0}
        n_g[int(years[g])] = int(members.sum())
    dyn_num, dyn_den, post_num, post_den = {}, {}, 0.0, 0.0
    for g, path in by_cohort.items():
        for e, v in path.items():
            dyn_num[e] = dyn_num.get(e, 0.0) + n_g[g] * v
            dyn_den[e] = dyn_den.get(e, 0) + n_g[g]
            if e >= 0:
                post_num += n_g[g] * v
                post_den += n_g[g]
    dynamic = {e: dyn_num[e] / dyn_den[e] for e in sorted(dyn_num)}
    return {"dynamic": {str(e): v for e, v in dynamic.items()},
            "by_cohort": {str(g): {str(e): v for e, v in path.items()} for g, path in by_cohort.items()},
            "overall": post_num / post_den if post_den else None, "cohort_sizes": {str(g): n for g, n in n_g.items()}}


def _events_truth(p: Plan, geo: Geography, ev: Events, real: dict) -> dict:
    """The ``events`` section of truth.json (see the module docstring, "World 2")."""
    years, ids = p.years, geo.town_id.astype(str)
    entry_year = np.where(ev.entry_t >= 0, years[np.maximum(ev.entry_t, 0)], 0)
    exit_year = np.where(ev.exit_t >= 0, years[np.maximum(ev.exit_t, 0)], 0)
    a, u, x = real["actual"], real["untreated"], real["no_exit"]
    start = np.where(ev.entry_t > 0, ev.entry_t, -1)
    effects = {k: _att_paths(p, geo.present, start, a[k] - u[k]) for k in EVENT_OUTCOMES}
    exits = {k: _att_paths(p, geo.present, ev.exit_t, a[k] - x[k]) for k in EVENT_OUTCOMES}
    typed = geo.role <= 3
    near = ev.near
    code = np.where(a["vi_anchor"], np.where(near, 0, 1)[:, None], np.where(near, 2, 3)[:, None])
    names = np.array(TYPES, dtype=object)
    types_by_year = {ids[i]: {str(years[t]): str(names[code[i, t]]) for t in np.flatnonzero(geo.present[i])}
                     for i in np.flatnonzero(typed)}
    return {
        "entry_year": {i: int(v) for i, v in zip(ids, entry_year, strict=True)},
        "exit_year": {i: int(v) for i, v in zip(ids, exit_year, strict=True)},
        "cohorts": [int(years[g]) for g in ev.cohorts],
        "effects": effects,
        "exit_effects": exits,
        "types_by_year": types_by_year,
        "definitions": EVENT_DEFINITIONS,
    }


EVENT_DEFINITIONS = {
    "entry_year": ("the year a vertically integrated group takes over the town's anchor firm (its largest "
                   "firm): the anchor's group_id in the firms table changes from empty to a VI group that "
                   "year; the first year of the panel for a town whose anchor is VI-owned from the start "
                   "(always treated); 0 = never"),
    "exit_year": "the year the group leaves: the anchor's group_id becomes empty again that year; 0 = never",
    "event_time": "e = year - entry_year (exit_effects: year - exit_year)",
    "by_cohort": ("ATT(g, e) = mean over the towns of cohort g present in year g + e of Y_it(actual) - "
                  "Y_it(untreated), both computed by the generator from the same draws (potential outcomes; "
                  "Y(untreated) keeps the anchor independent; 'actual' includes the later exit of some towns); "
                  "every town of cohort g is present from g - 2 on, so for e >= -2 the cohort is balanced"),
    "dynamic": ("theta(e) = sum_g n_g ATT(g, e) / sum_g n_g over the cohorts observed at e, n_g the number of "
                "towns of cohort g (Callaway and Sant'Anna's dynamic aggregation); 0 for e < 0 (no anticipation)"),
    "overall": ("sum over cohorts g and years t >= g of n_g ATT(g, t - g), divided by the sum of the weights "
                "(Callaway and Sant'Anna's simple aggregation)"),
    "outcomes": ("log_wage = log(avg_wage), log_employment = log(employment), log_population = log(population) "
                 "of the outcomes table, before cells of avg_wage are blanked at random (the effect of a "
                 "missing cell is defined and included)"),
    "exit_effects": ("the same paths for the exit: Y(actual) - Y(no group ever leaves), by exit year and time "
                     "since exit"),
    "types_by_year": ("the study's 2 x 2 in each year a town is present: the anchor VI-owned that year "
                      "(integrated_connected near a core, corporate_remote far) or not (diversified_satellite "
                      "near, detached_simplified far); near = the town's site is 40-220 km from a core"),
}


# ------------------------------------------------------------------------ the tables
def _dataset(rng, p: Plan, world: dict) -> SyntheticDataset:
    """The contract tables (validated), the true regressors and ``truth.json``; the municipal
    areas are the last draw."""
    dyn: Dynamics | None = world.get("dynamics")  # world 2 replaces population, registry and outcomes
    geo, reg, out = (dyn.geography, dyn.registry, dyn.outcomes) if dyn else (
        world["geography"], world["registry"], world["outcomes"])
    supp = world["publication"]
    role, N, town_id, years, sectors = geo.role, geo.N, geo.town_id, p.years, np.array(p.sectors)
    E, present, pop = reg.E, geo.present, geo.pop
    towns = pd.DataFrame({
        "town_id": town_id.astype(str), "name": geo.names.astype(str),
        "region": np.array([f"Region {c}" for c in geo.codes], dtype=object).astype(str),
        "lat": np.round(geo.lat, 5), "lon": np.round(geo.lon, 5), "population": pop[:, 0],
        "kind": geo.kind.astype(str), "area_km2": np.round(np.where(role == 4, 300.0, np.where(role == 5, 2000.0, 60.0)) * rng.uniform(0.7, 1.3, N), 1),
        "north": geo.lat >= 64.0,
    })
    ii, tt, ss = np.nonzero((E > 0) & present[:, :, None])
    emp_vals = E[ii, tt, ss].astype(float)
    emp_vals[supp[ii, tt, ss]] = np.nan
    employment = pd.DataFrame({"town_id": town_id[ii].astype(str), "year": years[tt], "sector": sectors[ss],
                               "employment": emp_vals})
    fi, ft_ = np.nonzero(reg.f_present)
    g_of = reg.grp_t[fi, ft_]
    g = reg.groups
    firms = pd.DataFrame({
        "firm_id": reg.firm_id[fi].astype(str), "town_id": town_id[reg.f_town[fi]].astype(str),
        "sector": sectors[reg.f_sec[fi]], "employees": reg.fe[fi, ft_], "year": years[ft_],
        "group_id": pd.array(np.where(g_of >= 0, np.array(g.ids, dtype=object)[np.maximum(g_of, 0)], None), dtype="str"),
    })
    # firms must sit in a sector with employment that year
    groups = pd.DataFrame({"group_id": g.ids, "hq_town_id": town_id[g.hq].astype(str),
                           "name": [f"Group {x}" for x in g.ids],
                           "vertically_integrated": pd.array([{"true": True, "false": False}.get(v) for v in g.flag], dtype="boolean")})
    oi, ot = np.nonzero(present)
    outcomes = pd.DataFrame({"town_id": town_id[oi].astype(str), "year": years[ot], "population": pop[oi, ot],
                             "avg_wage": out.avg_wage[oi, ot], "investment": out.investment[oi, ot]})
    if dyn:
        ev = dyn.events
        outcomes["employment"] = dyn.employment[oi, ot]
        outcomes["entry_year"] = np.where(ev.entry_t >= 0, years[np.maximum(ev.entry_t, 0)], 0)[oi].astype("int64")
        outcomes["exit_year"] = np.where(ev.exit_t >= 0, years[np.maximum(ev.exit_t, 0)], 0)[oi].astype("int64")
    data = TownData.from_tables(towns=towns, employment=employment, firms=firms, groups=groups, outcomes=outcomes,
                                source=f"synthetic(n_towns={p.n_towns}, n_years={p.n_years}, seed={p.seed})")

    regressors = pd.DataFrame({"town_id": town_id[oi].astype(str), "year": years[ot],
                               "corp_share": out.corp_share[oi, ot], "core_control_share": out.core_share[oi, ot]}
                              ).set_index(["town_id", "year"])
    if not dyn:
        return SyntheticDataset(data=data, truth=_truth(p, geo), regressors=regressors)
    truth = _truth(p, geo)
    del truth["population_trend_per_year"]
    last = {t: years_types[max(years_types)] for t, years_types in dyn.truth["events"]["types_by_year"].items()}
    truth["town_types"] = {t: last.get(t, v) for t, v in truth["town_types"].items()}
    truth["town_types_year"] = "the type of each town in its last year (events.types_by_year); cores and rural as before"
    truth["population"] = ("log(population_it / population_ib) = -POP_RESPONSE * h(L_it), h(L) = 3 tanh(L / 3), "
                           "and the published employment likewise with EMP_RESPONSE, after each municipality's "
                           "base (first) year b; "
                           "L_it the latent stagnation index (no other trend)")
    truth["response"] = {"population": POP_RESPONSE, "bound": RESPONSE_BOUND, "employment_falling": EMP_RESPONSE[0],
                         "employment_growing": EMP_RESPONSE[1], "core_factor": CORE_RESPONSE,
                         "status_rho": STATUS_RHO}
    truth["equations"]["stagnation"] = dyn.truth["stagnation"]
    truth["events"] = dyn.truth["events"]
    if "spillover" in world:
        truth["spatial"] = _spatial_truth(p)
    potential = pd.DataFrame({k: dyn.untreated[k][oi, ot] for k in EVENT_OUTCOMES},
                             index=regressors.index)
    return SyntheticDataset(data=data, truth=truth, regressors=regressors, potential=potential)


def _truth(p: Plan, geo: Geography) -> dict:
    """``truth.json``: the arguments, the true type of every municipality, the equations."""
    type_names = np.array(list(TYPES) + ["core", "rural"], dtype=object)
    return {
        "generator": "typology.data.synth.generate",
        "params": p.params(),
        "types": dict(TYPE_DESCRIPTIONS),
        "n_types": len(TYPES),
        "typed_towns": "municipalities of kind 'town' that are not agglomeration cores",
        "town_types": {str(t): str(type_names[r]) for t, r in zip(geo.town_id, geo.role, strict=True)},
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
        "cores": [str(t) for t in geo.town_id[:p.n_cores]],
    }


# The stages of generate, in order: (name, stage). ``stage(rng, plan, world)`` reads what the
# stages before it built (``world["geography"]``, ...) and draws from ``rng`` after them, so the
# order is part of every dataset; its result is ``world[name]``. A new mechanism is a new stage
# (see the module docstring for adding one without changing the datasets written before).
STAGES = (
    ("geography", _geography),
    ("economy", _economy),
    ("registry", _registry),
    ("publication", _publication),
    ("outcomes", _outcomes),
    ("dataset", _dataset),
)
# World 2: the stages of world 1 up to the publication (the same draws), then the corporate events
# and the outcomes they drive, each from its own generator (``_stream``), then the tables.
STAGES_2 = (
    *STAGES[:4],
    ("events", _events),
    ("dynamics", _dynamics),
    ("dataset", _dataset),
)
# World 3: world 2 with the spillover (its own generator, before the outcomes it enters).
STAGES_3 = (
    *STAGES_2[:5],
    ("spillover", _spillover),
    *STAGES_2[5:],
)
WORLDS = {1: STAGES, 2: STAGES_2, 3: STAGES_3}
