"""A run folder written before the typed configuration still reproduces.

``data/legacy_run/manifest.json`` is the manifest of a run folder written by the code before
the configuration became a tree of dataclasses (commit 7e42be7), with

    python -c "from typology.data.synth import generate; from typology.data.io import write_dataset; \
               write_dataset(generate(n_towns=40, n_years=6, seed=3, world=1).data, 'ds')"
    typology fit config.toml --out run        # data/legacy_run/config.toml

Its configuration uses the old names ``[typology] transform`` (now ``feature_transform``) and
``[typology] n_jobs`` (now ``[compute] n_jobs``). The compatibility rule: the resolved form a
manifest records is read by ``parse_config`` with every old name it accepts, and a manifest
this version cannot read is refused with a message naming the key and both versions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from typology.cli import main
from typology.data.io import write_dataset
from typology.workflow.manifest import RunFolderError, load_manifest, write_manifest
from typology.workflow.runs import fit_run, input_hashes, manifest_config, reproduce_run

LEGACY = Path(__file__).with_name("data") / "legacy_run"
# the outputs compared with the legacy manifest's sha256: all but the model file (it holds the
# resolved configuration, now written with the new names) and the configuration file (a rebuilt
# run has none), and the table of the evidence for k: it changed on purpose after the legacy run
# (bootstrap samples clustered as unique rows with multiplicities, a silhouette_se column;
# docs/typology.md, "At scale"); its decisions are in the summary, compared below
SKIP = ("model.nordtowns", "config.toml", "selection.csv")
PACKAGES = ("numpy", "pandas", "scipy", "scikit-learn", "statsmodels", "linearmodels", "pyarrow")


@pytest.fixture(scope="module")
def legacy():
    return json.loads((LEGACY / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, small_synthetic):
    d = tmp_path_factory.mktemp("legacy") / "ds"
    write_dataset(small_synthetic.data, d)
    return d


def test_old_names_are_read_into_the_new_tree(legacy, tmp_path):
    cfg = manifest_config(legacy, tmp_path, where="manifest.json")
    old = legacy["config"]
    assert dict(cfg.typology.params["feature_transform"]) == old["typology"]["transform"]
    assert cfg.compute.n_jobs == old["typology"]["n_jobs"] == 1
    new = cfg.to_dict()
    assert "transform" not in new["typology"] and "n_jobs" not in new["typology"]
    # every other value is the one the old manifest records
    renamed = {**old["typology"], "feature_transform": old["typology"]["transform"]}
    del renamed["transform"], renamed["n_jobs"]
    assert new["typology"] == renamed
    assert new["features"] == old["features"] and new["models"] == old["models"] and new["report"] == old["report"]


def test_the_legacy_run_is_fitted_again_to_the_same_bytes(legacy, dataset, tmp_path):
    """Same input files, and every table of the run folder with the sha256 the old manifest records."""
    assert {k: v["sha256"] for k, v in input_hashes(dataset).items()} == \
        {k: v["sha256"] for k, v in legacy["data"]["files"].items()}
    differ = {p: (legacy["packages"].get(p), v) for p, v in _versions().items() if legacy["packages"].get(p) != v}
    if differ:
        pytest.skip(f"the legacy run was written with other package versions: {differ}")
    run = fit_run(manifest_config(legacy, dataset, where="manifest.json"), tmp_path / "run", quiet=True)
    now = load_manifest(run)["outputs"]
    want = {k: v for k, v in legacy["outputs"].items() if k not in SKIP}
    assert {k: now.get(k) for k in want} == want
    assert load_manifest(run)["summary"] == legacy["summary"]


def test_reproduce_reads_a_manifest_with_the_old_names(legacy, dataset, tmp_path, capsys):
    """A run folder whose manifest holds the old configuration reproduces identically."""
    run = fit_run(manifest_config(legacy, dataset, where="manifest.json"), tmp_path / "run", quiet=True)
    m = load_manifest(run)
    m["config"] = {**legacy["config"], "data": {"path": str(dataset)}}
    write_manifest(run, m)
    assert reproduce_run(run, quiet=True) == []
    assert main(["reproduce", str(run), "--quiet"]) == 0


def test_a_manifest_this_version_cannot_read_says_why(legacy, dataset, tmp_path, capsys):
    run = fit_run(manifest_config(legacy, dataset, where="manifest.json"), tmp_path / "run", quiet=True)
    m = load_manifest(run)
    m["config"]["typology"]["n_clusters"] = 3  # a key no version of this package knows
    m["packages"]["nordtowns"] = "9.9"
    write_manifest(run, m)
    with pytest.raises(RunFolderError, match=r"cannot be used by nordtowns .* written by nordtowns 9\.9.*n_clusters"):
        reproduce_run(run, quiet=True)
    assert main(["reproduce", str(run), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "n_clusters" in err and "cannot be reproduced" in err, err


def _versions() -> dict:
    from importlib import metadata

    return {p: metadata.version(p) for p in PACKAGES}
