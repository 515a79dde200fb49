"""The pytest plugin object that turns each check's outcome into a plain event.

It runs inside the grading child. For every check it sends `start` when the check
begins (so a child that dies is blamed on the right exercise) and `result` when it
ends, with a message for the learner built from the exception object itself, never
from pytest's text output.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings

import pytest

from .events import FROM_EXERCISE, Channel, Lines, parse
from .processes import kill_descendants
from .targets import LOAD_NOTES, ExerciseLoadError, is_learner_file, learner_location

DRAIN_GRACE = 1.0  # seconds to read what an ended exercise process still had in its pipe

MESSAGE_LIMIT = 4000
OUTPUT_LIMIT = 2000


def exercise_of(nodeid: str) -> str:
    """`checks/test_ex03_sgd_step.py::test_x[a]` -> `ex03_sgd_step`."""
    filename = nodeid.split("::", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    return filename.removeprefix("test_").removesuffix(".py")


def check_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


def _cut(text: str, limit: int) -> str:
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
_PASS_THROUGH = (KeyboardInterrupt, pytest.exit.Exception)


@contextlib.contextmanager
def _time_limit(seconds: float | None):
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


class _Output(io.TextIOBase):
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


def _learner_traceback(excinfo) -> str:
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
    info = {"status": "error", "not_implemented": False, "load_error": False, "location": None}
    if isinstance(exc, ExerciseLoadError):
        info.update(message=str(exc), load_error=True, location=exc.location)
        return info
    if _is_timeout(exc):
        info.update(status="timeout", message=f"the check did not finish in time ({exc.msg}): "
                    "look for a loop that never ends or a computation much larger than it needs to be.")
        return info
    location = learner_location(excinfo.tb)
    info["location"] = location
    if isinstance(exc, AssertionError):
        info.update(status="failed", message=str(exc) or "the check failed (no further explanation)")
        return info
    if isinstance(exc, NotImplementedError) and location:
        info.update(
            not_implemented=True,
            message=f"not started: the function still raises NotImplementedError ({location}). "
            "Replace the `raise NotImplementedError` with your implementation.",
        )
        return info
    if isinstance(exc, MemoryError) or "can't allocate memory" in str(exc):
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


def describe_exit(code: int) -> str:
    if code < 0:
        import signal

        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@contextlib.contextmanager
def scratch_folder(root: str | None):
    """A throwaway working folder for the learner's code (inside `root`, which the grader removes
    at the end): files it writes with relative paths land there, not in the grader's folder."""
    path = tempfile.mkdtemp(prefix="work-", dir=root)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux, or an older kernel
        return None


