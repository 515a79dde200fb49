"""Run the checks of some exercises against a target, in child processes.

The learner's code is untrusted: it may hang, exit, crash the interpreter or print
without end. It therefore runs in a child; the parent only reads events. A child
that dies is reported against the check it was running, and the exercises that had
not started yet are graded in a new child. No result means no points.

Children are made by `fork()` where that is available and safe: the parent has
already imported torch, numpy and pytest, so each child costs a fraction of a second.
Elsewhere (Windows, macOS, or `KATA_START_METHOD=spawn`) each child is a fresh
interpreter: slower, same verdicts.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import ROOT
from .catalog import Exercise
from .config import DEFAULTS
from .plugin import describe_exit
from .results import CheckResult, ExerciseResult, RunResult

DEFAULT_TIMEOUT = DEFAULTS["timeout"]  # seconds per check
STARTUP_GRACE = 90.0  # a fresh interpreter imports torch and collects the checks
KILL_GRACE = 5.0  # past the per-check limit before the child is killed


def start_method() -> str:
    forced = os.environ.get("KATA_START_METHOD", "").strip().lower()
    if forced in ("fork", "spawn"):
        return forced
    if hasattr(os, "fork") and sys.platform.startswith("linux"):
        return "fork"
    return "spawn"


def warm_up() -> None:
    """Import what every child needs, once, in the parent (fork mode)."""
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import torch

    # the first optimizer pays for a lazy import of torch._dynamo
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


@dataclass
class _Child:
    events: "queue.Queue[dict | None]"
    pid: int | None = None
    popen: subprocess.Popen | None = None
    reader: threading.Thread | None = None

    def kill(self) -> None:
        """Kill the child and whatever it started (its own process group, where there are groups)."""
        pid = self.popen.pid if self.popen is not None else self.pid
        try:
            if hasattr(os, "killpg"):
                os.killpg(pid, signal.SIGKILL)
            elif self.popen is not None:
                self.popen.kill()
        except (ProcessLookupError, PermissionError, OSError):
            try:
                self.popen.kill() if self.popen is not None else os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, OSError):
                pass

    def wait(self) -> str:
        """Reap the child; describe how it ended."""
        if self.popen is not None:
            code = self.popen.wait()
        else:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        if self.reader is not None:
            self.reader.join(timeout=5)
        return describe_exit(code)


def check_from_event(event: dict) -> CheckResult:
    return CheckResult(
        name=event["check"],
        status=event["status"],
        message=event.get("message", ""),
        duration=event.get("duration", 0.0),
        not_implemented=event.get("not_implemented", False),
        load_error=event.get("load_error", False),
        location=event.get("location"),
        traceback=event.get("traceback", ""),
        output=event.get("output", ""),
    )


def _crashed(check: str, how: str) -> CheckResult:
    return CheckResult(name=check, status="crashed", message=(
        f"the Python process running this check {how}: your code ended or crashed the "
        "interpreter (`sys.exit()`, `os._exit()`, a segmentation fault, running out of memory). "
        "No result means no points."
    ))


def _read_events(stream, events: "queue.Queue[dict | None]") -> None:
    with stream:
        for line in stream:
            try:
                events.put(json.loads(line))
            except ValueError:
                continue
    events.put(None)


def _start_child(request: dict, method: str) -> _Child:
    events: queue.Queue = queue.Queue()
    if method == "fork":
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the parent's code
            try:
                os.setpgid(0, 0)  # its own group: a timeout kills the exercise processes it forks too
                os.close(read_fd)
                from . import child

                stream = os.fdopen(write_fd, "wb")
                child._silence_standard_streams()
                child.run(stream, request)
                stream.close()
            finally:
                os._exit(0)
        os.close(write_fd)
        handle = _Child(events, pid=pid)
        stream = os.fdopen(read_fd, "rb")
    else:
        popen = subprocess.Popen(
            [sys.executable, "-m", "grading.child", json.dumps(request)],
            cwd=str(ROOT),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=hasattr(os, "killpg"),
        )
        handle = _Child(events, popen=popen)
        stream = popen.stdout
    handle.reader = threading.Thread(target=_read_events, args=(stream, events), daemon=True)
    handle.reader.start()
    return handle


def grade(
    target: Path,
    exercises: list[Exercise],
    *,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int | None = None,
    method: str | None = None,
    on_progress=None,
) -> RunResult:
    """Grade `exercises` of `target`; always returns a result for every exercise."""
    progress = (lambda runs: on_progress(runs[0])) if on_progress else None
    return grade_many([target], exercises, seed=seed, timeout=timeout, memory_mb=memory_mb, method=method,
                      on_progress=progress)[0]


Work = tuple[int, Exercise]  # (index of the target, exercise)


def grade_many(
    targets: list[Path],
    exercises: list[Exercise],
    *,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int | None = None,
    method: str | None = None,
    on_progress=None,
) -> list[RunResult]:
    """Grade the same exercises of several targets (submissions, variants) in as few children
    as possible: the checks are collected once, and every (target, exercise) gets a process
    of its own. Returns one RunResult per target, in order."""
    method = method or start_method()
    started = time.perf_counter()
    runs = [RunResult(target=str(t), seed=seed, complete=False,
                      exercises=[ExerciseResult(ex.id, ex.title, ex.points) for ex in exercises]) for t in targets]
    results = {(i, e.id): e for i, run in enumerate(runs) for e in run.exercises}
    report = (lambda: on_progress(runs)) if on_progress else (lambda: None)
    report()  # a report exists from the start: a crash of the grader leaves zeros, not nothing
    if method == "fork":
        warm_up()
    inifile = ROOT / "pyproject.toml"
    for ex in exercises:
        if not ex.check_file.exists():
            for i in range(len(targets)):
                results[i, ex.id].error = f"the checks of {ex.id} are missing ({ex.check_file.name}): no result, no points"
    pending: list[Work] = [(i, ex) for i in range(len(targets)) for ex in exercises if ex.check_file.exists()]

    expected: dict[str, list[str]] = {}
    while pending:
        jobs: list[list] = []
        for i, ex in pending:  # consecutive exercises of one target form one job
            if jobs and jobs[-1][0] == i:
                jobs[-1][2].append(ex.id)
            else:
                jobs.append([i, str(targets[i]), [ex.id]])
        request = {
            "files": [str(ex.check_file) for ex in exercises if any(p[1] is ex for p in pending)],
            "target": jobs[0][1],
            "jobs": jobs,
            "seed": seed,
            "timeout": timeout,
            "memory_mb": memory_mb,
            "isolation": "fork" if method == "fork" else "restore",
            "inifile": str(inifile) if inifile.exists() else None,
        }
        child = _start_child(request, method)
        try:
            pending = _collect(child, pending, results, expected, timeout, report)
        except _ForkUnsafe:  # CUDA was initialized in this process: fresh interpreters instead
            child.wait()
            method = "spawn"
        except BaseException:  # Ctrl-C in the parent: never leave a child behind
            child.kill()
            child.wait()
            raise

    for (i, exercise_id), result in results.items():  # fail closed: every collected check owes a result
        names = expected.get(exercise_id, [])
        reported = {c.name for c in result.checks}
        missing = [n for n in names if n not in reported]
        charged = any(c.status in ("crashed", "timeout") for c in result.checks)
        if missing and not result.error and not charged:
            result.error = (f"{len(missing)} check(s) of this exercise never reported a result "
                            f"(the first: {missing[0]}): no result, no points")
    elapsed = time.perf_counter() - started
    for run in runs:
        run.duration = elapsed / len(runs)
        run.complete = True
    report()
    return runs


class _ForkUnsafe(Exception):
    """The child found that it cannot use CUDA after being forked from this process."""


def _collect(child: _Child, pending: list[Work], results: dict[tuple[int, str], ExerciseResult],
             expected: dict[str, list[str]], timeout: float, progress) -> list[Work]:
    """Read one child's events into `results`; return the work still to do."""
    current: tuple[int, str, str] | None = None  # (target, exercise, check) running now
    last: tuple[int, str, str] | None = None  # the last check that started
    ended_cleanly = timed_out = False
    deadline = time.monotonic() + STARTUP_GRACE
    while True:
        try:
            event = child.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            timed_out = True
            child.kill()
            break
        if event is None:
            break
        kind = event.get("event")
        key = (event.get("target", 0), event.get("exercise"))
        result = results.get(key)
        if kind == "fork_unsafe":
            raise _ForkUnsafe()
        if kind == "collected":
            expected.update(event["checks"])
        elif kind == "start":
            current = last = (*key, event["check"])
            deadline = time.monotonic() + timeout + KILL_GRACE
        elif kind == "result":
            if result is not None:
                result.checks.append(check_from_event(event))
                if len(result.checks) >= len(expected.get(result.id, ())):
                    progress()  # an exercise is complete: partial reports can be written
            current = None
            deadline = time.monotonic() + STARTUP_GRACE
        elif kind == "exercise_exit":  # an exercise's own process ended
            if current is not None and current[:2] == key:  # ... under a running check
                results[key].checks.append(_crashed(current[2], event["how"]))
                current = None
            elif result is not None and event.get("code", 1) != 0:
                result.error = (f"the process grading this exercise {event['how']} between checks; "
                                "its other checks did not run: no result, no points")
            progress()
        elif kind == "note":
            if result is not None and event["message"] not in result.notes:
                result.notes.append(event["message"])
        elif kind == "flag":
            if result is not None and event["message"] not in result.flags:
                result.flags.append(event["message"])
        elif kind == "collect_error":
            for (i, exercise_id), r in results.items():
                if exercise_id == event["exercise"]:
                    r.error = "the checks of this exercise could not be loaded:\n" + event.get("message", "")
        elif kind == "done":
            ended_cleanly = True
    how = child.wait()
    if ended_cleanly:
        return []
    if last is None:  # died before any check started: nothing will go better next time
        for i, ex in pending:
            results[i, ex.id].error = results[i, ex.id].error or (
                f"the grading process {how} before any check ran: no result, no points")
        return []
    i, exercise_id, check = current or last
    if current is None:
        results[i, exercise_id].error = (
            f"the grading process {how} after the check {check}; the rest of this exercise's checks did not run")
    elif timed_out:
        results[i, exercise_id].checks.append(CheckResult(name=check, status="timeout", message=(
            f"the check was still running after {timeout:g} s and was stopped: "
            "look for a loop that never ends or a computation much larger than it needs to be."
        )))
    else:
        results[i, exercise_id].checks.append(_crashed(check, how))
    # work before the one that died is complete; it is charged; the rest runs in a new child
    order = [(j, ex.id) for j, ex in pending]
    return pending[order.index((i, exercise_id)) + 1:] if (i, exercise_id) in order else []
