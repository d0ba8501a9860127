"""Property-based test of configuration files (hypothesis).

A valid configuration is mutated (wrong types, out-of-range and huge values, strings for
numbers and numbers for strings, empty lists, unknown keys and sections, missing keys, model
tables of every kind, TOML syntax errors) and ``typology fit`` is run in-process with the run
replaced by a cheap stub after every check that comes before computing (the configuration
alone, then against the dataset). The property: exit code 0 or 1, never an exception; exit 1
gives one message naming the configuration file and the mutated key (or section).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from typology.cli import main
from typology.data.io import read_dataset, write_dataset
from typology.workflow.config import valid_keys

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GROUPS = ["specialization", "diversification", "corporate", "agglomeration", "town_village", "network", "dynamics"]


def base() -> dict:
    return {
        "data": {"path": "ds"},
        "features": {"groups": list(GROUPS), "core_population": 250000, "mp_beta": 1.0, "mp_decay": "power"},
        "typology": {"features": ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"],
                     "period": "last", "sample": "towns", "n_types": "auto", "random_state": 0, "n_boot": 10},
        "models": [
            {"name": "wages", "formula": "log(avg_wage) ~ corp_share + core_control_share", "estimator": "within",
             "effects": "twoway", "cov_type": "clustered", "cluster": "entity"},
            {"name": "stagnation", "kind": "logit", "formula": "status ~ corp_share + dist_core_km",
             "outcome_level": "stagnating"},
        ],
        "report": {"title": "fuzz"},
        "compute": {"n_jobs": 1},
    }


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_dumps(cfg: dict) -> str:
    """A configuration dict as TOML: top-level values first, then the tables, then [[models]]."""
    out = []
    models = cfg.get("models", [])
    tables = isinstance(models, list) and all(isinstance(m, dict) for m in models)
    for section, body in cfg.items():
        if (section == "models" and not tables) or (section != "models" and not isinstance(body, dict)):
            out.append(f"{json.dumps(section)} = {toml_value(body)}")
    for section, body in cfg.items():
        if section != "models" and isinstance(body, dict):
            out.append(f"[{json.dumps(section)}]")
            out += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in body.items()]
            out.append("")
    if tables:
        for m in models:
            out.append("[[models]]")
            out += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in m.items()]
            out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------ values and mutations
text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=10)
words = st.sampled_from(["auto", "last", "none", "towns", "all", "kmeans", "gmm", "power", "exponential", "",
                         "logit", "probit", "mnlogit", "linear", "stagnating", "entity", "region", "within",
                         "wild_bootstrap", "corp_share", "status ~ corp_share", "y ~", "C(", "1e3"])
scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, 1, 2, 3, -1, 7, 2010, 2015, 10**9, 2**63 - 1]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 0.5, 1.0, 1e-300, 1e308]),
    st.booleans(), text, words,
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.just([]),
                   st.dictionaries(st.sampled_from(["corp_share", "entropy", "x"]), scalars, max_size=2))
unknown_key = st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True)


KEYS = valid_keys()
OLD_NAMES = {s: [k.split(".")[1] for k in KEYS["old_names"] if k.startswith(f"{s}.")] for s in ("typology",)}


@st.composite
def mutated(draw):
    """(configuration dict, the key or section the message must name when it is refused)."""
    cfg = base()
    kind = draw(st.sampled_from(["set", "set", "set", "model", "model", "delete", "section", "models_value"]))
    if kind == "set":
        section = draw(st.sampled_from(["features", "typology", "report", "compute"]))
        key = draw(st.one_of(st.sampled_from(KEYS[section] + OLD_NAMES.get(section, [])), unknown_key))
        cfg[section][key] = draw(values)
        return cfg, key
    if kind == "model":
        i = draw(st.integers(0, 1))
        pool = KEYS["models.linear"] + KEYS["models.discrete"]
        key = draw(st.one_of(st.sampled_from(pool), unknown_key))
        cfg["models"][i][key] = draw(values)
        return cfg, key
    if kind == "delete":
        section = draw(st.sampled_from(["data", "features", "typology", "report", "compute"]))
        key = draw(st.sampled_from(sorted(cfg[section])))
        del cfg[section][key]
        return cfg, key
    if kind == "section":
        name = draw(st.one_of(st.sampled_from(["data", "features", "typology", "report", "compute"]), unknown_key))
        if name in cfg and draw(st.booleans()):
            del cfg[name]
        else:
            cfg[name] = draw(st.one_of(values, st.just({"x": 1})))
        return cfg, name
    cfg["models"] = draw(st.one_of(values, st.lists(st.just({"name": "m", "formula": "y ~ x"}), min_size=0,
                                                    max_size=2)))
    return cfg, "models"


# ------------------------------------------------------------------ the stubbed run
@pytest.fixture(scope="module")
def workspace(tmp_path_factory, small_synthetic):
    root = tmp_path_factory.mktemp("fuzzcfg")
    write_dataset(small_synthetic.data, root / "ds")
    return root


@functools.cache
def _read(path: str):
    return read_dataset(path)


def _stub_fit_run(cfg, out, overwrite=False, quiet=False, lang=None):
    """Everything ``typology fit`` checks before computing: the dataset read, then the
    configuration checked against it (``run_pipeline``'s first step)."""
    from typology.workflow.pipeline import check_config_against_data

    check_config_against_data(cfg, _read(str(cfg.data_path)))
    return Path(out)


def _run(root: Path, text: str) -> tuple[int, str, Path]:
    f = root / "fuzz.toml"
    f.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        mp.setattr("typology.workflow.runs.fit_run", _stub_fit_run)
        rc = main(["fit", str(f), "--out", str(root / "run"), "--quiet"])
    return rc, err.getvalue(), f


def test_the_base_configuration_passes(workspace):
    rc, err, _ = _run(workspace, toml_dumps(base()))
    assert rc == 0, err


@SETTINGS
@given(mutated())
def test_mutated_configuration_exits_0_or_1_naming_file_and_key(workspace, case):
    cfg, key = case
    rc, err, f = _run(workspace, toml_dumps(cfg))
    assert rc in (0, 1)
    if rc == 1:
        assert err.startswith("typology: ") and err.count("\n") == 1, err
        assert str(f) in err, err
        assert key in err, (key, err)


@SETTINGS
@given(st.data())
def test_toml_syntax_errors_exit_1_naming_the_file(workspace, data):
    text = toml_dumps(base())
    pos = data.draw(st.integers(0, len(text) - 1))
    op = data.draw(st.sampled_from(["delete", "insert", "truncate"]))
    if op == "delete":
        text = text[:pos] + text[pos + 1:]
    elif op == "insert":
        text = text[:pos] + data.draw(st.sampled_from(list('[]="{},\n#\\') + ["[[", "=="])) + text[pos:]
    else:
        text = text[:pos]
    rc, err, f = _run(workspace, text)
    assert rc in (0, 1)
    if rc == 1:
        assert str(f) in err and err.count("\n") == 1, err
