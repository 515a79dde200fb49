"""The messages between the grading processes, and how every one of them is checked.

    grader (grading.runner)  <- one JSON line per event -  lane (grading.child)
    lane                     <- one JSON line per event -  exercise process (grading.plugin)

A lane collects the checks and forks a process per exercise (or per submission); the learner's
code runs only in those. Each exercise process writes its events to a pipe of its own, which the
lane reads: the lane passes on only what that process may say (its own exercises, checks that
were collected, each result once) and adds which submission it belongs to itself. The grader
checks every line again against what it gave the lane. A line that is not a well-formed event
of the right kind is dropped, never trusted and never fatal.

Where there is no fork, the learner's code runs in the lane itself, which grades one submission:
what it could forge there concerns that submission only.

Events (every one a JSON object with "event" naming its kind):

| kind | fields | sent by |
|---|---|---|
| collected | checks: {exercise: [check, ...]} | lane, once, before any learner's code runs |
| collect_error | exercise, message | lane |
| start | exercise, check | exercise process: a check begins |
| result | exercise, check, status (a CHECK_STATUSES), message, duration, not_implemented, load_error, location, traceback, output | exercise process |
| note | exercise, message | exercise process: how the answer was found |
| flag | exercise, message | exercise process: an integrity problem (a read of the solutions) |
| exercise_exit | exercise, how, code | lane: the process grading that exercise ended |
| yield | exercise | the lane stopped after this exercise; a new one grades the rest |
| done | | lane: all its work is done |
| fork_unsafe | | lane: CUDA was initialized before the fork; grade again in fresh interpreters |

Every event of an exercise also carries "target", the index of the submission, added by the lane.
"""

from __future__ import annotations

import json
import math
import os

from .results import CHECK_STATUSES

_TEXT_LIMIT = 20_000  # longer texts are cut, never trusted to be small

# kind -> {field: type}; "target" is allowed on every kind
_FIELDS: dict[str, dict[str, type | tuple]] = {
    "collected": {"checks": dict},
    "collect_error": {"exercise": str, "message": str},
    "start": {"exercise": str, "check": str},
    "result": {"exercise": str, "check": str, "status": str, "message": str, "duration": (int, float),
               "not_implemented": bool, "load_error": bool, "location": (str, type(None)),
               "traceback": str, "output": str},
    "note": {"exercise": str, "message": str},
    "flag": {"exercise": str, "message": str},
    "exercise_exit": {"exercise": str, "how": str, "code": int},
    "yield": {"exercise": str},
    "done": {},
    "fork_unsafe": {},
}
_REQUIRED = {
    "collected": ("checks",), "collect_error": ("exercise",), "start": ("exercise", "check"),
    "result": ("exercise", "check", "status"), "note": ("exercise", "message"), "flag": ("exercise", "message"),
    "exercise_exit": ("exercise", "how", "code"), "yield": ("exercise",), "done": (), "fork_unsafe": (),
}
KINDS = frozenset(_FIELDS)
# what an exercise process may say: the lane says the rest
FROM_EXERCISE = frozenset({"start", "result", "note", "flag"})


def encode(event: dict) -> bytes:
    return (json.dumps(event) + "\n").encode()


def parse(line: bytes | str) -> dict | None:
    """The event on one line, checked for its shape; None for anything else."""
    try:
        event = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return event if valid(event) else None


def valid(event) -> bool:
    """Whether `event` is a well-formed event: a known kind, its required fields, every field of
    the right type, texts of bounded length, a known check status."""
    if not isinstance(event, dict):
        return False
    kind = event.get("event")
    if kind not in _FIELDS:
        return False
    fields = _FIELDS[kind]
    if any(name not in event for name in _REQUIRED[kind]):
        return False
    for name, value in event.items():
        if name == "event":
            continue
        if name == "target":
            if type(value) is not int or value < 0:
                return False
            continue
        expected = fields.get(name)
        if expected is None:
            return False
        if isinstance(value, bool) and expected in (int, (int, float)):
            return False
        if not isinstance(value, expected):
            return False
        if isinstance(value, str) and len(value) > _TEXT_LIMIT:
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
    if kind == "result" and event["status"] not in CHECK_STATUSES:
        return False
    if kind == "collected":
        checks = event["checks"]
        if not all(isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v)
                   for k, v in checks.items()):
            return False
    return True


class Channel:
    """Where a process writes its events: the write end of a pipe, as a file descriptor."""

    def __init__(self, fd: int):
        self.fd = fd

    def send(self, event: dict) -> None:
        data = memoryview(encode(event))
        while data:
            data = data[os.write(self.fd, data):]

    def move_to(self, fd: int) -> None:
        """Write to `fd` from now on; the old pipe is closed in this process (a process forked to
        run a learner's code keeps no way to write to its lane's pipe)."""
        old, self.fd = self.fd, fd
        os.close(old)


class Lines:
    """Splits what a pipe delivers into lines; a line longer than `limit` is dropped whole."""

    def __init__(self, limit: int = 4 * _TEXT_LIMIT + 65536):
        self.limit, self.partial, self.overlong = limit, b"", False

    def feed(self, data: bytes) -> list[bytes]:
        *lines, rest = (self.partial + data).split(b"\n")
        if self.overlong and lines:  # the end of a line that was too long
            lines, self.overlong = lines[1:], False
        if len(rest) > self.limit:
            rest, self.overlong = b"", True
        self.partial = rest
        return lines
