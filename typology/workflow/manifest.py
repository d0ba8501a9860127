"""The manifest of a run folder: its format, the files it lists with their sha256, and the
checks every command runs before it trusts a run folder.

``manifest.json`` records the resolved configuration, the sha256 of every input file, the
package versions, the seed and the sha256 of every output (``outputs``) and of the report's
files (``report``, rewritten by ``typology report``). :func:`verify_run` compares the files
with those hashes; :func:`load_bundle` checks the model file against its recorded sha256 before
anything in it is decoded (:mod:`typology.persist`). Both the run-folder writer
(:mod:`.runs`) and the report (:mod:`.report`) use this module, so neither imports the other's
internals.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..data.io import sha256_file
from ..folders import OWNER, FolderRefusedError, contents_problems

__all__ = ["BUNDLE", "FORMAT", "MANIFEST", "REPORT_FILES", "CheckFailed", "RunFolderError", "check_run_folder",
           "hash_tree", "is_report_file", "load_bundle", "load_manifest", "output_hashes", "report_hashes",
           "verify_run", "write_manifest"]

FORMAT = "nordtowns-run/1"


MANIFEST = "manifest.json"


BUNDLE = "model.nordtowns"


REPORT_FILES = ("report.md", "report.html")


class RunFolderError(ValueError):
    """A run folder that is incomplete, modified or not a run folder."""


class CheckFailed(RunFolderError):
    """A check of a run folder failed (modified files, a reproduction that differs)."""


def is_report_file(rel: str) -> bool:
    return rel in REPORT_FILES or rel.startswith("figures/")


def hash_tree(d: Path, keep) -> dict:
    """sha256 of the files under ``d`` whose relative path passes ``keep``, in path order."""
    out = {}
    for f in sorted(d.rglob("*")):
        rel = f.relative_to(d).as_posix()
        if f.is_file() and keep(rel):
            out[rel] = sha256_file(f)
    return out


def output_hashes(d: Path) -> dict:
    """The outputs the manifest checks: every file but the manifest and the report."""
    return hash_tree(d, lambda rel: rel not in (MANIFEST, OWNER) and not is_report_file(rel))


def report_hashes(d: Path) -> dict:
    """The report's files (rewritten by ``typology report``, so hashed apart)."""
    return hash_tree(d, is_report_file)


def write_manifest(d: Path, manifest: dict) -> None:
    (d / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=False, default=str) + "\n", encoding="utf-8")


def check_run_folder(d: Path) -> None:
    """Raise ``FolderRefusedError`` unless ``d`` is a run folder that ``fit --overwrite`` may
    replace: a manifest of this format, no file that the manifest does not list, no listed file
    changed since it was written."""
    how = ("--overwrite replaces only a run folder written by typology fit; move the files you want to keep, "
           "or choose another --out")
    if not (Path(d) / MANIFEST).is_file():
        raise FolderRefusedError(f"{d} is not replaced: it holds no {MANIFEST}, so it is not a run folder; {how}")
    try:
        m = load_manifest(d)
    except RunFolderError as exc:
        raise FolderRefusedError(f"{d} is not replaced: {exc}; {how}") from None
    listed: dict = {MANIFEST: None}
    for key in ("outputs", "report"):
        v = m.get(key, {})
        if not isinstance(v, dict) or not all(isinstance(h, str) for h in v.values()):
            raise FolderRefusedError(f"{d} is not replaced: the {key!r} of its {MANIFEST} is not a list of files and "
                                     f"their sha256; {how}")
        listed.update(v)
    problems = contents_problems(d, listed)
    if problems:
        raise FolderRefusedError(f"{d} is not replaced: " + "; ".join(problems) + f"; {how}")


def load_bundle(run, manifest: dict) -> dict:
    """The fitted objects of a run folder: its model file, checked against the sha256 the
    manifest records for it before anything in it is parsed (see :mod:`typology.persist`)."""
    from ..exceptions import ModelFileError
    from ..persist import load

    d = Path(run)
    recorded = manifest.get("outputs", {}).get(BUNDLE)
    if not isinstance(recorded, str):
        raise RunFolderError(f"{d / MANIFEST} records no sha256 for {BUNDLE}: the run folder was written by an "
                             f"older version (model files were pickles) or edited; refit the run")
    try:
        return load(d / BUNDLE, expected_type=dict, expected_sha256=recorded)
    except (ModelFileError, TypeError, FileNotFoundError) as exc:
        raise RunFolderError(str(exc)) from None


def load_manifest(run) -> dict:
    d = Path(run)
    f = d / MANIFEST
    if not d.is_dir():
        raise RunFolderError(f"{d}: no such run folder")
    if not f.is_file():
        raise RunFolderError(f"{d}: not a run folder (no {MANIFEST}); an interrupted run leaves only a hidden temporary folder")
    try:
        m = json.loads(f.read_text(encoding="utf-8"))
    except ValueError as exc:  # not JSON, or not UTF-8
        raise RunFolderError(f"{f}: not valid JSON ({exc})") from None
    if not isinstance(m, dict):
        raise RunFolderError(f"{f}: expected a JSON object with \"format\": {FORMAT!r}, found a {type(m).__name__}")
    if m.get("format") != FORMAT:
        raise RunFolderError(f"{f}: expected format {FORMAT!r}, found {m.get('format')!r}")
    return m


def verify_run(run) -> list[str]:
    """Differences between the run folder's files and the hashes in its manifest (empty = intact)."""
    d = Path(run)
    m = load_manifest(d)
    problems = []
    for rel, h in m["outputs"].items():
        f = d / rel
        if not f.is_file():
            problems.append(f"{rel}: missing")
        elif sha256_file(f) != h:
            problems.append(f"{rel}: modified (sha256 differs from the manifest)")
    return problems
