"""Grading from the checks and engine as they were when grading began, whatever happens on disk.

A learner's code runs as the same user as the grader: it could rewrite `checks/`, the engine
or the catalog (and `grading/integrity.json` with them) while a batch is being graded, then end
its grading process, so that the process started in its place, and every later submission,
would be graded by the edited checks. So the grader reads its own files once, before any
learner's code runs (`Sources.read()`), and every grading process imports the checks, the engine
and the catalog from that copy in memory (`install()`): a process forked from the grader finds
the copy in its memory, and a fresh interpreter receives it with its request and starts from a
bootstrap that reads nothing of the grader's from disk.

This module is imported by that bootstrap from its text alone: it needs nothing but the
standard library.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import sys

PACKAGES = ("grading", "checks")  # imported from the copy; everything else as usual
CATALOG = "exercises/catalog.toml"


class Sources:
    """The text of the kata's own files (the engine, the checks, the catalog), by path relative to
    the kata's root."""

    def __init__(self, root: str, texts: dict[str, str]):
        self.root, self.texts = root, texts

    @classmethod
    def read(cls, root, paths) -> "Sources":
        texts = {}
        for path in paths:
            try:
                with open(path, encoding="utf-8") as fh:
                    texts[os.path.relpath(path, root).replace(os.sep, "/")] = fh.read()
            except (OSError, UnicodeDecodeError):
                continue
        return cls(str(root), texts)

    def digest(self) -> str:
        """The SHA-256 of every file's path and text: the same texts give the same digest on every
        machine, whatever the root."""
        import hashlib

        h = hashlib.sha256()
        for path in sorted(self.texts):
            data = self.texts[path].encode("utf-8")
            h.update(f"{path}\0{len(data)}\0".encode("utf-8") + data)
        return h.hexdigest()


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, sources: Sources):
        self.sources = sources

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in PACKAGES:
            return None
        relative = name.replace(".", "/")
        for candidate, package in ((relative + "/__init__.py", True), (relative + ".py", False)):
            if candidate in self.sources.texts:
                origin = os.path.join(self.sources.root, *candidate.split("/"))
                return importlib.util.spec_from_file_location(
                    name, origin, loader=self,
                    submodule_search_locations=[os.path.dirname(origin)] if package else None)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        origin = module.__spec__.origin
        relative = os.path.relpath(origin, self.sources.root).replace(os.sep, "/")
        exec(_code(self.sources.texts[relative], origin), module.__dict__)


_COMPILED: dict[tuple[str, str], object] = {}  # (file, text) -> code, filled by precompile()


def _code(text: str, origin: str):
    code = _COMPILED.get((origin, text))
    return code if code is not None else compile(text, origin, "exec", dont_inherit=True)


def precompile(sources: Sources) -> None:
    """Compile the Python files of `sources` in this process, once: the grading processes forked
    from it later find the code ready (a grader that grades again and again, as watch mode does,
    saves tens of milliseconds each time)."""
    for relative, text in sources.texts.items():
        if relative.endswith(".py"):
            origin = os.path.join(sources.root, *relative.split("/"))
            with contextlib.suppress(SyntaxError, ValueError):
                _COMPILED[(origin, text)] = compile(text, origin, "exec", dont_inherit=True)


INSTALLED: list[Sources] = []


def install(sources: Sources) -> None:
    """From now on, this process imports the kata's engine and checks, and reads its catalog,
    from `sources`."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]
    sys.meta_path.insert(0, _Finder(sources))
    INSTALLED[:] = [sources]


def catalog_text() -> str | None:
    """The catalog as it was read, where a copy is installed."""
    return INSTALLED[0].texts.get(CATALOG) if INSTALLED else None


def boot() -> None:
    """A fresh grading interpreter (`python -c BOOTSTRAP`): the request, with the copy of the
    kata's files, on standard input; then `grading.engine.child` from that copy."""
    import json

    request = json.loads(sys.stdin.buffer.read())
    frozen = request.pop("sources")
    install(Sources(frozen["root"], frozen["texts"]))
    sys.modules.setdefault("grading.engine.frozen", sys.modules[__name__])
    from grading.engine import child

    child.main(request)
