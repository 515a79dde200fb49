"""The ordered exercise manifest (`exercises/catalog.toml`).

It is the only place that names exercises: their order, title, function, points and
hints. Everything else in the engine asks the catalog.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from grading import CATALOG_PATH, CHECKS_DIR

_ID_RE = re.compile(r"^ex(\d{2})_([a-z0-9_]+)$")


class CatalogError(Exception):
    """The manifest is malformed."""


class UnknownExercise(LookupError):
    """A name given on the command line matches no exercise."""


@dataclass(frozen=True)
class Exercise:
    id: str  # "ex03_sgd_step": file stem in exercises/, solutions/, checks/test_<id>.py
    function: str  # the function the learner writes
    title: str
    concept: str  # one line: what the exercise teaches
    checks: str  # one line: what the checks look at (README's learning path)
    part: str
    points: float
    hints: tuple[str, ...] = field(default=())
    # its checks build torch optimizers: the first one built in a process imports torch._dynamo,
    # about half a second, which a single grade pays in one lane only, beside the others' work
    optimizers: bool = False
    # what its function builds, cuts or leaves alone is an autograd graph: `--graph` draws it
    graph: bool = False

    @property
    def number(self) -> int:
        return int(self.id[2:4])

    @property
    def short(self) -> str:
        return self.id[:4]

    @property
    def name(self) -> str:
        return self.id[5:]

    @property
    def filename(self) -> str:
        return f"{self.id}.py"

    @property
    def check_file(self) -> Path:
        return CHECKS_DIR / f"test_{self.id}.py"


class Catalog:
    def __init__(self, exercises: list[Exercise]):
        self.exercises = list(exercises)
        self._by_id = {ex.id: ex for ex in self.exercises}

    def __iter__(self):
        return iter(self.exercises)

    def __len__(self) -> int:
        return len(self.exercises)

    def __getitem__(self, exercise_id: str) -> Exercise:
        return self._by_id[exercise_id]

    def get(self, exercise_id: str) -> Exercise | None:
        return self._by_id.get(exercise_id)

    @property
    def max_score(self) -> float:
        return sum(ex.points for ex in self.exercises)

    def resolve(self, name: str) -> Exercise:
        """Find an exercise by `ex03`, `3`, `03`, `sgd_step`, `ex03_sgd_step` or a path."""
        key = Path(name.strip()).name.lower()
        key = key.removeprefix("test_").removesuffix(".py").removesuffix(".ipynb")
        for ex in self.exercises:
            if key in (ex.id, ex.short, ex.name, ex.function):
                return ex
        if key.isdigit() or (key.startswith("ex") and key[2:].isdigit()):
            number = int(key.removeprefix("ex"))
            for ex in self.exercises:
                if ex.number == number:
                    return ex
        choices = ", ".join(ex.short for ex in self.exercises)
        raise UnknownExercise(f"no exercise called {name!r} (choose one of {choices}, or see `python grader.py list`)")


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    # a grading process reads the copy in memory the engine installed (`grading.engine.frozen`);
    # the catalog never imports the engine: where it is not loaded, no copy is installed
    frozen = sys.modules.get("grading.engine.frozen")
    try:
        text = frozen.catalog_text() if frozen is not None and path == CATALOG_PATH else None
        data = tomllib.loads(text if text is not None else path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: the exercise manifest is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: {exc}") from None
    entries = data.get("exercise")
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{path}: no [[exercise]] entries")
    exercises = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        try:
            ex = Exercise(
                id=entry["id"],
                function=entry["function"],
                title=entry["title"],
                concept=entry.get("concept", ""),
                checks=entry.get("checks", ""),
                part=entry.get("part", ""),
                points=float(entry.get("points", 1)),
                hints=tuple(entry.get("hints", ())),
                optimizers=bool(entry.get("optimizers", False)),
                graph=bool(entry.get("graph", False)),
            )
        except KeyError as exc:
            raise CatalogError(f"{path}: exercise #{i} has no {exc.args[0]!r}") from None
        if not _ID_RE.match(ex.id):
            raise CatalogError(f"{path}: exercise id {ex.id!r} is not of the form exNN_name")
        if ex.id in seen:
            raise CatalogError(f"{path}: exercise {ex.id!r} is listed twice")
        seen.add(ex.id)
        exercises.append(ex)
    return Catalog(exercises)