class Collector:
    """Streams `start` and `result` events through `emit(dict)`.

    With `isolation="fork"`, each exercise's checks run in a process of their own
    (forked after collection), so whatever a learner's module changes at import or call
    time (grad mode, monkeypatched torch functions, builtins) dies with it. With
    `isolation="submission"`, each target's exercises share a forked process, and with
    `isolation="restore"` (no fork available) they run in this one: `grading.restore` puts
    the process's state back after every exercise.
    """

    def __init__(self, emit, isolation: str | None = None, jobs=None, timeout: float | None = None,
                 channel: Channel | None = None, scratch: str | None = None):
        self._emit = emit
        self._channel = channel  # where `emit` writes, where exercises get processes of their own
        self.scratch = scratch  # the folder that holds each exercise's throwaway working folder
        self.collected: dict[str, list[str]] = {}
        self.isolation = isolation
        self.timeout = timeout  # seconds per check, where this plugin runs the checks itself
        self.jobs = jobs  # [[target index, target path, [exercise ids]], ...]: several targets in one run
        self.context: dict = {}  # added to every event: which target is being graded
        self.target_path: str | None = None
        self._outcomes: dict[str, dict] = {}
        self._running: str | None = None
        self._flagged: set[str] = set()
        self._noted: set[tuple[str, str]] = set()

    def emit(self, event: dict) -> None:
        self._emit({**event, **self.context})

    def flag_solution_read(self, path: str, how: str = "read") -> None:
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        if name.endswith(".pyc"):  # __pycache__/ex03_sgd_step.cpython-311.pyc -> ex03_sgd_step.py
            name = name.split(".", 1)[0] + ".py"
        self.flag(f"the code of this exercise {how} the reference solution solutions/{name}.")

    def flag(self, message: str) -> None:
        """An integrity problem of the exercise running now (once per exercise)."""
        exercise = self._running
        if exercise is None or exercise in self._flagged:
            return
        self._flagged.add(exercise)
        self.emit({"event": "flag", "exercise": exercise, "message": message})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.failed and call.excinfo is not None:
            info = describe(call.excinfo)
            info["traceback"] = _cut(_learner_traceback(call.excinfo), MESSAGE_LIMIT)
            self._outcomes.setdefault(item.nodeid, info)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        if self.isolation is None or session.config.option.collectonly:
            return None  # pytest's own loop
        by_exercise = {ex: list(group) for ex, group in
                       itertools.groupby(session.items, key=lambda item: exercise_of(item.nodeid))}
        jobs = self.jobs or [[0, None, list(by_exercise)]]
        import gc

        gc.freeze()  # the collected checks live as long as this process: out of the collector's way
        if self.isolation in ("submission", "restore"):
            from .restore import Headroom, Snapshot

            self._snapshot = Snapshot()  # before any learner's code ran here; put back after every exercise
            room = Headroom()
        left = sum(1 for _, _, exercises in jobs for ex in exercises if by_exercise.get(ex))
        for index, target, exercises in jobs:
            self.context = {"target": index}
            self.target_path = target
            if target is not None:
                from pathlib import Path

                from .targets import set_graded

                session.config.kata_target = Path(target)
                set_graded(session.config.kata_target)
            if self.isolation == "submission":
                todo = [ex for ex in exercises if by_exercise.get(ex)]
                while todo:
                    todo = todo[self._run_submission_forked(todo, by_exercise):]
                continue
            for exercise in exercises:
                items = by_exercise.get(exercise)
                if not items:
                    continue
                left -= 1
                if self.isolation == "fork":
                    self._run_forked(exercise, items)
                    continue
                try:
                    self._run_exercise(items)
                finally:
                    self._snapshot.restore()
                # memory this process cannot give back, or threads of the learner's still running: the
                # rest in a fresh one
                if left and (room.spent() or self._snapshot.threads_left()):
                    self.emit({"event": "yield", "exercise": exercise})
                    self.context = {}
                    return True
        self.context = {}
        return True

    def _run_exercise(self, items) -> None:
        """One exercise's checks, with the learner's code in a throwaway working folder."""
        if self.scratch is None:
            self._run_items(items)
            return
        with scratch_folder(self.scratch) as folder:
            previous = os.getcwd()
            os.chdir(folder)
            try:
                self._run_items(items)
            finally:
                os.chdir(previous)

    def _in_exercise_process(self, work, exercises: list[str]) -> int:
        """Run `work()` in a forked process of its own, which writes its events to a pipe of its
        own: this process reads them and passes on only what that process may say (see
        `grading.events`). Returns the process's exit code, once it and whatever it started
        have ended."""
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the exercise process: never returns into the caller
            code = 0
            try:
                os.close(read_fd)
                if self._channel is not None:
                    self._channel.move_to(write_fd)
                else:  # events go where `emit` sends them (a plugin used on its own)
                    os.close(write_fd)
                work()
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        os.close(write_fd)
        return self._relay(read_fd, pid, set(exercises))

    def _relay(self, fd: int, pid: int, exercises: set[str]) -> int:
        lines, seen = Lines(), set()
        pidfd = _pidfd(pid)
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        status = drain_until = None
        try:
            while True:
                if status is None:
                    wait = None if pidfd is not None else 50
                else:
                    wait = max(0, int((drain_until - time.monotonic()) * 1000))
                ended = False
                for ready, _ in poller.poll(wait):
                    if ready == fd:
                        data = os.read(fd, 65536)
                        if not data:
                            ended = True
                            break
                        for line in lines.feed(data):
                            self._pass_on(line, exercises, seen)
                if ended:
                    break
                if status is None:
                    done, code = os.waitpid(pid, os.WNOHANG)
                    if done:
                        status = code
                        if pidfd is not None:
                            poller.unregister(pidfd)
                        kill_descendants()  # what it left running holds the pipe open
                        drain_until = time.monotonic() + DRAIN_GRACE
                elif time.monotonic() >= drain_until:
                    break
        finally:
            os.close(fd)
            if pidfd is not None:
                os.close(pidfd)
        if status is None:
            _, status = os.waitpid(pid, 0)
            kill_descendants()
        return os.waitstatus_to_exitcode(status)

    def _pass_on(self, line: bytes, exercises: set[str], seen: set) -> None:
        """Pass on one line of an exercise process, if it is an event that process may send:
        about its own exercises, a collected check, each start and result once."""
        event = parse(line)
        if event is None or event["event"] not in FROM_EXERCISE or event["exercise"] not in exercises:
            return
        kind, exercise = event["event"], event["exercise"]
        if kind in ("start", "result"):
            check = event["check"]
            if check.removesuffix(" (teardown)") not in self.collected.get(exercise, ()):
                return
            if (kind, exercise, check) in seen:
                return
            seen.add((kind, exercise, check))
        event.pop("target", None)
        self.emit(event)

    def _run_items(self, items) -> None:
        for i, item in enumerate(items):
            nextitem = items[i + 1] if i + 1 < len(items) else None
            outcome = self._run_check(item, nextitem)
            if outcome.get("load_error"):
                # the module cannot be loaded: every other check would fail the same way, so say so at once
                for rest in items[i + 1:]:
                    self.emit({
                        "event": "result", "exercise": exercise_of(rest.nodeid), "check": check_name(rest.nodeid),
                        "status": "error", "duration": 0.0, "message": outcome["message"],
                        "load_error": True, "location": outcome.get("location"),
                    })
                self._tear_down_all(item)
                return
            if outcome.get("status") == "timeout":
                # one check that never ends is enough: don't make the learner wait for every other one
                for rest in items[i + 1:]:
                    self.emit({
                        "event": "result", "exercise": exercise_of(rest.nodeid), "check": check_name(rest.nodeid),
                        "status": "error", "duration": 0.0,
                        "message": f"not run: the check {check_name(item.nodeid)} of this exercise ran out of time.",
                    })
                self._tear_down_all(item)
                return

    @staticmethod
    def _tear_down_all(item) -> None:
        """After the rest of an exercise was skipped: leave no fixture of it set up, for the next
        exercise graded in this process."""
        try:
            item.ihook.pytest_runtest_teardown(item=item, nextitem=None)
        except _PASS_THROUGH:
            raise
        except BaseException:
            pass

    def _run_check(self, item, nextitem) -> dict:
        """Run one check and emit its events; returns what went wrong ({} when it passed).

        pytest's own setup, call and teardown hooks run the check, so fixtures behave as
        always; what is left out is pytest's report objects and failure text, which cost
        more than most checks do. The learner's output and warnings are kept, and the
        time limit is the grader's own."""
        nodeid = item.nodeid
        exercise, name = exercise_of(nodeid), check_name(nodeid)
        self._running = exercise
        self.emit({"event": "start", "exercise": exercise, "check": name})
        output = _Output(OUTPUT_LIMIT)
        streams = sys.stdout, sys.stderr
        outcome: dict = {}
        teardown: dict = {}
        if hasattr(item, "_request") and not item._request:
            item._initrequest()  # fresh fixture values: the same check may run again for another target
        started = time.perf_counter()
        sys.stdout = sys.stderr = output
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    with _time_limit(self.timeout):
                        item.ihook.pytest_runtest_setup(item=item)
                        item.ihook.pytest_runtest_call(item=item)
                except _PASS_THROUGH:
                    raise
                except BaseException:
                    outcome = self._failure()
                duration = time.perf_counter() - started
                try:
                    with _time_limit(self.timeout):
                        item.ihook.pytest_runtest_teardown(item=item, nextitem=nextitem)
                except _PASS_THROUGH:
                    raise
                except BaseException:
                    teardown = self._failure()
        finally:
            sys.stdout, sys.stderr = streams
            if hasattr(item, "_request"):  # as pytest does: the check's fixture values go with it
                item._request = False
                item.funcargs = None
        for w in caught:  # the learner's own warnings are worth seeing; the checks' are not theirs
            if is_learner_file(w.filename):
                output.write(f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n")
        self.emit({
            "event": "result", "exercise": exercise, "check": name,
            "status": outcome.get("status", "passed"),
            "message": _cut(outcome.get("message", ""), MESSAGE_LIMIT),
            "duration": duration,
            "not_implemented": outcome.get("not_implemented", False),
            "load_error": outcome.get("load_error", False),
            "location": outcome.get("location"),
            "traceback": outcome.get("traceback", ""),
            "output": output.text(),
        })
        if teardown:
            self.emit({"event": "result", "exercise": exercise, "check": name + " (teardown)",
                       "status": teardown["status"], "duration": 0.0,
                       "message": _cut(teardown["message"], MESSAGE_LIMIT)})
        for note in LOAD_NOTES.pop(exercise, []):
            if (exercise, note) not in self._noted:
                self._noted.add((exercise, note))
                self.emit({"event": "note", "exercise": exercise, "message": note})
        return outcome

    @staticmethod
    def _failure() -> dict:
        """The learner's message for the exception being handled."""
        excinfo = pytest.ExceptionInfo.from_current()
        if isinstance(excinfo.value, pytest.skip.Exception):
            return {"status": "error", "message": "the check was skipped: no verdict means no points"}
        info = describe(excinfo)
        info["traceback"] = _cut(_learner_traceback(excinfo), MESSAGE_LIMIT)
        return info

    def _run_submission_forked(self, exercises: list[str], by_exercise) -> int:
        """Run `exercises` one after the other in one forked process, undoing between them what
        an exercise changed (as where there is no fork). Returns how many of them are done: all;
        or up to the one during which the process died; or, where an exercise left the process
        holding memory it cannot give back, up to that one. The caller gives the rest a new one."""
        import mmap
        import struct

        from .restore import Headroom

        shared = mmap.mmap(-1, 16)  # shared with the child: the exercise it is in, and whether it stopped

        def run_all() -> None:
            room = Headroom()
            for n, exercise in enumerate(exercises):
                shared[:8] = struct.pack("q", n)
                last = n + 1 == len(exercises)
                try:
                    self._run_exercise(by_exercise[exercise])
                finally:
                    if not last:  # after the last one, the process ends
                        self._snapshot.restore()
                # the next exercise deserves its whole allowance, and a process no thread of the learner's can change
                if not last and (room.spent() or self._snapshot.threads_left()):
                    shared[:16] = struct.pack("qq", n + 1, 1)
                    return
            shared[:8] = struct.pack("q", len(exercises))

        code = self._in_exercise_process(run_all, exercises)
        n, stopped = struct.unpack("qq", shared[:16])
        shared.close()
        for exercise in exercises[:n]:  # finished in that process
            self.emit({"event": "exercise_exit", "exercise": exercise, "how": describe_exit(0), "code": 0})
        if n < len(exercises) and not (stopped and code == 0):  # it died during this one, which is charged with it
            self.emit({"event": "exercise_exit", "exercise": exercises[n], "how": describe_exit(code),
                       "code": code if code != 0 else 1})
            return n + 1
        return n

    def _run_forked(self, exercise: str, items) -> None:
        code = self._in_exercise_process(lambda: self._run_exercise(items), [exercise])
        # always said: a learner's os._exit(0) ends the process as "cleanly" as finishing does
        self.emit({"event": "exercise_exit", "exercise": exercise, "how": describe_exit(code), "code": code})

    def pytest_collection_finish(self, session):
        collected: dict[str, list[str]] = {}
        for item in session.items:
            collected.setdefault(exercise_of(item.nodeid), []).append(check_name(item.nodeid))
        self.collected = collected
        self.emit({"event": "collected", "checks": collected})

    def pytest_runtest_logstart(self, nodeid, location):
        self._running = exercise_of(nodeid)
        self.emit({"event": "start", "exercise": exercise_of(nodeid), "check": check_name(nodeid)})

    def pytest_runtest_logfinish(self, nodeid, location):
        exercise = exercise_of(nodeid)
        for note in LOAD_NOTES.pop(exercise, []):
            if (exercise, note) not in self._noted:
                self._noted.add((exercise, note))
                self.emit({"event": "note", "exercise": exercise, "message": note})

    def pytest_runtest_logreport(self, report):
        # one result per check: the call phase, or the phase that failed first
        if report.when == "call" or (report.failed and report.when == "setup"):
            info = self._outcomes.get(report.nodeid, {})
            if report.passed:
                status, message = "passed", ""
            elif report.skipped:
                status, message = "error", "the check was skipped: no verdict means no points"
            else:
                status, message = info.get("status", "error"), info.get("message", "the check failed")
            output = "".join(content for name, content in report.sections if "stdout" in name or "stderr" in name)
            self.emit({
                "event": "result",
                "exercise": exercise_of(report.nodeid),
                "check": check_name(report.nodeid),
                "status": status,
                "message": _cut(message, MESSAGE_LIMIT),
                "duration": report.duration,
                "not_implemented": info.get("not_implemented", False),
                "load_error": info.get("load_error", False),
                "location": info.get("location"),
                "traceback": info.get("traceback", ""),
                "output": _cut(output, OUTPUT_LIMIT),
            })
        elif report.failed and report.when == "teardown":
            info = self._outcomes.get(report.nodeid, {})
            self.emit({
                "event": "result",
                "exercise": exercise_of(report.nodeid),
                "check": check_name(report.nodeid) + " (teardown)",
                "status": info.get("status", "error"),
                "message": _cut(info.get("message", "the check failed while cleaning up"), MESSAGE_LIMIT),
                "duration": report.duration,
            })

    def pytest_collectreport(self, report):
        if report.failed:
            self.emit({
                "event": "collect_error",
                "exercise": exercise_of(report.nodeid),
                "message": _cut(str(report.longrepr), MESSAGE_LIMIT),
            })
