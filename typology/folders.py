"""Output folders written safely: locks, overwrite rules, atomic replacement, stale temporaries.

Every folder the toolkit writes (a run folder, a dataset folder) goes through
:func:`output_folder`:

1. **Lock.** An exclusive lock on the file ``.NAME.lock`` beside the destination ``NAME``
   (``fcntl.flock``: the kernel releases it when its process ends, however it ends). The file
   holds the holder's pid, host, start time and command; a second writer of the same
   destination is refused with a message naming them. A lock file left by a killed process is
   taken over with a note. Without ``fcntl`` (Windows) the file is created with
   ``O_CREAT | O_EXCL`` and a lock of a process that no longer runs is not taken over
   automatically (the message says which file to delete).
2. **Stale temporaries.** With the lock held, what killed writers of the same destination left
   behind is removed: hidden folders ``.NAME.<random>.tmp`` and ``.NAME.<random>.old`` that
   hold this module's owner file (:data:`OWNER`) naming a process of this host that no longer
   runs (a pid that was reused is told apart by its start time, read from ``/proc``). A folder
   moved aside by a replacement that was killed before the new folder was in place is put back
   instead. Anything else that looks like a temporary folder (no owner file, another host) is
   left alone and named in a note.
3. **Overwrite rules.** A missing destination or an empty folder is written. An existing
   folder is replaced only with ``overwrite=True`` and only when the caller's ``check``
   accepts it: a run folder with a valid manifest, a dataset folder marked by the toolkit,
   holding no file they do not list and no listed file changed since. A file, a symbolic link
   or any other folder is refused, naming the folder and the reason.
4. **Atomic replacement.** The new folder is written into ``.NAME.<random>.tmp`` and renamed
   into place at the end. Just before, the destination is checked to be still the one that
   was checked at the start (same folder, same marker, accepted again); a replaced folder is
   moved aside first and removed only after the new one is in place.
5. **Failures.** Any exception (a full disk included) removes the temporary folder and leaves
   the destination as it was; an ``OSError`` of the file system becomes
   :class:`FolderWriteError`, naming the folder.
"""

from __future__ import annotations

import datetime as _dt
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = [
    "FolderChangedError",
    "FolderExistsError",
    "FolderLockedError",
    "FolderRefusedError",
    "FolderWriteError",
    "OutputFolderError",
    "contents_problems",
    "files_under",
    "folder_lock",
    "output_folder",
    "refuse_inputs",
    "write_file_atomic",
]

OWNER = ".nordtowns-writer.json"
HOST = socket.gethostname()
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


class OutputFolderError(OSError):
    """An output folder that cannot be written safely (exit 1 on the command line)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FolderExistsError(OutputFolderError, FileExistsError):
    """The destination exists and overwriting was not asked for."""


class FolderRefusedError(OutputFolderError, FileExistsError):
    """The destination exists and is not a folder that this toolkit may replace."""


class FolderLockedError(OutputFolderError):
    """Another process is writing the same destination."""


class FolderChangedError(OutputFolderError):
    """The destination changed while the new folder was being written."""


class FolderWriteError(OutputFolderError):
    """Writing failed (a full disk, no permission); nothing was left half-written."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------ processes
def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) of a process, from ``/proc`` (Linux)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2:].split()  # the command name may hold spaces and parentheses
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _program() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return "typology" if name in ("cli.py", "__main__.py") else name


