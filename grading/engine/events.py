"""The messages between the grading processes: one dataclass per kind, and how each is checked.

    grader (grading.engine.runner, grading.engine.lane)  <- JSON lines -  lane (grading.engine.child)
    lane (grading.engine.plugin)                  <- JSON lines -  exercise process (grading.engine.plugin)

A lane collects the checks and forks a process per exercise (or per submission); the learner's
code runs only in those. Each exercise process writes its events to a pipe of its own, which the
lane reads: the lane passes on only what that process may say (`FROM_EXERCISE`: its own
exercises, checks that were collected, each start and result once) and sets which submission it
belongs to itself. The grader checks every event again against what it gave the lane. A line
that is not a well-formed event of a known kind is dropped, never trusted and never fatal.

Where there is no fork, the learner's code runs in the lane itself, which grades one submission:
what it could forge there concerns that submission only.

| event | fields | sent by |
|---|---|---|
| Collected | checks: {exercise: [check, ...]} | lane, once, before any learner's code runs |
| CollectError | exercise, message | lane: a check file could not be loaded |
| Start | exercise, check | exercise process: a check begins (the grader times it) |
| Result | exercise, result (a CheckResult: check, status, message, ...) | exercise process: a check's outcome |
| Note | exercise, message | exercise process: how the answer was found (notebooks) |
| Flag | exercise, message | exercise process: an integrity problem (a read of the solutions) |
| Compiling | exercise, check | exercise process: torch.compile began compiling (the limits stop counting) |
| Compiled | exercise, check | exercise process: ... and ended (see `grading.engine.compiling`) |
| Graph | exercise, check, data | exercise process: the autograd graph a check saw (`--graph`; `grading.core.graph_data`) |
| ExerciseExit | exercise, how, code | lane: the process grading that exercise ended |
| Yield | exercise | lane: it stopped after this exercise; a new lane grades the rest |
| Done | | lane: all its work is done |
| ForkUnsafe | | lane: CUDA was initialized before the fork; grade again in fresh interpreters |

Every event about an exercise carries `target`, the index of the submission it belongs to.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import ClassVar

from grading.core.results import CheckResult

TEXT_LIMIT = 20_000  # a longer text is not an event of ours


@dataclass
class Event:
    kind: ClassVar[str] = ""

    def to_json(self) -> bytes:
        return (json.dumps({"event": self.kind, **self.__dict__}) + "\n").encode()

    def about(self, target: int) -> "Event":
        """This event, now about submission `target` (events are made to be sent once)."""
        if "target" in self.__dict__:
            self.target = target
        return self


@dataclass
class Collected(Event):
    kind: ClassVar[str] = "collected"
    checks: dict = field(default_factory=dict)


@dataclass
class CollectError(Event):
    kind: ClassVar[str] = "collect_error"
    exercise: str
    message: str = ""
    target: int = 0


@dataclass
class _AboutCheck(Event):
    exercise: str
    check: str
    target: int = 0


@dataclass
class Start(_AboutCheck):
    kind: ClassVar[str] = "start"


@dataclass
class Result(Event):
    """A check's outcome: the one results type (`CheckResult`), with the exercise and submission it
    belongs to. On the pipe: {"event": "result", "exercise": ..., "target": ..., "result": {...}}."""
    kind: ClassVar[str] = "result"
    exercise: str
    result: CheckResult
    target: int = 0

    @property
    def check(self) -> str:
        return self.result.name

    def to_json(self) -> bytes:
        return (json.dumps({"event": self.kind, "exercise": self.exercise, "target": self.target,
                            "result": self.result.to_json()}) + "\n").encode()


@dataclass
class _AboutExercise(Event):
    exercise: str
    message: str
    target: int = 0


@dataclass
class Note(_AboutExercise):
    kind: ClassVar[str] = "note"  # how the answer was found


@dataclass
class Flag(_AboutExercise):
    kind: ClassVar[str] = "flag"  # an integrity problem


@dataclass
class Compiling(_AboutCheck):
    kind: ClassVar[str] = "compiling"  # the time from here to `Compiled` is compiling's, not the check's


@dataclass
class Compiled(Compiling):
    kind: ClassVar[str] = "compiled"


@dataclass
class Graph(Event):
    kind: ClassVar[str] = "graph"
    exercise: str
    check: str
    data: dict = field(default_factory=dict)  # checked again by `grading.core.graph_data.clean`
    target: int = 0


@dataclass
class ExerciseExit(Event):
    kind: ClassVar[str] = "exercise_exit"
    exercise: str
    how: str
    code: int
    target: int = 0


@dataclass
class Yield(Event):
    kind: ClassVar[str] = "yield"
    exercise: str
    target: int = 0


@dataclass
class Done(Event):
    kind: ClassVar[str] = "done"


@dataclass
class ForkUnsafe(Event):
    kind: ClassVar[str] = "fork_unsafe"


KINDS: dict[str, type[Event]] = {cls.kind: cls for cls in
                                 (Collected, CollectError, Start, Result, Note, Flag, Compiling, Compiled, Graph,
                                  ExerciseExit, Yield, Done, ForkUnsafe)}
# what an exercise process may say: the lane says the rest
FROM_EXERCISE = (Start, Result, Note, Flag, Compiling, Compiled, Graph)

_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "dict": dict, "str | None": (str, type(None)),
          "CheckResult": dict}  # a Result's result arrives as its JSON, made a CheckResult by `parse`
_FIELDS = {cls: {f.name: _TYPES[f.type] for f in dataclasses.fields(cls)} for cls in KINDS.values()}


def parse(line: bytes | str) -> Event | None:
    """The event on one line, checked for its shape; None for anything else."""
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    cls = KINDS.get(data.pop("event", None))
    if cls is None:
        return None
    fields = _FIELDS[cls]
    for name, value in data.items():
        expected = fields.get(name)
        if expected is None or not _fits(value, expected):
            return None
    if cls is Result and "result" in data:
        if any(isinstance(v, str) and len(v) > TEXT_LIMIT or isinstance(v, float) and not math.isfinite(v)
               for v in data["result"].values()):  # each text within the limit, each number finite
            return None
        try:
            data["result"] = CheckResult.from_json(data["result"])
        except ValueError:
            return None
    try:
        event = cls(**data)  # a required field missing raises
    except TypeError:
        return None
    if isinstance(event, Collected) and not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v)
            for k, v in event.checks.items()):
        return None
    if getattr(event, "target", 0) < 0:
        return None
    return event


def _fits(value, expected) -> bool:
    if isinstance(value, bool) and expected is not bool:
        return False  # JSON true is not a number here
    if not isinstance(value, expected):
        return False
    if isinstance(value, str) and len(value) > TEXT_LIMIT:
        return False
    return not (isinstance(value, float) and not math.isfinite(value))


class Channel:
    """Where a process writes its events: the write end of a pipe, as a file descriptor."""

    def __init__(self, fd: int):
        self.fd = fd

    def send(self, event: Event) -> None:
        data = memoryview(event.to_json())
        while data:
            data = data[os.write(self.fd, data):]

    def move_to(self, fd: int) -> None:
        """Write to `fd` from now on; the old pipe is closed in this process (a process forked to
        run a learner's code keeps no way to write to its lane's pipe)."""
        old, self.fd = self.fd, fd
        if old is not None:
            os.close(old)

    def close(self) -> None:
        """Close the pipe (its reader sees its end); `move_to` gives it a new one."""
        old, self.fd = self.fd, None
        if old is not None:
            os.close(old)


class Lines:
    """Splits what a pipe delivers into lines; a line longer than `limit` is dropped whole."""

    def __init__(self, limit: int = 4 * TEXT_LIMIT + 65536):
        self.limit, self.partial, self.overlong = limit, b"", False

    def feed(self, data: bytes) -> list[bytes]:
        *lines, rest = (self.partial + data).split(b"\n")
        if self.overlong and lines:  # the end of a line that was too long
            lines, self.overlong = lines[1:], False
        if len(rest) > self.limit:
            rest, self.overlong = b"", True
        self.partial = rest
        return lines
