"""Fault injection on the command line: overwriting, concurrent runs, killed runs, a full disk,
bad arguments. Nothing may be deleted that the toolkit did not write, no killed run may look
finished, and every failure is one message (exit 1 or 2), never a traceback."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from typology.cli import main
from typology.data.io import write_dataset
from typology.workflow.runs import verify_run

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
[data]
path = "{data}"

[features]
groups = ["specialization", "diversification", "corporate", "agglomeration", "dynamics"]

[typology]
features = ["corp_share", "dist_core_km", "entropy", "largest_employer_share", "pop_growth"]
period = "last"
n_types = 3
n_boot = 5
random_state = 0

[[models]]
name = "wages"
formula = "log(avg_wage) ~ corp_share + core_control_share"
estimator = "within"
effects = "twoway"
cov_type = "clustered"
cluster = "entity"
"""


# ------------------------------------------------------------------------ helpers
def snapshot(d: Path) -> dict[str, bytes]:
    """Every file under ``d`` (hidden ones included) and its bytes."""
    out = {}
    for root, _, files in os.walk(d):
        for n in files:
            f = Path(root) / n
            out[f.relative_to(d).as_posix()] = f.read_bytes()
    return out


def cli(argv, capsys) -> tuple[int, str]:
    """Exit code and standard error of ``typology ARGV`` (argparse errors included)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def leftovers(parent: Path, name: str) -> list[str]:
    """Hidden entries beside ``parent/name`` that belong to it: temporaries, aside folders, locks."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([e["PYTHONPATH"]] if e.get("PYTHONPATH") else [])])
    return e


def spawn(*args, cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "typology.cli.app", *map(str, args)], cwd=cwd, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# ------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def space(tmp_path_factory, small_synthetic):
    """A dataset folder written by the toolkit, a config beside it, a finished run folder."""
    root = tmp_path_factory.mktemp("faults")
    write_dataset(small_synthetic.data, root / "ds", truth=small_synthetic.truth)
    (root / "config.toml").write_text(CONFIG.format(data="ds"))
    assert main(["fit", str(root / "config.toml"), "--out", str(root / "run"), "--quiet"]) == 0
    return root


@pytest.fixture
def work(space, tmp_path):
    """A private copy: dataset, config, run folder."""
    shutil.copytree(space / "ds", tmp_path / "ds")
    shutil.copytree(space / "run", tmp_path / "run")
    (tmp_path / "config.toml").write_text(CONFIG.format(data="ds"))
    return tmp_path


# ------------------------------------------------------------------------ B1: overwrite
def test_fit_overwrite_refuses_the_dataset_folder(work, capsys):
    before = snapshot(work / "ds")
    code, err = cli(["fit", work / "config.toml", "--out", work / "ds", "--overwrite", "--quiet"], capsys)
    assert code == 1
    assert "dataset folder" in err and "ds" in err and "Traceback" not in err
    assert snapshot(work / "ds") == before


@pytest.mark.parametrize("where", ["parent of data and config", "folder of the config"])
def test_fit_overwrite_refuses_a_folder_holding_the_inputs(work, capsys, where):
    if where == "folder of the config":  # the config in its own folder, the data given by absolute path
        (work / "conf").mkdir()
        cfg = work / "conf" / "c.toml"
        cfg.write_text(CONFIG.format(data=(work / "ds").as_posix()))
        out = work / "conf"
    else:
        cfg, out = work / "config.toml", work
    before = snapshot(work)
    code, err = cli(["fit", cfg, "--out", out, "--overwrite", "--quiet"], capsys)
    assert code == 1
    assert "contains the" in err and "never replaces its inputs" in err
    assert snapshot(work) == before


def test_fit_overwrite_refuses_a_folder_that_is_not_a_run_folder(work, capsys):
    user = work / "thesis"
    (user / "chapter1").mkdir(parents=True)
    (user / "notes.txt").write_text("three years of work")
    (user / "chapter1" / "draft.tex").write_text("\\section{Towns}")
    before = snapshot(user)
    code, err = cli(["fit", work / "config.toml", "--out", user, "--overwrite", "--quiet"], capsys)
    assert code == 1
    assert str(user) in err and "not a run folder" in err
    assert snapshot(user) == before
    assert leftovers(work, "thesis") == []