def _owner() -> dict:
    st = _proc_stat(os.getpid())
    return {"pid": os.getpid(), "host": HOST, "proc_start": st[1] if st else None,
            "since_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join([_program(), *sys.argv[1:]])[:300]}


def _alive(pid, proc_start=None) -> bool:
    """Whether process ``pid`` of this host still runs (True when it cannot be told)."""
    if not isinstance(pid, int) or pid <= 0:
        return True
    if pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass  # exists, owned by another user
    st = _proc_stat(pid)
    if st is not None:
        state, start = st
        if state in ("Z", "X"):  # ended, not yet reaped by its parent
            return False
        if proc_start is not None and start != proc_start:  # the pid was reused
            return False
    return True


def _describe(owner: dict | None) -> str:
    if not owner:
        return "another process (it has not written its name yet)"
    return (f"process {owner.get('pid')} on host {owner.get('host')}, running "
            f"{owner.get('command') or 'typology'!r} since {owner.get('since_utc')}")


def _read_json(path: Path) -> dict | None:
    try:
        v = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return v if isinstance(v, dict) else None


# ------------------------------------------------------------------------ lock
def _lock_path(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.lock")


def _read_fd(fd: int) -> dict | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 1 << 16)
        v = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (OSError, ValueError):
        return None
    return v if isinstance(v, dict) else None


def _write_fd(fd: int, info: dict) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (json.dumps(info) + "\n").encode("utf-8"))


def _locked(dest: Path, path: Path, holder: dict | None, hint: str = "") -> FolderLockedError:
    return FolderLockedError(f"{dest} is being written by {_describe(holder)}; wait until it has finished, "
                             f"or choose another folder (lock file {path}){hint}")


