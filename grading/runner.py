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

import contextlib
import gc
import itertools
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


def warm_up(optimizer: bool = True) -> None:
    """Import what every child needs, once, in the parent (fork mode); with `optimizer`, also
    build one optimizer, whose lazy import of torch._dynamo (half a second) the checks of some
    exercises need.

    The imports create about a million objects, all of which live as long as the process.
    The cyclic garbage collector would walk them several times while they are being
    created (a third of a second spent finding nothing), so it waits until the imports are
    done; then they are frozen out of its reach, so that a collection in a forked child
    neither walks them nor writes to (and so copies) the memory pages they share with the
    parent."""
    with _collector_paused():
        import numpy  # noqa: F401
        import pytest  # noqa: F401
        import torch  # noqa: F401

        if optimizer:
            warm_optimizers()
    gc.freeze()


def warm_optimizers() -> None:
    """Build one optimizer: the first one in a process imports torch._dynamo (half a second),
    which every process forked from this one then inherits."""
    import torch

    with _collector_paused():
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


@contextlib.contextmanager
def _collector_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def _read_events(stream, events: "queue.Queue", tag) -> None:
    """Put every event of one child on `events` as (tag, event), then (tag, None) at its end."""
    with stream:
        for line in stream:
            try:
                events.put((tag, json.loads(line)))
            except ValueError:
                continue
    events.put((tag, None))


def _start_child(request: dict, method: str, events: "queue.Queue | None" = None, tag=None,
                 read: bool = True) -> _Child:
    """Start a grading child; its events arrive on `events` (a new queue if None) as (tag, event).
    With read=False the thread that reads them is left for the caller to start."""
    events = queue.Queue() if events is None else events
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
    handle.reader = threading.Thread(target=_read_events, args=(stream, events, tag), daemon=True)
    if read:
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
    lanes: int | None = None,
    isolation: str = "auto",
    on_progress=None,
) -> RunResult:
    """Grade `exercises` of `target`; always returns a result for every exercise."""
    progress = (lambda runs: on_progress(runs[0])) if on_progress else None
    return grade_many([target], exercises, seed=seed, timeout=timeout, memory_mb=memory_mb, method=method,
                      lanes=lanes, isolation=isolation, on_progress=progress)[0]


Work = tuple[int, Exercise]  # (index of the target, exercise)


def default_lanes() -> int:
    """Grading processes to run side by side: the `jobs` setting, at most one per core."""
    from .config import ConfigError, setting

    try:
        jobs = int(setting("jobs"))
    except ConfigError:  # reported where the setting is read for the command line
        jobs = DEFAULTS["jobs"]
    return max(1, min(jobs, os.cpu_count() or 1))


