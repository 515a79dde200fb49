"""Loading a learner's exercise module for the checks.

A *target* is what gets graded: a folder of `exNN_*.py` modules (`exercises/`,
`solutions/`, a learner's submission) or a single `exNN_*.py` file. A learner's module is
loaded once per exercise in the process that grades it (its code outside functions runs
once, not once per check), compiled from its source with nothing cached in `__pycache__`
next to the learner's file. Every exercise gets a fresh load: a process grading several
exercises forgets the loaded modules between them (`forget_loaded()`, called by
`grading.engine.restore`).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import re
import sys
import traceback
import types
from pathlib import Path

from grading.core.paths import NotAFile, display_path, exercise_file, read_regular

_LEARNER_FILES: set[str] = set()
MODULE_PREFIX = "kata_target_"  # a learner's module is sys.modules[MODULE_PREFIX + exercise id]
LOAD_NOTES: dict[str, list[str]] = {}  # exercise id -> things the learner should know about loading it


class TargetError(Exception):
    """The target itself is unusable (missing folder, wrong kind of file)."""


class ExerciseLoadError(Exception):
    """The learner's module could not be loaded: missing file, syntax error,
    exception at import time, or the function is not defined."""

    def __init__(self, message: str, location: str | None = None):
        super().__init__(message)
        self.location = location


def resolve_target(target: str | os.PathLike | None, default: Path) -> Path:
    path = Path(target) if target else default
    if not path.exists():
        raise TargetError(f"target {display_path(path)} does not exist")
    if path.is_file() and path.suffix not in (".py", ".ipynb"):
        raise TargetError(f"target {display_path(path)} is neither a folder, an exNN_*.py file nor a notebook")
    return path.resolve()


def register_learner_file(filename: str) -> None:
    _LEARNER_FILES.add(os.path.normcase(os.path.abspath(filename)))


def is_learner_file(filename: str) -> bool:
    return os.path.normcase(os.path.abspath(filename)) in _LEARNER_FILES


def learner_location(tb: types.TracebackType | None) -> str | None:
    """`file:line` of the innermost traceback frame that lies in a learner's file."""
    found = None
    while tb is not None:  # walked by hand: no source lines are needed, and reading them is slow
        filename = tb.tb_frame.f_code.co_filename
        if is_learner_file(filename):
            found = f"{display_path(filename)}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return found


