"""The architecture, checked on the source: layering, rooms, no circles, no private reach-ins.

* imports only point down: ``typology`` -> ``models`` -> ``features``;
* the typology estimator (``typology.estimator``) imports nothing of the shell
  (``typology.data``, ``typology.workflow``, ``typology.cli``); the base modules
  ``typology.persist``, ``typology.exceptions`` and ``typology.folders`` import nothing of it or
  of the shell above them;
* ``features`` and ``models`` read and write no files;
* no import circles between modules, counting imports inside functions (they hide circles, not
  remove them);
* no module imports a private name (``_x``) of another module;
* no function is longer than ``MAX_LINES`` (120) lines, docstring included.

Every check is a function of a source tree, so that a deliberately bad tree can show that the
check fails (the last tests).
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("features", "models", "typology")
LAYER = {"features": 0, "models": 1, "typology": 2}
SHELL = ("typology.data", "typology.workflow", "typology.cli")
BASE = ("typology.persist", "typology.exceptions", "typology.folders")
MAX_LINES = 120
# calls that read or write files (pandas/numpy readers and writers, pathlib, the builtin open);
# a pandas ``to_csv()`` / ``to_json()`` without a destination returns text and is allowed
FILE_CALLS = {"open", "read_csv", "read_parquet", "read_excel", "read_json", "read_table", "read_feather",
              "to_csv", "to_parquet", "to_excel", "to_json", "to_feather", "to_pickle", "read_pickle",
              "read_text", "read_bytes", "write_text", "write_bytes", "mkdir", "unlink", "rmdir", "rmtree",
              "savez", "savez_compressed", "savetxt", "loadtxt", "genfromtxt", "savefig"}


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the three packages under ``root``."""
    out = {}
    for pkg in PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            parts = list(f.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def _is_package(name: str, mods: dict[str, Path]) -> bool:
    return mods[name].name == "__init__.py"


def imports(name: str, path: Path, mods: dict[str, Path]) -> list[tuple[str, str, int]]:
    """``(module imported, name imported or "", line)`` of every import in a module, those inside
    functions included; ``from pkg import mod`` counts as an import of ``pkg.mod``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if _is_package(name, mods) else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, "", node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.append((sub, "", node.lineno) if sub in mods else (target, a.name, node.lineno))
    return out


def _internal(target: str, mods) -> str | None:
    """The module of the three packages that ``target`` names (or lies in), else None."""
    while target and target not in mods:
        target = target.rpartition(".")[0]
    return target or None


def _in(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layering_violations(root: Path) -> list[str]:
    mods = modules(root)
    bad = []
    for name, path in mods.items():
        top = name.split(".")[0]
        for target, _, line in imports(name, path, mods):
            ttop = target.split(".")[0]
            if ttop in LAYER and LAYER[ttop] > LAYER[top]:
                bad.append(f"{path.relative_to(root)}:{line}: {name} imports {target} (points up)")
            if _in(name, ("typology.estimator",)) and _in(target, SHELL):
                bad.append(f"{path.relative_to(root)}:{line}: the estimator module {name} imports the shell ({target})")
            if _in(name, BASE) and (_in(target, SHELL) or _in(target, ("typology.estimator",))):
                bad.append(f"{path.relative_to(root)}:{line}: the base module {name} imports {target}")
    return bad


def file_io_violations(root: Path) -> list[str]:
    mods = modules(root)
    bad = []
    for name, path in mods.items():
        if name.split(".")[0] not in ("features", "models"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                to_text = called.startswith("to_") and not node.args and not node.keywords  # returns the text
                if called in FILE_CALLS and not to_text:
                    bad.append(f"{path.relative_to(root)}:{node.lineno}: {name} calls {called}() (reads or writes files)")
    return bad


def import_cycles(root: Path) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), imports in functions
    included; a package's ``__init__`` importing its own submodules is the only edge left out
    (Python runs it first, so it cannot close a circle by itself)."""
    mods = modules(root)
    graph = {}
    for name, path in mods.items():
        deps = set()
        for target, _, _ in imports(name, path, mods):
            t = _internal(target, mods)
            if t and t != name and not (_is_package(name, mods) and t.startswith(name + ".")):
                deps.add(t)
        graph[name] = deps
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def private_imports(root: Path) -> list[str]:
    """``from other_module import _name`` and ``other_module._name`` across modules."""
    mods = modules(root)
    bad = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}
        for target, imported, line in imports(name, path, mods):
            t = _internal(target, mods)
            if t is None or t == name:
                continue
            if imported.startswith("_") and not imported.startswith("__"):
                bad.append(f"{path.relative_to(root)}:{line}: {name} imports {t}.{imported} (private)")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if _internal(a.name, mods) == a.name:
                        aliases[a.asname or a.name] = a.name
            elif isinstance(node, ast.ImportFrom):
                for target, imported, _ in imports(name, path, mods):
                    if not imported and target in mods:
                        aliases[target.rpartition(".")[2]] = target
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and aliases[node.value.id] != name):
                bad.append(f"{path.relative_to(root)}:{node.lineno}: {name} uses {aliases[node.value.id]}.{node.attr} "
                           "(private)")
    return bad


def long_functions(root: Path, limit: int = MAX_LINES) -> list[str]:
    """Functions and methods longer than ``limit`` lines (from ``def`` to their last line)."""
    bad = []
    for name, path in modules(root).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    bad.append(f"{path.relative_to(root)}:{node.lineno}: {name}.{node.name} has {n} lines")
    return bad


# --------------------------------------------------------------------------- the real tree
def test_imports_only_point_down():
    assert layering_violations(ROOT) == []


def test_features_and_models_read_and_write_no_files():
    assert file_io_violations(ROOT) == []


def test_no_import_circles():
    assert import_cycles(ROOT) == []


def test_no_module_imports_another_modules_private_names():
    assert private_imports(ROOT) == []


def test_no_function_is_longer_than_120_lines():
    assert long_functions(ROOT) == []


# --------------------------------------------------------------------------- the checks can fail
@pytest.fixture
def tree(tmp_path):
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__", "resources"))
    return tmp_path


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


def test_an_upward_import_is_caught(tree):
    _append(tree / "features" / "specialization.py", "def _f():\n    import models  # noqa\n")
    _append(tree / "typology" / "estimator" / "naming.py", "from ..workflow import report  # noqa\n")
    bad = layering_violations(tree)
    assert any("features.specialization imports models" in b for b in bad)
    assert any("estimator module typology.estimator.naming imports the shell" in b for b in bad)


def test_file_io_in_features_is_caught(tree):
    _append(tree / "features" / "specialization.py", "def _f(p):\n    return open(p).read()\n")
    assert any("calls open()" in b for b in file_io_violations(tree))


def test_a_circle_is_caught(tree):
    _append(tree / "models" / "spec.py", "def _f():\n    from . import tables  # noqa\n")
    _append(tree / "models" / "tables.py", "from . import spec  # noqa\n")
    assert any({"models.spec", "models.tables"} <= set(c) for c in import_cycles(tree))


def test_a_private_import_is_caught(tree):
    _append(tree / "models" / "tables.py", "from .spec import _listing  # noqa\n")
    assert any("models.spec._listing" in b for b in private_imports(tree))


def test_a_long_function_is_caught(tree):
    _append(tree / "models" / "spec.py", "def _long():\n" + "    x = 1\n" * 130 + "    return x\n")
    assert any("models.spec._long has 132 lines" in b for b in long_functions(tree))
