"""The engine's layers: which subpackage of `grading/` may import which, no import circle, no
module over 400 lines, and every subpackage in the distribution.

| layer | may import |
|---|---|
| core | nothing of grading but `grading/__init__` |
| engine | core (and the checks, whose instruments it runs) |
| reports | core |
| learner | engine, reports, core |
| classroom | engine, reports, core |
| dev | classroom, engine, reports, core (and the checks) |
| cli | everything |

The checks (`checks/`) run inside the engine's processes: they may import core and engine.
Every import counts, at the top of a module or inside a function. Read with `ast` only: nothing
is imported. What is still against the rules is listed below, exactly: an entry that no longer
applies fails too, so that the lists only shrink.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from grading import ROOT

LAYERS = ("core", "engine", "reports", "learner", "classroom", "dev", "cli")
MAY_IMPORT = {
    "core": set(),
    "engine": {"core", "checks"},
    "reports": {"core"},
    "learner": {"engine", "reports", "core"},
    "classroom": {"engine", "reports", "core"},
    "dev": {"classroom", "engine", "reports", "core", "checks"},
    "cli": set(LAYERS) | {"checks"},
    "checks": {"core", "engine"},
    "main": set(LAYERS),  # grading/__main__.py
}
LIMIT = 400  # lines per module

# imports still against the table (importer, imported)
KNOWN_AGAINST: set[tuple[str, str]] = set()
# import circles still there, each as the sorted modules it goes through
KNOWN_CIRCLES: set[tuple[str, ...]] = set()
# modules still over LIMIT lines
KNOWN_LONG: set[str] = set()


def modules() -> dict[str, Path]:
    """Every module of grading/ and checks/ by dotted name."""
    found = {}
    for top in ("grading", "checks"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The kata's modules `name` imports (a `from package import module` names the module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [(module, [alias.name for alias in node.names])]
        else:
            continue
        for module, names in targets:
            if module.partition(".")[0] not in ("grading", "checks"):
                continue
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in known]
            found.update(subs)
            if len(subs) < len(names) or not names:
                found.add(module)
    found.discard(name)
    return found


def layer(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "checks":
        return "checks"
    if len(parts) == 1:
        return "root"
    return "main" if parts[1] == "__main__" else parts[1]


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) & set(known) for name, path in known.items()}


def against_the_table(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    wrong = set()
    for importer, imported in edges.items():
        for target in imported:
            mine, theirs = layer(importer), layer(target)
            if theirs == "root" or theirs == mine:
                continue
            if mine == "root" or theirs not in MAY_IMPORT[mine]:
                wrong.add((importer, target))
    return wrong


def circles(edges: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), set()
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(tuple(sorted(component)))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_grading_holds_only_the_seven_layers():
    entries = {p.name for p in (ROOT / "grading").iterdir() if p.name != "__pycache__"}
    assert entries <= {"__init__.py", "__main__.py", "integrity.json", "pristine", *LAYERS}, sorted(entries)
    for name in LAYERS:
        assert (ROOT / "grading" / name / "__init__.py").is_file(), name


def test_no_import_against_the_layers():
    wrong = against_the_table(graph())
    new = sorted(wrong - KNOWN_AGAINST)
    assert not new, "imports against the layers (see CONTRIBUTING.md):\n" + "\n".join(f"{a} -> {b}" for a, b in new)
    assert not KNOWN_AGAINST - wrong, f"no longer against the layers, remove from KNOWN_AGAINST: {KNOWN_AGAINST - wrong}"


def test_no_import_circle():
    found = circles(graph())
    new = sorted(found - KNOWN_CIRCLES)
    assert not new, "import circles:\n" + "\n".join(" <-> ".join(c) for c in new)
    assert not KNOWN_CIRCLES - found, f"no longer circles, remove from KNOWN_CIRCLES: {KNOWN_CIRCLES - found}"


def test_no_module_over_the_limit():
    long = {path.relative_to(ROOT).as_posix() for path in modules().values()
            if len(path.read_text(encoding="utf-8").splitlines()) > LIMIT}
    assert not long - KNOWN_LONG, f"modules over {LIMIT} lines: split them: {sorted(long - KNOWN_LONG)}"
    assert not KNOWN_LONG - long, f"no longer over {LIMIT} lines, remove from KNOWN_LONG: {KNOWN_LONG - long}"


def test_the_rules_catch_what_they_are_for(tmp_path):
    edges = {"grading.core.a": {"grading.engine.b", "grading"}, "grading.engine.b": {"grading.core.a"},
             "grading.reports.c": {"grading.engine.b"}, "grading.cli.d": {"grading.dev.e", "checks.x"},
             "checks.x": {"grading.reports.c"}}
    assert against_the_table(edges) == {("grading.core.a", "grading.engine.b"), ("grading.reports.c", "grading.engine.b"),
                                        ("checks.x", "grading.reports.c")}
    assert circles(edges) == {("grading.core.a", "grading.engine.b")}
    module = tmp_path / "m.py"
    module.write_text("import grading.core.a\nfrom grading.engine import b, NAME\n"
                      "def f():\n    from ..reports import c\n", encoding="utf-8")
    known = {"grading.core.a": module, "grading.engine.b": module, "grading.reports.c": module}
    assert imports("grading.learner.m", module, known) == {"grading.core.a", "grading.engine.b", "grading.engine",
                                                          "grading.reports.c"}


def test_the_distribution_carries_every_subpackage():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "grading").rglob("__init__.py")}
    assert declared == on_disk


def test_an_exercises_helpers_serve_its_checks_only():
    """checks/support_exNN_*.py is imported by its exercise's check file and nothing else: a change to
    it can then affect that exercise's verdicts only (`grading.core.integrity.Integrity.affected`)."""
    edges = graph()
    wrong = []
    for importer, imported in edges.items():
        for target in imported:
            leaf = target.rpartition(".")[2]
            if target.startswith("checks.support_") and importer != "checks.test_" + leaf.removeprefix("support_"):
                wrong.append((importer, target))
    assert not wrong, wrong
    assert any(t.startswith("checks.support_") for imported in edges.values() for t in imported)