def grade_many(
    targets: list[Path],
    exercises: list[Exercise],
    *,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int | None = None,
    method: str | None = None,
    lanes: int | None = None,
    isolation: str = "auto",
    on_progress=None,
    on_complete=None,
) -> list[RunResult]:
    """Grade the same exercises of several targets (submissions, variants) in as few children
    as possible: the checks are collected once per child, and every (target, exercise) gets a
    process of its own. The work is shared among `lanes` children running side by side
    (default: the `jobs` setting, at most one per core). With isolation="submission", each target's
    exercises share one process, and what an exercise changes is undone before the next;
    "auto" is "exercise" for one target and "submission" for several.
    on_progress(runs) is called whenever an exercise has its results, on_complete(index, run)
    once for each target, as soon as all its exercises have them.
    Returns one RunResult per target, in order."""
    method = method or start_method()
    if isolation == "auto":
        isolation = "submission" if len(targets) > 1 else "exercise"
    started = time.perf_counter()
    runs = [RunResult(target=str(t), seed=seed, complete=False,
                      exercises=[ExerciseResult(ex.id, ex.title, ex.points) for ex in exercises]) for t in targets]
    results = {(i, e.id): e for i, run in enumerate(runs) for e in run.exercises}
    lock = threading.Lock()

    def report() -> None:
        if on_progress:
            with lock:
                on_progress(runs)

    report()  # a report exists from the start: a crash of the grader leaves zeros, not nothing
    inifile = ROOT / "pyproject.toml"
    for ex in exercises:
        if not ex.check_file.exists():
            for i in range(len(targets)):
                results[i, ex.id].error = f"the checks of {ex.id} are missing ({ex.check_file.name}): no result, no points"
    pending: list[Work] = [(i, ex) for i in range(len(targets)) for ex in exercises if ex.check_file.exists()]
    count = max(1, min(lanes or default_lanes(), len(pending)))
    heavy = [w for w in pending if w[1].optimizers]
    # one submission, several lanes, and torch._dynamo not imported yet: the exercises that need it
    # get a lane of their own, which imports it while the others grade the rest
    split = (method == "fork" and len(targets) == 1 and count > 1 and 0 < len(heavy) < len(pending)
             and "torch._dynamo" not in sys.modules)
    if method == "fork":  # torch._dynamo only where some exercise needs it and no lane of its own pays for it
        warm_up(optimizer=bool(heavy) and not split)
    if split:
        light = [w for w in pending if not w[1].optimizers]
        shares = [light[k::count - 1] for k in range(count - 1)] + [heavy]
    elif len(targets) >= count:
        # whole targets are dealt out in turn: each is graded by one child (one process, where a
        # submission shares one), and finishes as early as it can
        shares = [[w for w in pending if w[0] % count == k] for k in range(count)]
    else:  # one target (a learner's grade): its exercises are dealt out, light and heavy ones to each lane
        shares = [pending[k::count] for k in range(count)]
    remaining: dict[int, set[str]] = {i: set() for i in range(len(targets))}
    for i, ex in pending:
        remaining[i].add(ex.id)

    def finished(i: int, exercise_id: str) -> None:
        """The exercise of target i has its final results; a target with nothing left is
        complete before the others are (batch grading shows it)."""
        left = remaining[i]
        if exercise_id in left:
            left.discard(exercise_id)
            if not left:
                runs[i].complete = True
                if on_complete:
                    on_complete(i, runs[i])

    def request(work: list[Work], how: str) -> dict:
        jobs: list[list] = []
        for i, ex in work:  # consecutive exercises of one target form one job
            if jobs and jobs[-1][0] == i:
                jobs[-1][2].append(ex.id)
            else:
                jobs.append([i, str(targets[i]), [ex.id]])
        return {
            "files": [str(ex.check_file) for ex in exercises if any(w[1] is ex for w in work)],
            "target": jobs[0][1],
            "jobs": jobs,
            "seed": seed,
            "timeout": timeout,
            "memory_mb": memory_mb,
            "isolation": ("submission" if isolation == "submission" else "fork") if how == "fork" else "restore",
            "optimizers": any(ex.optimizers for _, ex in work),  # warmed before the exercise processes fork
            "inifile": str(inifile) if inifile.exists() else None,
        }

    expected: dict[str, list[str]] = {}
    events: queue.Queue = queue.Queue()
    active = [_Lane(n, share, method, results, expected, timeout, report, finished)
              for n, share in enumerate(shares) if share]

    def advance(lane: "_Lane") -> None:
        lane.finish()
        if lane.pending:
            lane.start(request, events)
        else:
            active.remove(lane)

    try:
        for lane in active:  # all forked before any thread that reads them starts
            lane.start(request, events, read=False)
        for lane in active:
            lane.child.reader.start()
        while active:
            now = time.monotonic()
            wait = max(0.0, min(lane.deadline for lane in active) - now)
            try:
                (number, generation), event = events.get(timeout=wait)
            except queue.Empty:
                for lane in list(active):
                    if lane.deadline <= time.monotonic() and lane.expire():
                        advance(lane)
                continue
            lane = next((x for x in active if x.number == number), None)
            if lane is None or generation != lane.generation:
                continue  # the last words of a child already given up on
            if event is not None:
                lane.handle(event)
            else:
                advance(lane)
    except BaseException:  # Ctrl-C in the parent: never leave a child behind
        for lane in active:
            if lane.child is not None:
                lane.child.kill()
                lane.child.wait()
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


