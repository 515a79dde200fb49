"""What a check's outcome says to the learner: built from the exception object, never from
pytest's text output.

`describe(excinfo)` gives the status, the learner's message, where in the learner's file it
happened, and the known mistake it is: a check that recognises a mistake fails with an assertion
whose message object (or the exception itself) has `mistake_id` and `mistake_title`. Also here:
the grader's own time limit per check (`time_limit`, raising `CheckTimeout`, which a learner's
`except Exception:` cannot swallow), and the bounded capture of what the learner's code prints.
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import threading
import traceback

import pytest

from grading.core.mistakes import mistake_of
from grading.core.results import CheckStatus
from grading.engine.targets import ExerciseLoadError, is_learner_file, learner_location

MESSAGE_LIMIT = 4000
OUTPUT_LIMIT = 2000


def cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... ({len(text) - limit} more characters cut)"


class CheckTimeout(BaseException):
    """Raised inside a check that ran past its time limit. A BaseException, so that the
    learner's `except Exception:` cannot swallow it."""

    def __init__(self, seconds: float):
        super().__init__(f"it ran for more than {seconds:g} s")
        self.msg = f"more than {seconds:g} s"


# what a check must never swallow: Ctrl-C, and pytest.exit
PASS_THROUGH = (KeyboardInterrupt, pytest.exit.Exception)


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise CheckTimeout in the running check after `seconds`. Where there is no SIGALRM
    (Windows), the parent process stops the child instead, a little later."""
    if not seconds or not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise CheckTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Output(io.TextIOBase):
    """Where the learner's prints go during a check: the first `limit` characters are kept,
    the rest only counted, so that printing without end costs no memory."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        out = "".join(self.parts)
        return out + (f"\n... ({self.dropped} more characters cut)" if self.dropped else "")


def _is_timeout(exc: BaseException) -> bool:
    # the grader's own limit, or pytest-timeout's pytest.fail("Timeout >Ns") where pytest runs the checks
    return isinstance(exc, CheckTimeout) or (
        isinstance(exc, pytest.fail.Exception) and str(exc.msg).startswith("Timeout"))


def learner_traceback(excinfo) -> str:
    """The frames of the traceback from the learner's code on, without pytest's."""
    entries = []
    tb = excinfo.tb
    while tb is not None:
        entries.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    names = [frame.f_code.co_filename for frame, _ in entries]
    first = next((i for i, name in enumerate(names) if is_learner_file(name)), None)
    if first is None:
        first = next((i for i, name in enumerate(names) if "/checks/" in name.replace("\\", "/")), 0)
    # only the frames shown are looked up (pytest's own are many, and reading them costs more than a check)
    lines = traceback.format_list(traceback.StackSummary.extract(iter(entries[first:])))
    lines += traceback.format_exception_only(excinfo.type, excinfo.value)
    return "".join(lines)


def describe(excinfo) -> dict:
    """Status and learner's message for a check that did not pass."""
    exc = excinfo.value
    info = {"status": CheckStatus.ERROR, "not_implemented": False, "load_error": False, "location": None,
            "mistake": None, "mistake_title": None}
    if isinstance(exc, ExerciseLoadError):
        info.update(message=str(exc), load_error=True, location=exc.location)
        return info
    if _is_timeout(exc):
        info.update(status=CheckStatus.TIMEOUT, message=f"the check did not finish in time ({exc.msg}): "
                    "look for a loop that never ends or a computation much larger than it needs to be.")
        return info
    location = learner_location(excinfo.tb)
    info["location"] = location
    if isinstance(exc, AssertionError):
        info.update(status=CheckStatus.FAILED, message=str(exc) or "the check failed (no further explanation)")
        info.update(mistake_fields(exc))
        return info
    if isinstance(exc, NotImplementedError) and location:
        info.update(
            not_implemented=True,
            message=f"not started: the function still raises NotImplementedError ({location}). "
            "Replace the `raise NotImplementedError` with your implementation.",
        )
        return info
    if isinstance(exc, MemoryError) or re.search(r"(?i)can(?:'|no)t allocate memory", str(exc)):
        info["message"] = (f"your code ran out of memory ({location or 'while the check ran'}): it asked for more "
                           "than the memory allowed per exercise. Look for a tensor or list far larger than the "
                           "inputs need.")
        return info
    first_line = (str(exc).strip().splitlines() or [""])[0]
    text = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    if location:
        info["message"] = f"your code raised {text} ({location})"
    else:
        info["message"] = f"the check could not use what your code returned: {text}"
    return info




def mistake_fields(exc: BaseException) -> dict:
    """The known mistake an assertion names: {"mistake": id, "mistake_title": title}, or nothing."""
    holder = mistake_of(exc)
    if holder is None:
        return {}
    title = getattr(holder, "mistake_title", None)
    return {"mistake": holder.mistake_id, "mistake_title": title if isinstance(title, str) else None}


def describe_current() -> dict:
    """`describe()` for the exception being handled, with the learner's part of its traceback."""
    excinfo = pytest.ExceptionInfo.from_current()
    if isinstance(excinfo.value, pytest.skip.Exception):
        return {"status": CheckStatus.ERROR, "message": "the check was skipped: no verdict means no points"}
    info = describe(excinfo)
    info["traceback"] = cut(learner_traceback(excinfo), MESSAGE_LIMIT)
    return info
