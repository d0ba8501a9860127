"""``[[models]]`` formulas over Russian column names: ``Q("...")`` and Cyrillic identifiers pass the
configuration's check against the data and are fitted as the same model over ASCII names."""

from __future__ import annotations

import numpy as np
import pytest

from typology.workflow.config import ConfigError, parse_config
from typology.workflow.pipeline import _models_stage, check_config_against_data
from typology.workflow.progress import Progress

RU = {"avg_wage": "средняя зарплата", "population": "численность"}


def _config(formula: str):
    return parse_config({"data": {"path": "ds"}, "models": [{"name": "m", "formula": formula, "estimator": "within",
                                                            "effects": "entity"}]})


@pytest.fixture(scope="module")
def russian(small_synthetic):
    data = small_synthetic.data
    return data, data.replace(outcomes=data.outcomes.rename(columns=RU))


def test_quoted_names_pass_the_check_and_fit(russian):
    data, ru = russian
    cfg = _config('log(Q("средняя зарплата")) ~ log(численность)')
    check_config_against_data(cfg, ru)
    frames = [d.outcomes.set_index(["town_id", "year"]) for d in (data, ru)]
    ascii_cfg = _config("log(avg_wage) ~ log(population)")
    fits = [_models_stage(c, f, [], Progress(quiet=True))[0]["m"] for c, f in zip((ascii_cfg, cfg), frames, strict=True)]
    assert list(fits[1].params.index)[-1] == "log(численность)"
    np.testing.assert_array_equal(fits[1].params.to_numpy(), fits[0].params.to_numpy())
    np.testing.assert_array_equal(fits[1].std_errors.to_numpy(), fits[0].std_errors.to_numpy())


def test_an_absent_quoted_column_is_named(russian):
    _, ru = russian
    with pytest.raises(ConfigError, match="'зарплата, руб.' is neither a feature nor a column"):
        check_config_against_data(_config('log(Q("зарплата, руб.")) ~ log(численность)'), ru)


def test_an_unclosed_quote_is_a_config_error():
    with pytest.raises(ConfigError, match="not closed"):
        _config('log(Q("средняя зарплата)) ~ x')