def test_fit_overwrite_refuses_a_run_folder_holding_other_files(work, capsys):
    run = work / "run"
    (run / "my_notes.md").write_text("interpretation of type 2")
    before = snapshot(run)
    code, err = cli(["fit", work / "config.toml", "--out", run, "--overwrite", "--quiet"], capsys)
    assert code == 1 and "my_notes.md" in err and "did not write" in err
    assert snapshot(run) == before
    # a file of the run changed by hand is not replaced either
    (run / "my_notes.md").unlink()
    t = pd.read_csv(run / "types.csv", dtype=str)
    t.loc[0, "type_name"] = "my own name"
    t.to_csv(run / "types.csv", index=False)
    before = snapshot(run)
    code, err = cli(["fit", work / "config.toml", "--out", run, "--overwrite", "--quiet"], capsys)
    assert code == 1 and "types.csv" in err and "changed" in err
    assert snapshot(run) == before


def test_fit_overwrite_replaces_a_run_folder(work, capsys):
    run = work / "run"
    old_manifest = (run / "manifest.json").read_bytes()
    time.sleep(1.1)  # created_utc has a resolution of one second
    code, err = cli(["fit", work / "config.toml", "--out", run, "--overwrite", "--quiet"], capsys)
    assert code == 0, err
    assert (run / "manifest.json").read_bytes() != old_manifest
    assert verify_run(run) == []
    assert leftovers(work, "run") == []


def test_a_file_is_never_replaced(work, capsys):
    f = work / "results.csv"
    f.write_text("a,b\n1,2\n")
    code, err = cli(["fit", work / "config.toml", "--out", f, "--overwrite", "--quiet"], capsys)
    assert code == 1 and "is a file" in err
    assert f.read_text() == "a,b\n1,2\n"


def test_synth_overwrite_replaces_only_a_dataset_it_wrote(work, capsys):
    small = ["synth", "--towns", 8, "--years", 5]
    # over a folder of user files
    user = work / "mydata"
    user.mkdir()
    (user / "towns.csv").write_text("town_id,name\n1,Kirovsk\n")
    (user / "readme.txt").write_text("collected by hand")
    before = snapshot(user)
    code, err = cli([*small, "--out", user, "--overwrite"], capsys)
    assert code == 1 and "not a dataset folder written by typology" in err
    assert snapshot(user) == before
    # over a dataset it wrote, to which the user added a file
    (work / "ds" / "my_weights.csv").write_text("town_id,w\n1,0.5\n")
    before = snapshot(work / "ds")
    code, err = cli([*small, "--out", work / "ds", "--overwrite"], capsys)
    assert code == 1 and "my_weights.csv" in err
    assert snapshot(work / "ds") == before
    # over a dataset it wrote, whose table the user edited
    (work / "ds" / "my_weights.csv").unlink()
    with open(work / "ds" / "outcomes.csv", "a") as fh:
        fh.write("\n")
    before = snapshot(work / "ds")
    code, err = cli([*small, "--out", work / "ds", "--overwrite"], capsys)
    assert code == 1 and "outcomes.csv" in err and "changed" in err
    assert snapshot(work / "ds") == before
    # without --overwrite the message says how
    fresh = work / "fresh"
    assert cli([*small, "--out", fresh], capsys)[0] == 0
    code, err = cli([*small, "--out", fresh], capsys)
    assert code == 1 and "--overwrite" in err
    # over a dataset it wrote, untouched: replaced
    code, err = cli([*small, "--seed", 1, "--out", fresh, "--overwrite"], capsys)
    assert code == 0, err
    assert json.loads((fresh / "truth.json").read_text())["params"]["seed"] == 1
    assert leftovers(work, "fresh") == []


def test_demo_data_refuses_a_folder_of_user_files(work, capsys):
    user = work / "northern"
    user.mkdir()
    (user / "survey.csv").write_text("town_id,answer\n1,yes\n")
    before = snapshot(user)
    code, err = cli(["demo", "--data", user, "--out", work / "demo_run", "--quiet"], capsys)
    assert code == 1 and "not a dataset folder written by typology" in err
    assert snapshot(user) == before
    assert not (work / "demo_run").exists()


def test_demo_out_refuses_a_folder_of_user_files(work, capsys, monkeypatch):
    import typology.data.synth as synth

    small = synth.generate(n_towns=8, n_years=5, seed=0)
    monkeypatch.setattr(synth, "generate", lambda: small)  # keep the demo small: the folder rules are the point
    user = work / "mine"
    user.mkdir()
    (user / "paper.tex").write_text("x")
    before = snapshot(user)
    code, err = cli(["demo", "--data", work / "d2", "--out", user, "--quiet"], capsys)
    assert code == 1 and "not a run folder" in err
    assert snapshot(user) == before


