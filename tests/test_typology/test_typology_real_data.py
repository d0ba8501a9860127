"""TownTypology on real municipal data (SberIndex 2025 package, Rosstat BDMO; ../shared/data).

2,627 Russian municipalities, four features of 2024: log market access (SberIndex), log
population, population growth 2023-2024 (% log points) and log average wage (all industries).
Checks: on real data the silhouette maximum is at k = 2 while the decision rule, supported by
several indices and bootstrap stability, picks more types; the towns left out for missing
values are reported; and the typology, never told where the North is, isolates the official
Far North municipalities (Government decree No. 1946 of 2021, via ../ru_mo_official_labels).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from typology import TownTypology, TypologyWarning, reconcile


@pytest.fixture(scope="module")
def municipalities(shared_data):
    d = shared_data / "sberindex_mo_2025"
    pop = pd.read_parquet(d / "2_bdmo_population.parquet").groupby(["territory_id", "year"])["value"] \
        .sum(min_count=1).unstack()
    sal = pd.read_parquet(d / "4_bdmo_salary.parquet")
    sal = sal[(sal["year"] == 2024) & (sal["period"] == "январь-декабрь") & (sal["okved_letter"] == "0")]
    wage = sal.groupby("territory_id")["value"].mean()
    access = pd.read_parquet(d / "1_market_access.parquet").set_index("territory_id")["market_access"]
    X = pd.DataFrame({"log_market_access": np.log(access), "log_population": np.log(pop[2024]),
                      "pop_growth": 100 * np.log(pop[2024] / pop[2023]), "log_wage": np.log(wage)})
    X.index = pd.Index(X.index.astype(str), name="town_id")
    labels = pd.read_csv(shared_data / "ru_mo_official_labels" / "ru_mo_official_labels_2024.csv",
                         dtype={"territory_id": str, "oktmo8": str}).set_index("territory_id")
    return X.replace([np.inf, -np.inf], np.nan), labels


@pytest.fixture(scope="module")
def fitted(municipalities):
    X, _ = municipalities
    with pytest.warns(TypologyWarning, match=r"\d+ towns have missing or infinite features"):
        return TownTypology(feature_transform=None, k_range=(2, 6), n_boot=30, n_ref=10, n_ps=5, missing="drop",
                            random_state=0).fit(X)


def test_left_out_municipalities_are_reported(municipalities, fitted):
    X, _ = municipalities
    incomplete = X.index[X.isna().any(axis=1)]
    assert set(fitted.left_out_) == set(incomplete) and len(incomplete) > 0
    assert len(fitted.labels_) + len(incomplete) == len(X)


def test_rule_does_not_stop_at_the_silhouette_maximum(fitted):
    sel = fitted.selection_
    assert sel["silhouette"].idxmax() == 2
    k = fitted.n_types_
    assert k > 2 and sel.loc[k, "votes"] >= 3 and sel.loc[k, "jaccard_min"] >= 0.75
    assert (fitted.stability_["jaccard_mean"] >= 0.75).all()
    assert "Runner-up k = 2" in fitted.selection_reason_


def test_far_north_is_found_without_being_given(municipalities, fitted):
    _, labels = municipalities
    north = labels["far_north_or_equated"].reindex(fitted.labels_.index)
    share = north.groupby(fitted.labels_).mean()
    prof = fitted.profiles_.mean
    remote = prof["log_market_access"].idxmin()  # the least accessible type
    assert prof.loc[remote, "log_wage"] > prof["log_wage"].median()  # ... with northern wage premiums
    assert share[remote] > 0.4 and share.drop(remote).max() < 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TypologyWarning)  # territories absent from the flag file
        r = reconcile(fitted, north.dropna().map({1: "Far North", 0: "other"}))
    assert r.cramers_v > 0.4


def test_assign_reproduces_labels_on_real_data(municipalities, fitted):
    X, _ = municipalities
    a = fitted.assign(X.loc[fitted.labels_.index])
    assert (a["type"] == fitted.labels_).all()
