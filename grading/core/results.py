"""The one results model: a run -> exercises -> checks.

Every output format (terminal, JSON, ...) is a pure function of these dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class _Words(str, Enum):
    """A status: compares equal to its word, and is written as it (JSON, reports)."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def values(cls) -> frozenset[str]:
        return frozenset(m.value for m in cls)


class CheckStatus(_Words):
    PASSED = "passed"
    FAILED = "failed"  # an assertion of the check: the learner's result is wrong
    ERROR = "error"  # the learner's code raised, or could not be loaded
    TIMEOUT = "timeout"  # stopped at a time limit
    CRASHED = "crashed"  # the process running it died


class ExerciseStatus(_Words):
    PASSED = "passed"
    FAILED = "failed"
    NOT_STARTED = "not_started"  # every check met NotImplementedError
    ERROR = "error"  # a load error, a crash, a time-out, or no result at all


@dataclass
class CheckResult:
    name: str
    status: CheckStatus
    message: str = ""
    duration: float = 0.0
    not_implemented: bool = False  # the learner's function still raises NotImplementedError
    load_error: bool = False  # the learner's module could not be loaded
    location: str | None = None  # learner's file and line, where known
    traceback: str = ""  # the learner-relevant part of the traceback
    output: str = ""  # what the learner's code printed (cut to a bounded size)
    mistake: str | None = None  # the known mistake this failure is, a stable id ("ex03.rebinding")
    mistake_title: str | None = None  # that mistake in one line

    @property
    def passed(self) -> bool:
        return self.status == CheckStatus.PASSED

    def to_dict(self) -> dict:
        return {"name": self.name, "status": str(self.status), "message": self.message, "duration": round(self.duration, 4),
                "mistake": self.mistake, "mistake_title": self.mistake_title}

    def to_json(self) -> dict:
        """Every field, as it crosses from a grading process to the grader (`grading.engine.events.Result`)."""
        return {**self.__dict__, "status": str(self.status)}

    @classmethod
    def from_json(cls, data) -> "CheckResult":
        """The result another process sent: `name` and `status` required, every field of its kind;
        anything else is a ValueError."""
        if not isinstance(data, dict) or not {"name", "status"} <= set(data) or set(data) - set(_CHECK_FIELDS):
            raise ValueError("a check's result: not the fields of CheckResult")
        for name, value in data.items():
            kinds = _CHECK_FIELDS[name]
            if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
                raise ValueError(f"a check's result: {name} is {type(value).__name__}")
        if data["status"] not in CheckStatus.values():
            raise ValueError(f"a check's result: no status {data['status']!r}")
        return cls(**{**data, "status": CheckStatus(data["status"])})


# what each field of a CheckResult may be when it crosses a pipe
_CHECK_FIELDS = {"name": (str,), "status": (str,), "message": (str,), "duration": (int, float),
                 "not_implemented": (bool,), "load_error": (bool,), "location": (str, type(None)),
                 "traceback": (str,), "output": (str,), "mistake": (str, type(None)), "mistake_title": (str, type(None))}


@dataclass
class ExerciseResult:
    id: str
    title: str
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    error: str = ""  # a problem with the exercise as a whole (no checks collected, crash)
    flags: list[str] = field(default_factory=list)  # integrity problems found while grading
    notes: list[str] = field(default_factory=list)  # how the answer was found (notebook fallbacks, cell errors)
    graphs: dict = field(default_factory=dict)  # check -> the graphs it saw, as recorded (`--graph`)
    graph: dict | None = None  # the learner's graph beside the reference's (`grading.core.graph_data.compare`)

    @property
    def status(self) -> ExerciseStatus:
        if not self.checks:
            return ExerciseStatus.ERROR
        if all(c.passed for c in self.checks) and not self.error:
            return ExerciseStatus.PASSED
        if self.error or any(c.load_error or c.status in (CheckStatus.TIMEOUT, CheckStatus.CRASHED)
                             for c in self.checks):
            return ExerciseStatus.ERROR
        if all(c.not_implemented for c in self.checks):
            return ExerciseStatus.NOT_STARTED
        return ExerciseStatus.FAILED

    @property
    def passed(self) -> bool:
        return self.status == ExerciseStatus.PASSED

    @property
    def score(self) -> float:
        return self.max_score if self.passed else 0.0

    @property
    def first_problem(self) -> CheckResult | None:
        """The check to show the learner first: a real failure before a not-implemented one."""
        failing = [c for c in self.checks if not c.passed]
        for c in failing:
            if not c.not_implemented:
                return c
        return failing[0] if failing else None

    @property
    def counts(self) -> tuple[int, int]:
        return sum(c.passed for c in self.checks), len(self.checks)

    def to_dict(self) -> dict:
        data = {
            "id": self.id,
            "title": self.title,
            "status": str(self.status),
            "score": self.score,
            "max_score": self.max_score,
            "checks": [c.to_dict() for c in self.checks],
        }
        if self.error:
            data["error"] = self.error
        if self.flags:
            data["flags"] = list(self.flags)
        if self.notes:
            data["notes"] = list(self.notes)
        if self.graph is not None:
            data["graph"] = self.graph
        return data


@dataclass
class RunResult:
    target: str
    seed: int
    exercises: list[ExerciseResult] = field(default_factory=list)
    duration: float = 0.0
    complete: bool = True  # False while grading is still under way (partial reports)
    integrity: dict = field(default_factory=dict)  # {"ok": bool, "modified": [...], "missing": [...]}
    integrity_affected: set = field(default_factory=set)  # exercise ids whose checks are in doubt
    sandbox: str = ""  # the confinement the grading processes had, in words (grading.engine.sandbox.status)

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def all_passed(self) -> bool:
        return bool(self.exercises) and all(e.passed for e in self.exercises)

    def exercise(self, exercise_id: str) -> ExerciseResult:
        for e in self.exercises:
            if e.id == exercise_id:
                return e
        raise KeyError(exercise_id)

    def to_dict(self) -> dict:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "passed": sum(e.passed for e in self.exercises),
            "total": len(self.exercises),
            "target": self.target,
            "seed": self.seed,
            "duration": round(self.duration, 3),
            "complete": self.complete,
            "sandbox": self.sandbox,
            "integrity": {**self.integrity, "affected": sorted(self.integrity_affected)} if self.integrity else {},
            "exercises": [e.to_dict() for e in self.exercises],
        }


def confinement(sandbox: str) -> str:
    """The confinement of a run's grading processes (`RunResult.sandbox`), as a report says it."""
    if sandbox.startswith("landlock"):
        return f"Learner code ran confined by the kernel's sandbox ({sandbox.replace('landlock', 'Landlock')})."
    if sandbox.startswith("off"):
        return "The sandbox was off: learner code was not confined by the kernel (for debugging only)."
    if sandbox:
        reason = sandbox.partition("(")[2].rstrip(")") or "no Landlock"
        return f"Learner code was not confined by the kernel ({reason}); the grader's other defences held."
    return ""