def _acquire_flock(dest: Path, path: Path) -> tuple[int, dict | None]:
    for _ in range(100):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_fd(fd)
            os.close(fd)
            raise _locked(dest, path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        try:  # the file may have been released and deleted between open and flock: then retry
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        previous = _read_fd(fd)  # left by a holder that ended without releasing (killed)
        return _claim(path, fd), previous
    raise _locked(dest, path, None)


def _acquire_exclusive(dest: Path, path: Path) -> tuple[int, dict | None]:
    previous = None
    for _ in range(2):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _read_json(path)
            if holder and holder.get("host") == HOST and not _alive(holder.get("pid"), holder.get("proc_start")):
                previous = holder
                path.unlink(missing_ok=True)
                continue
            raise _locked(dest, path, holder, hint="; if that process no longer runs, delete the lock file") from None
        return _claim(path, fd), previous
    raise _locked(dest, path, None)


def _claim(path: Path, fd: int) -> int:
    """Write this process as the owner into the lock file ``fd`` (released again if that fails)."""
    try:
        _write_fd(fd, _owner())
    except BaseException:
        _release(path, fd)
        raise
    return fd


def _release(path: Path, fd: int) -> None:
    try:
        if os.path.samestat(os.fstat(fd), os.stat(path)):
            os.unlink(path)  # deleted while still held: a waiting process re-opens the path
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def folder_lock(dest, note: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold the exclusive lock of the output folder ``dest`` (the file ``.NAME.lock`` beside it).

    Raises :class:`FolderLockedError`, naming the process that holds it, when another process
    writes the same folder. Yields the lock file's path.
    """
    dest = Path(os.path.abspath(dest))
    path = _lock_path(dest)
    fd, previous = (_acquire_flock if fcntl is not None else _acquire_exclusive)(dest, path)
    try:
        if previous and note:
            note(f"took over the lock of {dest} left by {_describe(previous)}, which no longer runs")
        yield path
    finally:
        _release(path, fd)


# ------------------------------------------------------------------------ stale temporaries
def _stale_patterns(name: str) -> re.Pattern:
    return re.compile(rf"\.{re.escape(name)}\.[A-Za-z0-9_]{{6,}}\.(tmp|old)")


def _legacy_old(name: str) -> re.Pattern:
    """Folders moved aside by earlier versions: ``.NAME.old-<pid>``."""
    return re.compile(rf"\.{re.escape(name)}\.old-(\d+)")


def clean_stale(dest: Path, note: Callable[[str], None]) -> None:
    """Remove what killed writers of ``dest`` left beside it; call with :func:`folder_lock` held."""
    dest = Path(os.path.abspath(dest))
    pat, legacy = _stale_patterns(dest.name), _legacy_old(dest.name)
    left = []
    try:
        entries = sorted(dest.parent.iterdir())
    except OSError:
        return
    for p in entries:
        m, lm = pat.fullmatch(p.name), legacy.fullmatch(p.name)
        if not (m or lm) or p.is_symlink() or not p.is_dir():
            continue
        if m:
            owner = _read_json(p / OWNER)
            if not owner or owner.get("dest") != dest.name or owner.get("host") != HOST:
                left.append(p.name)
                continue
            pid, start = owner.get("pid"), owner.get("proc_start")
            aside = p / "replaced" if m.group(1) == "old" else None
        else:
            pid, start, aside = int(lm.group(1)), None, p
        if _alive(pid, start):
            left.append(p.name)  # a live process: never touched
            continue
        if aside is not None and aside.is_dir() and not os.path.lexists(dest):
            os.rename(aside, dest)
            note(f"put {dest} back in place: process {pid} was replacing it and ended before the new folder "
                 f"was in place")
        if p.exists():
            shutil.rmtree(p, ignore_errors=True)
            if not p.exists():
                note(f"removed {p}, left by process {pid}, which ended before finishing")
    if left:
        note(f"left alone beside {dest} (not written by a process of this host known to have ended): "
             + ", ".join(left))


# ------------------------------------------------------------------------ checks
def files_under(d: Path) -> list[str]:
    """Relative paths (``/``-separated) of every file and symbolic link under ``d``, hidden
    ones included; folders are not listed and symbolic links are not followed."""
    def unreadable(exc: OSError):
        raise exc

    out = []
    for root, dirs, files in os.walk(d, onerror=unreadable, followlinks=False):
        r = Path(root)
        for n in files + [x for x in dirs if (r / x).is_symlink()]:
            out.append((r / n).relative_to(d).as_posix())
    return sorted(out)


def contents_problems(d: Path, listed: dict[str, str | None], ignore=()) -> list[str]:
    """What in folder ``d`` was not written by the toolkit: files that ``listed`` (relative path
    -> sha256, or None for "any content") does not hold, and listed files whose sha256 differs."""
    present = [f for f in files_under(d) if f not in ignore]
    extra = [f for f in present if f not in listed]
    changed = [f for f in present if listed.get(f) and (d / f).is_file() and not (d / f).is_symlink()
               and _sha256(d / f) != listed[f]]
    changed += [f for f in present if f in listed and (d / f).is_symlink()]
    out = []
    if extra:
        more = f" and {len(extra) - 8} more" if len(extra) > 8 else ""
        out.append(f"it holds files it did not write: {', '.join(extra[:8])}{more}")
    if changed:
        out.append(f"files changed since it was written: {', '.join(changed[:8])}")
    return out


def refuse_inputs(dest, inputs: dict[str, object]) -> None:
    """Refuse an output folder that is, or contains, one of ``inputs`` (label -> path)."""
    d = Path(dest).resolve()
    for label, p in inputs.items():
        if p is None:
            continue
        q = Path(p).resolve()
        if q == d or d in q.parents:
            raise FolderRefusedError(f"{dest} {'is' if q == d else 'contains'} the {label} {p}: an output folder "
                                     "never replaces its inputs; choose another folder")


def _fingerprint(dest: Path, marker: str | None) -> tuple | None:
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        return None
    h = None
    if marker and stat.S_ISDIR(st.st_mode) and (dest / marker).is_file():
        h = _sha256(dest / marker)
    return (st.st_dev, st.st_ino, st.st_mode, st.st_mtime_ns, h)


def _check_existing(dest: Path, overwrite: bool, check, what: str, marker: str | None) -> tuple | None:
    """The fingerprint of an existing destination that may be replaced (None: there is none)."""
    try:
        st = os.lstat(dest)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise FolderRefusedError(f"{dest} is a symbolic link: not replaced; give the folder it points to, "
                                 "or another folder")
    if not stat.S_ISDIR(st.st_mode):
        raise FolderRefusedError(f"{dest} is a file, not a folder: not replaced; choose another folder")
    if any(dest.iterdir()):
        if not overwrite:
            raise FolderExistsError(f"{dest} exists; choose another folder, or pass --overwrite (overwrite=True) "
                                    f"to replace it (only a {what} written by typology is replaced)")
        check(dest)
    return _fingerprint(dest, marker)


# ------------------------------------------------------------------------ writing
def _write_owner(d: Path, dest: Path) -> None:
    (d / OWNER).write_text(json.dumps({**_owner(), "dest": dest.name}) + "\n", encoding="utf-8")


def _replace(tmp: Path, dest: Path, expected: tuple | None, check, marker: str | None) -> None:
    changed = FolderChangedError(f"{dest} was created or changed by another process while this one was writing "
                                 "it: nothing was replaced; run again")
    if _fingerprint(dest, marker) != expected:
        raise changed
    if expected is not None and any(dest.iterdir()):
        check(dest)
    (tmp / OWNER).unlink()  # the finished folder carries no trace of its writer
    if expected is None:
        try:
            os.rename(tmp, dest)  # fails when a non-empty folder or a file appeared meanwhile
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise changed from None
            raise
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
    try:
        _write_owner(aside, dest)
        os.rename(dest, aside / "replaced")
    except BaseException:
        shutil.rmtree(aside, ignore_errors=True)
        raise
    try:
        os.rename(tmp, dest)
    except BaseException:
        os.rename(aside / "replaced", dest)
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _is_write_error(exc: OSError, tmp: Path) -> bool:
    if isinstance(exc, OutputFolderError) or exc.errno is None:
        return False
    names = [f for f in (exc.filename, exc.filename2) if f]
    return exc.errno in _DISK_ERRNOS or any(str(tmp) in str(f) for f in names)


@contextmanager
def output_folder(dest, *, overwrite: bool, check: Callable[[Path], None], what: str = "folder",
                  marker: str | None = None, note: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Write the folder ``dest`` safely; yields the temporary folder to write into.

    See the module docstring: lock, stale temporaries removed, the overwrite rules (``check``
    raises :class:`FolderRefusedError` for an existing folder that must not be replaced;
    ``marker`` names the file whose hash identifies it), the temporary folder renamed into
    place when the block ends without an exception, and removed when it does not.
    """
    note = note or (lambda m: print(f"note: {m}", file=sys.stderr))
    dest = Path(os.path.abspath(dest))
    if not dest.name or dest == dest.parent:
        raise FolderRefusedError(f"{dest} cannot be an output folder; give a folder below it")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FolderWriteError(f"{dest}: could not create the folder {dest.parent} ({exc.strerror})") from exc
    with folder_lock(dest, note):
        clean_stale(dest, note)
        expected = _check_existing(dest, overwrite, check, what, marker)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
        try:
            _write_owner(tmp, dest)
            yield tmp
            _replace(tmp, dest, expected, check, marker)
        except OSError as exc:
            if not _is_write_error(exc, tmp):
                raise
            where = f" ({exc.filename})" if exc.filename and str(tmp) not in str(exc.filename) else ""
            kept = "the existing folder is unchanged" if expected else "nothing was written"
            raise FolderWriteError(f"{dest}: could not write the {what}: {exc.strerror or exc}{where}; {kept}") from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def write_file_atomic(dest, write: Callable[[Path], None], *, overwrite: bool, what: str = "file") -> Path:
    """Write one file atomically: ``write(tmp_path)`` into a temporary file beside ``dest``,
    renamed over it at the end; an existing ``dest`` only with ``overwrite``."""
    dest = Path(os.path.abspath(dest))
    if os.path.lexists(dest):
        if not overwrite:
            raise FolderExistsError(f"{dest} exists; choose another file, or pass --overwrite to replace it")
        if not dest.is_file() or dest.is_symlink():
            raise FolderRefusedError(f"{dest} is not a regular file: not replaced; choose another file")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise FolderWriteError(f"{dest}: could not write the {what} ({exc.strerror})") from exc
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except OSError as exc:
        if exc.errno is None or isinstance(exc, OutputFolderError):
            raise
        raise FolderWriteError(f"{dest}: could not write the {what}: {exc.strerror or exc}; nothing was written") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dest