# ------------------------------------------------------------------------ B2: concurrent writers
@pytest.mark.slow
def test_concurrent_fits_to_the_same_folder(work):
    procs = [spawn("fit", "config.toml", "--out", "shared", "--quiet", cwd=work) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(c for c, _ in results)
    assert codes == [0, 1], results
    err = next(e for c, e in results if c == 1)
    # the loser names the holder, or says that it has not written its name yet (both start at once)
    assert ("being written by" in err or "exists" in err) and "Traceback" not in err
    assert verify_run(work / "shared") == []
    assert leftovers(work, "shared") == []


@pytest.mark.slow
def test_second_fit_is_refused_while_the_first_writes(work, capsys):
    first = spawn("fit", "config.toml", "--out", "shared", "--overwrite", "--quiet", cwd=work)
    deadline = time.monotonic() + 300
    while not list(work.glob(".shared.*.tmp")) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert first.poll() is None, first.stderr.read()
    code, err = cli(["fit", work / "config.toml", "--out", work / "shared", "--overwrite", "--quiet"], capsys)
    c1, e1 = first.wait(timeout=300), first.stderr.read()
    assert c1 == 0, e1
    assert code == 1, err
    assert f"being written by process {first.pid} " in err and "fit config.toml --out shared" in err
    assert verify_run(work / "shared") == []
    assert leftovers(work, "shared") == []


def test_a_destination_created_during_the_run_is_not_replaced(work, capsys, monkeypatch):
    import typology.workflow.runs as runs

    real = runs.run_pipeline

    def meanwhile(*a, **k):  # another program (not holding the lock) creates the folder meanwhile
        (work / "new").mkdir()
        (work / "new" / "theirs.txt").write_text("theirs")
        return real(*a, **k)

    monkeypatch.setattr(runs, "run_pipeline", meanwhile)
    code, err = cli(["fit", work / "config.toml", "--out", work / "new", "--quiet"], capsys)
    assert code == 1 and "created or changed by another process" in err
    assert snapshot(work / "new") == {"theirs.txt": b"theirs"}
    assert leftovers(work, "new") == []


def test_a_run_folder_changed_during_the_run_is_not_replaced(work, capsys, monkeypatch):
    import typology.workflow.runs as runs

    real = runs.run_pipeline

    def meanwhile(*a, **k):
        (work / "run" / "added.txt").write_text("added while the run was going")
        return real(*a, **k)

    monkeypatch.setattr(runs, "run_pipeline", meanwhile)
    code, err = cli(["fit", work / "config.toml", "--out", work / "run", "--overwrite", "--quiet"], capsys)
    assert code == 1 and "changed by another process" in err
    assert (work / "run" / "added.txt").is_file()
    assert leftovers(work, "run") == []


def test_report_is_refused_while_the_run_folder_is_locked(work, capsys):
    from typology import folders

    with folders.folder_lock(work / "run"):
        code, err = cli(["report", work / "run", "--quiet"], capsys)
    assert code == 1 and f"being written by process {os.getpid()}" in err
    assert not (work / ".run.lock").exists()


def test_lock_without_fcntl(tmp_path, monkeypatch):
    from typology import folders

    monkeypatch.setattr(folders, "fcntl", None)
    dest = tmp_path / "out"
    with folders.folder_lock(dest) as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        with pytest.raises(folders.FolderLockedError, match=str(os.getpid())):
            with folders.folder_lock(dest):
                pass
    assert not lock.exists()
    # a lock file of a process of this host that has ended is taken over, with a note
    lock.write_text(json.dumps({"pid": dead_pid(), "host": socket.gethostname(), "proc_start": None}))
    notes = []
    with folders.folder_lock(dest, notes.append):
        pass
    assert notes and "no longer runs" in notes[0]
    # one of another host is not
    lock.write_text(json.dumps({"pid": dead_pid(), "host": "elsewhere", "proc_start": None}))
    with pytest.raises(folders.FolderLockedError, match="elsewhere"):
        with folders.folder_lock(dest):
            pass


# ------------------------------------------------------------------------ B3: killed runs
@pytest.mark.slow
def test_killed_fit_then_a_new_fit(work, capsys):
    proc = spawn("fit", "config.toml", "--out", "k", "--quiet", cwd=work)
    deadline = time.monotonic() + 120
    tmp = []
    while time.monotonic() < deadline and proc.poll() is None:  # kill it while it writes the tables
        tmp = [p for p in work.glob(".k.*.tmp") if (p / "features.parquet").is_file()]
        if tmp:
            break
        time.sleep(0.005)
    assert tmp, f"the fit ended before it could be killed: {proc.stderr.read() if proc.poll() is not None else ''}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # nothing looks finished: no run folder, no manifest anywhere
    assert not (work / "k").exists()
    assert not [p for p in work.rglob("manifest.json") if "run" not in p.relative_to(work).parts]
    assert [p.name for p in work.glob(".k.*.tmp")] == [tmp[0].name]
    code, err = cli(["fit", work / "config.toml", "--out", work / "k", "--quiet"], capsys)
    assert code == 0, err
    assert f"removed {tmp[0]}" in err and "took over the lock" in err
    assert leftovers(work, "k") == []
    assert verify_run(work / "k") == []


def _fake_temporary(parent: Path, dest: str, suffix: str, owner: dict | None) -> Path:
    d = parent / f".{dest}.abc{len(list(parent.iterdir()))}xyz.{suffix}"
    d.mkdir()
    (d / "features.parquet").write_bytes(b"partial")
    if owner is not None:
        (d / ".nordtowns-writer.json").write_text(json.dumps({"dest": dest, "host": socket.gethostname(), "proc_start": None, **owner}))
    return d


def test_stale_cleanup_touches_only_temporaries_of_ended_processes(work, capsys):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _fake_temporary(work, "k", "tmp", {"pid": dead_pid()})
        alive = _fake_temporary(work, "k", "tmp", {"pid": live.pid})
        no_owner = _fake_temporary(work, "k", "tmp", None)
        other_host = _fake_temporary(work, "k", "tmp", {"pid": dead_pid(), "host": "elsewhere"})
        other_dest = _fake_temporary(work, "k", "tmp", {"pid": dead_pid(), "dest": "kk"})
        lookalike = work / ".k.notes.txt"
        lookalike.write_text("mine")
        code, err = cli(["fit", work / "config.toml", "--out", work / "k", "--quiet"], capsys)
        assert code == 0, err
        assert not dead.exists() and f"removed {dead}" in err
        for d in (alive, no_owner, other_host, other_dest):
            assert d.is_dir() and (d / "features.parquet").read_bytes() == b"partial"
            assert d.name in err  # named as left alone
        assert lookalike.read_text() == "mine"
    finally:
        live.kill()
        live.wait()


def test_an_interrupted_replacement_is_put_back(work):
    """Killed between moving the old folder aside and moving the new one in: the old folder
    comes back; killed after: the aside folder is removed."""
    from typology import folders

    before = snapshot(work / "run")
    aside = _fake_temporary(work, "run", "old", {"pid": dead_pid()})
    (aside / "features.parquet").unlink()
    os.rename(work / "run", aside / "replaced")
    notes = []
    with folders.folder_lock(work / "run"):
        folders.clean_stale(work / "run", notes.append)
    assert snapshot(work / "run") == before
    assert not aside.exists() and "put" in notes[0] and "back in place" in notes[0]
    # the aside folder of an earlier version (.NAME.old-PID), with the new folder in place
    legacy = work / f".run.old-{dead_pid()}"
    shutil.copytree(work / "run", legacy)
    with folders.folder_lock(work / "run"):
        folders.clean_stale(work / "run", notes.append)
    assert not legacy.exists() and snapshot(work / "run") == before


# ------------------------------------------------------------------------ B6: a full disk
def _no_space(*a, **k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_during_fit(work, capsys, monkeypatch):
    import typology.workflow.runs as runs

    monkeypatch.setattr(runs, "write_manifest", _no_space)
    code, err = cli(["fit", work / "config.toml", "--out", work / "full", "--quiet"], capsys)
    assert code == 1
    assert str(work / "full") in err and "No space left on device" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (work / "full").exists() and leftovers(work, "full") == []
    # the same over an existing run folder: it stays as it was
    before = snapshot(work / "run")
    code, err = cli(["fit", work / "config.toml", "--out", work / "run", "--overwrite", "--quiet"], capsys)
    assert code == 1 and "unchanged" in err
    assert snapshot(work / "run") == before and leftovers(work, "run") == []


def test_full_disk_during_synth(tmp_path, capsys, monkeypatch):
    real = pd.DataFrame.to_csv
    calls = []

    def fills_up(self, *a, **k):
        calls.append(1)
        if len(calls) == 3:
            _no_space()
        return real(self, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", fills_up)
    code, err = cli(["synth", "--towns", 8, "--years", 5, "--out", tmp_path / "ds"], capsys)
    assert code == 1
    assert str(tmp_path / "ds") in err and "No space left on device" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_other_os_errors_are_one_line_and_bugs_still_raise(capsys, monkeypatch):
    import typology.cli.app as cli_mod

    def denied(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/data/towns.csv")

    monkeypatch.setattr(cli_mod, "cmd_validate", denied)
    code, err = cli(["validate", "somewhere"], capsys)
    assert code == 1 and err.strip() == "typology: /data/towns.csv: Permission denied"

    def bug(args):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(cli_mod, "cmd_validate", bug)
    with pytest.raises(TypeError):
        main(["validate", "somewhere"])


# ------------------------------------------------------------------------ B6: synth arguments
@pytest.mark.parametrize("args, named", [
    (["--years", "4"], "--years"),
    (["--towns", "0"], "--towns"),
    (["--towns", "7"], "--towns"),
    (["--seed", "-1"], "--seed"),
    (["--towns", "ten"], "--towns"),
    (["--start-year", "2099"], "2100"),
    (["--start-year", "0"], "1800"),
])
def test_synth_argument_errors(tmp_path, capsys, args, named):
    code, err = cli(["synth", *args, "--out", tmp_path / "ds"], capsys)
    assert code == 2
    assert named in err and "Traceback" not in err
    assert not (tmp_path / "ds").exists()


def test_the_generator_supports_its_smallest_arguments(tmp_path, capsys):
    """The smallest sizes that the CLI accepts give a valid dataset."""
    code, err = cli(["synth", "--towns", 8, "--years", 5, "--start-year", 2096, "--out", tmp_path / "ds"], capsys)
    assert code == 0, err
    assert cli(["validate", tmp_path / "ds"], capsys)[0] == 0


# ------------------------------------------------------------------------ B8: messages, progress
def test_reproduce_prints_plain_numbers(work, capsys):
    c = pd.read_csv(work / "run" / "coefficients.csv")
    c.loc[0, "estimate"] = 0.5
    c.to_csv(work / "run" / "coefficients.csv", index=False)
    code, err = cli(["reproduce", work / "run", "--quiet"], capsys)
    assert code == 1
    line = next(x for x in err.splitlines() if "coefficients: column 'estimate'" in x)
    assert "np." not in err and ": 0.5 vs " in line
    assert "('wages', " in line


def test_validate_synth_and_report_print_progress(work, capsys):
    code, err = cli(["validate", work / "ds"], capsys)
    assert code == 0
    assert "read towns.csv" in err and "read employment.csv" in err and "validated" in err
    code, err = cli(["validate", work / "ds", "--quiet"], capsys)
    assert code == 0 and err == ""
    code, err = cli(["synth", "--towns", 8, "--years", 5, "--out", work / "s"], capsys)
    assert code == 0 and "generate 8 towns" in err and "wrote employment.csv" in err
    code, err = cli(["report", work / "run"], capsys)
    assert code == 0 and "write the report" in err and "done in" in err
    code, err = cli(["report", work / "run", "--quiet"], capsys)
    assert code == 0 and err == ""


def test_score_never_writes_over_inputs_or_into_the_run(work, capsys):
    data = work / "ds"
    before = snapshot(data)
    for out, says in ((data / "towns.csv", "table of the dataset"), (work / "run" / "scores.csv", "run folder")):
        code, err = cli(["score", work / "run", "--data", data, "--out", out, "--overwrite", "--quiet"], capsys)
        assert code == 1 and says in err
    assert snapshot(data) == before and verify_run(work / "run") == []
    out = work / "scores.csv"
    out.write_text("earlier scores")
    code, err = cli(["score", work / "run", "--data", data, "--out", out, "--quiet"], capsys)
    assert code == 1 and "--overwrite" in err and out.read_text() == "earlier scores"
    code, err = cli(["score", work / "run", "--data", data, "--out", out, "--overwrite", "--quiet"], capsys)
    assert code == 0, err
    assert "type" in pd.read_csv(out).columns and leftovers(work, "scores.csv") == []
