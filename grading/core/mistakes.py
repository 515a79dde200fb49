"""The kata's known mistakes, as the checks declare them (docs/mistakes.md is generated from them by
`python -m grading.dev.mistakes`).

A check that recognises a mistake fails with a `checks.instruments.Mistake` as its message: a stable
id (`ex03.rebinding`, or `any.grad_mode_left_off` for the shared instruments' mistakes of every
exercise), a one-line title and the learner's message, declared once, where the message is written.
The declarations are read here from the checks' source (the id and the title are string literals),
without importing the checks (and torch).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grading import CHECKS_DIR, ROOT
from grading.core.catalog import Catalog

SHARED = "any"  # the "exercise" of the shared instruments' mistakes
ID = re.compile(r"(?:ex\d\d|any)\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*")  # what checks.instruments.Mistake accepts


@dataclass(frozen=True)
class Declared:
    """One known mistake as a check file declares it."""

    id: str
    title: str
    path: str  # the check file, relative to the kata's root
    line: int
    owner: str = ""  # the exercise whose checks the file is ("ex03"), "" for the shared instruments

    @property
    def exercise(self) -> str:
        """"ex03" (the short id of the exercise), or "any" for a mistake of every exercise."""
        return self.id.split(".", 1)[0]


# a module of one exercise's checks: checks/test_ex03_sgd_step.py, or its helpers in checks/ex03/... or
# checks/support_ex03*.py; every other module of checks/ is shared (checks/instruments/, checks/structures/)
_OWN_MODULE = re.compile(r"^(?:test_|support_)?(ex\d\d)(?:_[^/]*)?(?:/|\.py$)")


def owner_of(relative: str) -> str:
    """The exercise ("ex03") whose checks the module at `relative` (a path inside checks/) belongs
    to, or "" for a shared one."""
    match = _OWN_MODULE.match(relative)
    return match.group(1) if match else ""


def mistake_of(exc: BaseException):
    """The known mistake an exception reports, on the exception or its first argument (a
    `checks.instruments.Mistake`, or anything with a `mistake_id`), or None."""
    for candidate in (exc, *(getattr(exc, "args", ())[:1])):
        mistake = getattr(candidate, "mistake_id", None)
        if isinstance(mistake, str) and mistake:
            return candidate
    return None


class DeclarationError(Exception):
    """A `Mistake(...)` whose id or title is not a plain string literal."""


def _is_mistake_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "Mistake") or (
        isinstance(func, ast.Attribute) and func.attr == "Mistake")


def declarations(checks_dir: Path = CHECKS_DIR) -> list[Declared]:
    """Every `Mistake(id, title, message)` of the checks, in file and line order."""
    found = []
    for path in sorted(checks_dir.rglob("*.py")):  # the modules in subfolders too
        relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not _is_mistake_call(node) or (isinstance(node.func, ast.Name) and _is_class_body(tree, node)):
                continue
            literal = [a.value for a in node.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if len(literal) != 2:
                raise DeclarationError(f"{relative}, line {node.lineno}: a Mistake's id and title must be plain "
                                       "string literals (they are read from the source)")
            found.append(Declared(literal[0], literal[1], relative, node.lineno,
                                  owner_of(path.relative_to(checks_dir).as_posix())))
    return sorted(found, key=lambda d: (d.path, d.line))


def _is_class_body(tree: ast.Module, call: ast.Call) -> bool:
    """A call inside the `Mistake` class itself (`Mistake(self.mistake_id, ...)`): not a declaration."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Mistake":
            return any(inner is call for inner in ast.walk(node))
    return False


def problems(declared: list[Declared], catalog: Catalog) -> list[str]:
    """What is wrong with the declarations: a malformed id, an id declared twice, an id whose
    exercise is not the check file's, a title that is not one short line."""
    shorts = {ex.short: ex for ex in catalog}
    found, seen = [], {}
    for d in declared:
        where = f"{d.path}, line {d.line}"
        if not ID.fullmatch(d.id):
            found.append(f"{where}: {d.id!r} is not of the form exNN.snake_case or any.snake_case")
        if d.id in seen:
            found.append(f"{where}: {d.id} is declared again (first at {seen[d.id]}): one declaration per id")
        seen.setdefault(d.id, where)
        if d.exercise == SHARED:
            if d.owner:  # the shared instruments: checks' modules of no one exercise
                found.append(f"{where}: {d.id} is an any.* id, which only the shared instruments declare")
        elif d.exercise not in shorts:
            found.append(f"{where}: {d.id} names no exercise of the catalog")
        elif d.exercise != d.owner:
            found.append(f"{where}: {d.id} is declared in the "
                         + (f"checks of {d.owner}" if d.owner else "shared instruments"))
        if not d.title.strip() or "\n" in d.title or len(d.title) > 100:
            found.append(f"{where}: {d.id}'s title must be one line of at most 100 characters")
    return found


def by_id(declared: list[Declared] | None = None) -> dict[str, Declared]:
    """The declarations by id (the first one of an id declared twice)."""
    table: dict[str, Declared] = {}
    for d in declarations() if declared is None else declared:
        table.setdefault(d.id, d)
    return table