class _Lane:
    """One share of the work, graded by one child at a time: a child that dies is charged
    for the check it was running, and the rest of the share goes to a new child. A forked
    child takes the whole share; a fresh interpreter (no fork) one target's part of it."""

    def __init__(self, number: int, pending: list[Work], method: str, results: dict, expected: dict,
                 timeout: float, progress, finished):
        self.number, self.pending, self.method = number, pending, method
        self.results, self.expected, self.timeout, self.progress = results, expected, timeout, progress
        self.finished = finished  # finished(target, exercise id): that work has its final results
        self.generation = 0
        self.child: _Child | None = None

    def start(self, request, events: queue.Queue, read: bool = True) -> None:
        self.generation += 1
        self.current: tuple[int, str, str] | None = None  # (target, exercise, check) running now
        self.last: tuple[int, str, str] | None = None  # the last check that started
        self.ended_cleanly = self.timed_out = self.fork_unsafe = False
        self.yielded: tuple[int, str] | None = None
        self.deadline = time.monotonic() + STARTUP_GRACE
        work = self.pending
        if self.method != "fork":  # a fresh interpreter grades one target: two submissions never share one
            work = list(itertools.takewhile(lambda w: w[0] == self.pending[0][0], work))
        self.assigned = work
        self.child = _start_child(request(work, self.method), self.method, events,
                                  (self.number, self.generation), read)

    def expire(self) -> bool:
        """Nothing came in time: stop the child; its stream ends and finish() charges the check.
        True when the stream has not ended even then (a process outside the child's group holds
        it): the lane stops waiting for it."""
        if self.timed_out:
            self.generation += 1  # whatever that stream still says is ignored
            return True
        self.timed_out = True
        self.deadline = time.monotonic() + KILL_GRACE
        self.child.kill()
        return False

    def handle(self, event: dict) -> None:
        kind = event.get("event")
        key = (event.get("target", 0), event.get("exercise"))
        results = self.results
        result = results.get(key)
        if kind == "fork_unsafe":  # CUDA was initialized in this process: fresh interpreters instead
            self.fork_unsafe = True
        elif kind == "collected":
            self.expected.update(event["checks"])
        elif kind == "start":
            self.current = self.last = (*key, event["check"])
            self.deadline = time.monotonic() + self.timeout + KILL_GRACE
        elif kind == "result":
            if result is not None:
                result.checks.append(check_from_event(event))
                if len(result.checks) >= len(self.expected.get(result.id, ())):
                    self.finished(*key)
                    self.progress()  # an exercise is complete: partial reports can be written
            self.current = None
            self.deadline = time.monotonic() + STARTUP_GRACE
        elif kind == "exercise_exit":  # an exercise's own process ended
            if self.current is not None and self.current[:2] == key:  # ... under a running check
                results[key].checks.append(_crashed(self.current[2], event["how"]))
                self.current = None
            elif result is not None and event.get("code", 1) != 0:
                result.error = (f"the process grading this exercise {event['how']} between checks; "
                                "its other checks did not run: no result, no points")
            if result is not None:
                self.finished(*key)
            self.progress()
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
        elif kind == "yield":  # the child stopped after this exercise; a new one grades the rest
            self.yielded = key
        elif kind == "done":
            self.ended_cleanly = True

    def finish(self) -> None:
        """The child's stream has ended: reap it, and leave in `pending` the work still to do."""
        before = self.pending
        self._finish()
        left = {(i, ex.id) for i, ex in self.pending}
        for i, ex in before:
            if (i, ex.id) not in left:
                self.finished(i, ex.id)

    def _finish(self) -> None:
        how = self.child.wait()
        self.child = None
        results, pending = self.results, self.pending
        if self.fork_unsafe:
            self.method = "spawn"  # the same work again, in a fresh interpreter
            return
        order = [(j, ex.id) for j, ex in pending]
        if self.ended_cleanly and self.yielded in order:
            self.pending = pending[order.index(self.yielded) + 1:]
            return
        if self.ended_cleanly:
            self.pending = pending[len(self.assigned):]
            return
        if self.last is None:  # died before any check started: nothing will go better next time
            for i, ex in pending:
                results[i, ex.id].error = results[i, ex.id].error or (
                    f"the grading process {how} before any check ran: no result, no points")
            self.pending = []
            return
        i, exercise_id, check = self.current or self.last
        if self.current is None:
            results[i, exercise_id].error = (
                f"the grading process {how} after the check {check}; the rest of this exercise's checks did not run")
        elif self.timed_out:
            results[i, exercise_id].checks.append(CheckResult(name=check, status="timeout", message=(
                f"the check was still running after {self.timeout:g} s and was stopped: "
                "look for a loop that never ends or a computation much larger than it needs to be."
            )))
        else:
            results[i, exercise_id].checks.append(_crashed(check, how))
        # work before the one that died is complete; it is charged; the rest runs in a new child
        self.pending = pending[order.index((i, exercise_id)) + 1:] if (i, exercise_id) in order else []