def load_module(path: Path, module_name: str) -> types.ModuleType:
    """Execute the source of `path` as a fresh module named `module_name`."""
    def shown() -> str:  # only a failure names the file (resolving the path costs a check's worth of time)
        return display_path(path)

    try:
        source = read_regular(path)
    except FileNotFoundError:
        raise ExerciseLoadError(f"{shown()} does not exist: the exercise file is missing") from None
    except NotAFile as exc:
        raise ExerciseLoadError(f"{shown()} cannot be read: {exc}. Save the exercise as an ordinary file.") from None
    except OSError as exc:
        raise ExerciseLoadError(f"{shown()} cannot be read: {exc.strerror}") from None
    register_learner_file(str(path))
    try:
        code = compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{shown()}, line {exc.lineno}" if exc.lineno else shown()
        message = f"{where}: {type(exc).__name__}: {exc.msg}"
        if exc.text and exc.text.strip():
            message += f"\n    {exc.text.strip()}"
        message += "\nThe file cannot be imported until the syntax is fixed; no check can run before that."
        raise ExerciseLoadError(message, where) from None
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    sys.modules[module_name] = module  # dataclasses, pickling and friends look it up
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt at import included
        sys.modules.pop(module_name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        where = learner_location(exc.__traceback__) or shown()
        raise ExerciseLoadError(
            f"importing {shown()} raised {type(exc).__name__}: {exc} ({where}). "
            "Code outside functions runs on import: keep the file to definitions.",
            where,
        ) from None
    return module


_SIBLING = re.compile(r"(?:exercises\.)?(ex\d\d_\w+)")
GRADED: list[Path] = []  # the target being graded in this process


class _SiblingFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`from exercises.ex02_predict import predict` (or `from ex02_predict import ...`) in a
    learner's module loads that exercise from the submission being graded, not the grader's own
    stubs; where the submission has no such file, the import fails saying so."""

    def find_spec(self, name, path=None, target=None):
        if not GRADED:
            return None
        graded = GRADED[0]
        if name == "exercises":
            if graded.is_dir():
                return importlib.util.spec_from_loader(name, self, is_package=True)
            raise ImportError(f"`import exercises` found nothing: {display_path(graded)} is graded as one file, "
                              "and each exercise on its own. Copy what you need from another exercise into this file.")
        match = _SIBLING.fullmatch(name)
        if match is None:
            return None
        filename = match.group(1) + ".py"
        file = graded if graded.is_file() else graded / filename
        if file.name != filename or not file.is_file():
            where = display_path(graded)
            raise ImportError(f"`import {name}` found no {filename} in {where}, the submission being graded: "
                              "each exercise is graded with the other files of the same submission. "
                              "Add that file, or copy what you need from it into this exercise.", name=name)
        return importlib.util.spec_from_file_location(name, file, loader=self)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        if module.__spec__.origin in (None, "built-in") or module.__name__ == "exercises":
            module.__path__ = [str(GRADED[0])]
            return
        path = module.__spec__.origin
        source = read_regular(path)
        register_learner_file(path)
        exec(compile(source, path, "exec", dont_inherit=True), module.__dict__)


_FINDER = _SiblingFinder()


def set_graded(target: Path) -> None:
    """The target whose files a learner's `import exercises.exNN_name` finds, from now on."""
    GRADED[:] = [Path(target)]
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def is_sibling_module(name: str) -> bool:
    """Whether `name` is a module a learner's import of another exercise made."""
    return name == "exercises" or _SIBLING.fullmatch(name) is not None


def _uses_notebooks(target: Path, exercise_id: str) -> bool:
    if target.is_file():
        return target.suffix == ".ipynb"
    return not exercise_file(target, exercise_id).exists() and any(target.glob("*.ipynb"))


def _load_notebooks(target: Path, exercise_id: str, function: str):
    from grading.core.catalog import load_catalog
    from grading.engine.notebooks import NotebookError, find_notebooks, notebook_module

    exercise = load_catalog()[exercise_id]
    paths = [target] if target.is_file() else find_notebooks(target, exercise)
    notes: list[str] = []
    found = None
    for path in paths:  # later notebooks win, as later cells do
        try:
            module, cell_notes = notebook_module(path, MODULE_PREFIX + exercise_id, register_learner_file)
        except NotebookError as exc:
            notes.append(str(exc))
            continue
        notes += cell_notes
        if callable(module.__dict__.get(function)):
            found = module.__dict__[function]
    LOAD_NOTES[exercise_id] = notes
    if found is None:
        where = ", ".join(p.name for p in paths)
        detail = ("\n" + "\n".join(notes)) if notes else ""
        raise ExerciseLoadError(f"no cell of {where} defines a function `{function}`: keep the name and "
                                f"signature of the answer cell.{detail}")
    return found


_LOADED: dict[tuple[str, str, str], object] = {}  # (target, exercise, function) -> function or ExerciseLoadError


def forget_loaded() -> None:
    """The next exercise graded in this process loads its module afresh."""
    _LOADED.clear()


def load_function(target: Path, exercise_id: str, function: str):
    """`function` from the target's module (or notebooks) for `exercise_id`: loaded on the first
    request in this process, the same function (or the same load error) after that."""
    key = (str(target), exercise_id, function)
    if key not in _LOADED:
        try:
            _LOADED[key] = _load_function(target, exercise_id, function)
        except ExerciseLoadError as exc:
            _LOADED[key] = exc
    found = _LOADED[key]
    if isinstance(found, ExerciseLoadError):
        raise ExerciseLoadError(str(found), found.location)
    return found


def _load_function(target: Path, exercise_id: str, function: str):
    if _uses_notebooks(target, exercise_id):
        return _load_notebooks(target, exercise_id, function)
    path = exercise_file(target, exercise_id)
    module = load_module(path, MODULE_PREFIX + exercise_id)
    func = getattr(module, function, None)
    if func is None:
        raise ExerciseLoadError(
            f"{display_path(path)} defines no function `{function}`: keep the name and signature of the stub."
        )
    if not callable(func):
        raise ExerciseLoadError(f"{display_path(path)}: `{function}` is a {type(func).__name__}, not a function.")
    return func
