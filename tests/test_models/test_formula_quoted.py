"""Column names that are not ASCII identifiers in formulas: Cyrillic identifiers and ``Q("...")``.

The reference of every fit is the same model on the same frame with the columns renamed to ASCII
(our own estimator on the renamed data): the names are the only difference, so params and
standard errors must be equal exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import FormulaError, PanelModelSpec, fit_panel_model, parse_formula
from models.formula import term_names

RU = {"pop": "численность", "wage": "зарплата", "kind": "тип города", "reg": "регион", "z": "доля, %"}


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(7)
    towns = [f"T{i:02d}" for i in range(30)]
    idx = pd.MultiIndex.from_product([towns, range(2010, 2018)], names=["town_id", "year"])
    n = len(idx)
    df = pd.DataFrame({"pop": np.exp(rng.normal(9, 1, n)), "z": rng.normal(size=n)}, index=idx)
    df["kind"] = np.repeat(rng.choice(["a", "b", "c"], 30), 8)
    df["reg"] = np.repeat([f"R{i % 5}" for i in range(30)], 8)
    df["wage"] = np.exp(0.3 * np.log(df["pop"]) + 0.2 * df["z"] + np.repeat(rng.normal(size=30), 8)
                        + 0.1 * rng.normal(size=n))
    return df, df.rename(columns=RU)


CASES = [  # (ASCII formula, the same with the Russian names, estimator options)
    ("log(wage) ~ log(pop) + z", 'log(зарплата) ~ log(численность) + Q("доля, %")', {"estimator": "within"}),
    ("log(wage) ~ log(pop) + z", 'log(Q("зарплата")) ~ log(Q(\'численность\')) + Q("доля, %")',
     {"estimator": "pooled", "effects": None}),
    ("wage ~ lag(log(pop), 1) + C(kind) + z:C(kind)",
     'зарплата ~ lag(log(численность), 1) + C(Q("тип города")) + Q("доля, %"):C(Q("тип города"))',
     {"estimator": "pooled", "effects": None}),
    ("log(wage) ~ z | town_id + reg^year", 'log(зарплата) ~ Q("доля, %") | town_id + регион^year', {}),
    ("log(wage) ~ z | town_id | log(pop) ~ lag(log(pop), 1)",
     'log(зарплата) ~ Q("доля, %") | town_id | log(численность) ~ lag(log(Q("численность")), 1)', {}),
]


@pytest.mark.parametrize("ascii_formula, ru_formula, options", CASES)
def test_russian_names_fit_as_the_ascii_renamed_frame(frames, ascii_formula, ru_formula, options):
    df, ru = frames
    a = fit_panel_model(df, PanelModelSpec(ascii_formula, cluster="entity", **options))
    r = fit_panel_model(ru, PanelModelSpec(ru_formula, cluster="entity", **options))
    assert r.nobs == a.nobs and len(r.params) == len(a.params) > 0
    np.testing.assert_array_equal(r.params.to_numpy(), a.params.to_numpy())
    np.testing.assert_array_equal(r.std_errors.to_numpy(), a.std_errors.to_numpy())


def test_design_names_keep_the_quotes_and_parse_back(frames):
    _, ru = frames
    res = fit_panel_model(ru, PanelModelSpec('зарплата ~ Q("доля, %") + C(Q("тип города"))', estimator="pooled",
                                             effects=None))
    assert 'Q("доля, %")' in res.params.index
    assert 'C(Q("тип города"))[T.b]' in res.params.index
    for text in ('Q("доля, %")', 'log(Q("a b")):C(Q("тип города"))', "lag(численность, 2)", "Q('say \"x\"')"):
        assert term_names(text) == (text,)
        assert term_names(term_names(text)[0]) == term_names(text)


def test_separators_inside_quotes_do_not_split():
    f = parse_formula('Q("y~1") ~ Q("a+b") + Q("c|d"):x | town_id | Q("w|1") ~ Q("z~2")')
    assert f.variables == ("y~1", "a+b", "c|d", "x", "w|1", "z~2")
    assert f.absorb == ("town_id",)


@pytest.mark.parametrize("text, match", [
    ('y ~ Q("численность)', "quote \" at position 6 is not closed"),
    ("y ~ Q('численность) + x", "quote ' at position 6 is not closed"),
    ('y ~ x + численность"', "not closed"),
    ("y ~ Q(численность)", "Q\\(\\) quotes a column name"),
    ('y ~ Q("")', "empty"),
])
def test_parse_errors_of_quotes(text, match):
    with pytest.raises(FormulaError, match=match):
        parse_formula(text)


def test_missing_quoted_column_is_named(frames):
    _, ru = frames
    with pytest.raises(FormulaError, match="column 'численность, чел.' is not in the data"):
        fit_panel_model(ru, PanelModelSpec('зарплата ~ Q("численность, чел.")'))
    with pytest.raises(FormulaError, match=r"column 'тип города' is not numeric .*C\(Q\(\"тип города\"\)\)"):
        fit_panel_model(ru, PanelModelSpec('зарплата ~ Q("тип города")'))
