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
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import ROOT
from .catalog import Exercise
from .config import DEFAULTS
from .events import Lines, parse
from .frozen import Sources
from .plugin import describe_exit
from .processes import (become_subreaper, close_inherited_channels, kill_descendants, kill_tree,
                        stop_being_subreaper)
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

    @property
    def process_id(self) -> int:
        return self.popen.pid if self.popen is not None else self.pid

    def kill(self) -> None:
        """Kill the child and whatever it started (its own process group, where there are groups;
        what left the group comes to the grader, a subreaper, and is killed there)."""
        if self.popen is not None and not hasattr(os, "killpg"):
            with contextlib.suppress(OSError):
                self.popen.kill()
            return
        kill_tree(self.process_id)

    def wait(self) -> str:
        """Reap the child; describe how it ended."""
        if self.popen is not None:
            code = self.popen.wait()
        else:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
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
        mistake=event.get("mistake"),
        mistake_title=event.get("mistake_title"),
    )


def _crashed(check: str, how: str) -> CheckResult:
    return CheckResult(name=check, status="crashed", message=(
        f"the Python process running this check {how}: your code ended or crashed the "
        "interpreter (`sys.exit()`, `os._exit()`, a segmentation fault, running out of memory). "
        "No result means no points."
    ))


def _read_events(stream, events: "queue.Queue", tag) -> None:
    """Put every well-formed event of one child on `events` as (tag, event), then (tag, None) at
    its end. A line that is not an event (see `grading.events`) is dropped."""
    lines = Lines()
    with stream:
        while True:
            data = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not data:
                break
            for line in lines.feed(data):
                event = parse(line)
                if event is not None:
                    events.put((tag, event))
    events.put((tag, None))


def _bootstrap(sources: Sources) -> str:
    """What a fresh grading interpreter runs: `grading.frozen` from the grader's copy, then `boot()`."""
    return sources.texts["grading/frozen.py"] + "\nboot()\n"


def _start_child(request: dict, method: str, events: "queue.Queue | None" = None, tag=None,
                 read: bool = True, sources: Sources | None = None) -> _Child:
    """Start a grading child; its events arrive on `events` (a new queue if None) as (tag, event).
    With read=False the thread that reads them is left for the caller to start."""
    events = queue.Queue() if events is None else events
    sources = sources or _sources()
    if method == "fork":
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the parent's code
            try:
                os.setpgid(0, 0)  # its own group: a timeout kills the exercise processes it forks too
                os.close(read_fd)
                close_inherited_channels(keep=write_fd)  # the grader's own pipes and terminal are not the learner's
                from . import child, frozen

                frozen.install(sources)  # the checks and catalog from the copy read when grading began
                child._silence_standard_streams()
                child.run(write_fd, request)
            finally:
                os._exit(0)
        os.close(write_fd)
        handle = _Child(events, pid=pid)
        stream = os.fdopen(read_fd, "rb")
    else:
        popen = subprocess.Popen(
            [sys.executable, "-c", _bootstrap(sources)],
            cwd=str(ROOT),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=hasattr(os, "killpg"),
        )
        try:
            popen.stdin.write(json.dumps({**request, "sources": {"root": sources.root, "texts": sources.texts}}).encode())
            popen.stdin.close()
        except OSError:  # it died at once: its stream ends, and the lane says so
            pass
        handle = _Child(events, popen=popen)
        stream = popen.stdout
    handle.reader = threading.Thread(target=_read_events, args=(stream, events, tag), daemon=True)
    if read:
        handle.reader.start()
    return handle



def _sources() -> Sources:
    """The kata's own files as they are now (read again for each grading run)."""
    from .integrity import guarded_files

    return Sources.read(ROOT, guarded_files())


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
    exercise_timeout: float | None = None,
    submission_timeout: float | None = None,
    on_progress=None,
) -> RunResult:
    """Grade `exercises` of `target`; always returns a result for every exercise."""
    progress = (lambda runs: on_progress(runs[0])) if on_progress else None
    return grade_many([target], exercises, seed=seed, timeout=timeout, memory_mb=memory_mb, method=method,
                      lanes=lanes, isolation=isolation, exercise_timeout=exercise_timeout,
                      submission_timeout=submission_timeout, on_progress=progress)[0]


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
    exercise_timeout: float | None = None,
    submission_timeout: float | None = None,
    on_progress=None,
    on_complete=None,
) -> list[RunResult]:
    """Grade the same exercises of several targets (submissions, variants) in as few children
    as possible: the checks are collected once per child, and every (target, exercise) gets a
    process of its own. The work is shared among `lanes` children running side by side
    (default: the `jobs` setting, at most one per core). With isolation="submission", each target's
    exercises share one process, and what an exercise changes is undone before the next;
    "auto" is "exercise" for one target and "submission" for several.
    `timeout` limits each check, `exercise_timeout` all the checks of one exercise and
    `submission_timeout` all of one target (defaults: the settings of the same names).
    on_progress(runs) is called whenever an exercise has its results, on_complete(index, run)
    once for each target, as soon as all its exercises have them.
    Returns one RunResult per target, in order."""
    method = method or start_method()
    if isolation == "auto":
        isolation = "submission" if len(targets) > 1 else "exercise"
    limits = Limits(timeout, exercise_timeout or _setting("exercise_timeout"),
                    submission_timeout or _setting("submission_timeout"))
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
    shares = plan_lanes(pending, len(targets), count, split)
    state = _Run(runs, results, limits, report, on_complete, pending)
    sources = _sources()  # the checks, engine and catalog as they are before any learner's code runs
    scratch = tempfile.mkdtemp(prefix="kata-scratch-")  # the learner's code runs in folders made here
    base = {"targets": [str(t) for t in targets], "seed": seed, "timeout": timeout, "memory_mb": memory_mb,
            "isolation": isolation, "exercises": exercises, "scratch": scratch, "display_base": _cwd()}
    events: queue.Queue = queue.Queue()
    active = [_Lane(n, share, method, state, base, sources) for n, share in enumerate(shares) if share]
    subreaper = become_subreaper()  # what a learner's code leaves running comes here when its lane ends

    def advance(lane: "_Lane") -> None:
        lane.finish()
        sweep()
        if lane.pending:
            lane.start(events)
        else:
            active.remove(lane)

    def sweep() -> None:
        if subreaper:
            kill_descendants(keep={x.child.process_id for x in active if x.child is not None})

    try:
        with _ctrl_c_from_outside() as ctrl_c:
            for lane in active:  # all forked before any thread that reads them starts
                lane.start(events, read=False)
            for lane in active:
                lane.child.reader.start()
            while active:
                ctrl_c()
                for lane in list(active):
                    lane.drop_lost_work()
                now = time.monotonic()
                wait = min(POLL, max(0.0, min(lane.deadline() for lane in active) - now))
                try:
                    (number, generation), event = events.get(timeout=wait)
                except queue.Empty:
                    for lane in list(active):
                        if lane.deadline() <= time.monotonic() and lane.expire():
                            advance(lane)
                    continue
                lane = next((x for x in active if x.number == number), None)
                if lane is None or generation != lane.generation:
                    continue  # the last words of a child already given up on
                if event is not None:
                    lane.handle(event)
                else:
                    advance(lane)
    finally:  # Ctrl-C in the parent, or the end: never leave a child behind
        for lane in active:
            if lane.child is not None:
                lane.child.kill()
                lane.child.wait()
        if subreaper:
            kill_descendants()
            stop_being_subreaper()
        shutil.rmtree(scratch, ignore_errors=True)

    for (i, exercise_id), result in results.items():  # fail closed: every collected check owes a result
        names = state.expected.get(exercise_id, [])
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


POLL = 0.25  # seconds between looks for a Ctrl-C while waiting for events


@contextlib.contextmanager
def _ctrl_c_from_outside():
    """Ctrl-C stops grading only when it comes from outside: the terminal, or a process that is
    not one the grader started. A learner's code that sends SIGINT to the grader (its parent's
    parent) is ignored. Yields a function to call regularly: it raises KeyboardInterrupt for a
    Ctrl-C from outside. (Where signals cannot be examined this way, Ctrl-C works as usual.)"""
    usable = (threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
              and hasattr(signal, "sigtimedwait"))
    if not usable or signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []):
        yield lambda: None
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

    def check() -> None:
        while True:
            info = signal.sigtimedwait([signal.SIGINT], 0)
            if info is None:
                return
            if not _sent_from_below(info.si_pid):
                raise KeyboardInterrupt

    try:
        yield check
        check()  # one that came at the very end still counts
    finally:
        with contextlib.suppress(KeyboardInterrupt):  # nothing left pending to arrive once unblocked
            check()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _sent_from_below(pid: int) -> bool:
    """Whether process `pid` (the sender of a signal) is one this process started, or one they
    started: a learner's code. A sender that has already ended is taken to be one (a terminal's
    Ctrl-C has no sending process, pid 0)."""
    if pid <= 0:
        return False
    me = os.getpid()
    for _ in range(64):
        if pid == me:
            return True
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return os.path.isdir("/proc/self")  # gone (where /proc can tell): a learner's that sent it and ended
        if pid <= 1:
            return False
    return False
DONE_GRACE = 2.0  # seconds for a child's stream to end once it said it is done


@dataclass
class Limits:
    check: float  # seconds per check
    exercise: float  # seconds for all the checks of one exercise
    submission: float  # seconds for all the exercises of one target


def _setting(name: str) -> float:
    from .config import ConfigError, setting

    try:
        return float(setting(name))
    except ConfigError:  # reported where the setting is read for the command line
        return float(DEFAULTS[name])


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:
        return None


def plan_lanes(pending: list[Work], targets: int, count: int, split: bool) -> list[list[Work]]:
    """How the work is shared among `count` lanes. With `split`, the exercises that build optimizers
    get a lane of their own. With at least as many targets as lanes, whole targets are dealt out in
    turn: each is graded by one child and finishes as early as it can. Else (one target: a learner's
    grade), its exercises are dealt out, light and heavy ones to each lane."""
    if split:
        light = [w for w in pending if not w[1].optimizers]
        return [light[k::count - 1] for k in range(count - 1)] + [[w for w in pending if w[1].optimizers]]
    if targets >= count:
        return [[w for w in pending if w[0] % count == k] for k in range(count)]
    return [pending[k::count] for k in range(count)]


def build_request(base: dict, work: list[Work], method: str) -> dict:
    """What a lane's child is asked to do: `work`, as jobs of consecutive exercises of one target."""
    jobs: list[list] = []
    for i, ex in work:
        if jobs and jobs[-1][0] == i:
            jobs[-1][2].append(ex.id)
        else:
            jobs.append([i, base["targets"][i], [ex.id]])
    inifile = ROOT / "pyproject.toml"
    return {
        "files": [str(ex.check_file) for ex in base["exercises"] if any(w[1] is ex for w in work)],
        "target": jobs[0][1],
        "jobs": jobs,
        "seed": base["seed"],
        "timeout": base["timeout"],
        "memory_mb": base["memory_mb"],
        "isolation": ("submission" if base["isolation"] == "submission" else "fork") if method == "fork" else "restore",
        "optimizers": any(ex.optimizers for _, ex in work),  # warmed before the exercise processes fork
        "inifile": str(inifile) if inifile.exists() else None,
        "scratch": base["scratch"],
        "display_base": base["display_base"],
    }


class _Run:
    """What the lanes of one grading run share: the results, the checks each exercise owes, the
    limits, and when each target's grading began."""

    def __init__(self, runs, results, limits: Limits, report, on_complete, pending: list[Work]):
        self.runs, self.results, self.limits, self.report, self.on_complete = runs, results, limits, report, on_complete
        self.expected: dict[str, list[str]] = {}  # exercise id -> its collected checks, set once
        self.began: dict[int, float] = {}  # target -> when its first check started
        self.out_of_time: set[int] = set()  # targets past the submission limit
        self.remaining: dict[int, set[str]] = {i: set() for i in range(len(runs))}
        for i, ex in pending:
            self.remaining[i].add(ex.id)

    def finished(self, i: int, exercise_id: str) -> None:
        """The exercise of target i has its final results; a target with nothing left is
        complete before the others are (batch grading shows it)."""
        left = self.remaining[i]
        if exercise_id in left:
            left.discard(exercise_id)
            if not left:
                self.runs[i].complete = True
                if self.on_complete:
                    self.on_complete(i, self.runs[i])

    def submission_deadline(self, i: int) -> float:
        began = self.began.get(i)
        return began + self.limits.submission if began is not None else float("inf")


class _Lane:
    """One share of the work, graded by one child at a time: a child that dies is charged for the
    check (or exercise) it was running, and the work it had not started goes to a new child. A
    forked child takes the whole share; a fresh interpreter (no fork) one target's part of it.

    Every event is checked against what this lane's child was given: its own targets and
    exercises, checks that were collected, each result once. Anything else is dropped."""

    def __init__(self, number: int, pending: list[Work], method: str, run: _Run, base: dict, sources: Sources):
        self.number, self.pending, self.method = number, pending, method
        self.run, self.base, self.sources = run, base, sources
        self.generation = 0
        self.barren = 0  # children in a row that finished nothing
        self.child: _Child | None = None
        self.assigned: list[Work] = []
        self.keys: set[tuple[int, str]] = set()  # (target, exercise) of the assigned work
        self.done: set[tuple[int, str]] = set()  # work with its final results
        self.exercise_began: dict[tuple[int, str], float] = {}
        self.current: tuple[int, str, str] | None = None  # (target, exercise, check) running now
        self.last: tuple[int, str] | None = None  # the exercise whose check started last
        self.ended_cleanly = self.fork_unsafe = False
        self.timed_out: str | None = None  # why the child was stopped
        self.yielded: tuple[int, str] | None = None
        self.quiet_until = 0.0  # nothing came in time: the child is stopped

    def start(self, events: queue.Queue, read: bool = True) -> None:
        self.generation += 1
        self.current = self.last = self.yielded = self.timed_out = None
        self.ended_cleanly = self.fork_unsafe = False
        self.progress_at_start = len(self.done)
        self.quiet_until = time.monotonic() + STARTUP_GRACE
        work = self.pending
        if self.method != "fork":  # a fresh interpreter grades one target: two submissions never share one
            work = list(itertools.takewhile(lambda w: w[0] == self.pending[0][0], work))
        self.assigned = work
        self.keys = {(i, ex.id) for i, ex in work}
        self.child = _start_child(build_request(self.base, work, self.method), self.method, events,
                                  (self.number, self.generation), read, self.sources)

    # ---------------------------------------------------------------- time

    def deadline(self) -> float:
        """When this lane's child must have said something (or be stopped)."""
        when = self.quiet_until
        if self.current is not None and not self.timed_out:
            i, exercise, _ = self.current
            when = min(when, self.exercise_began[i, exercise] + self.run.limits.exercise,
                       self.run.submission_deadline(i))
        return when

    def expire(self) -> bool:
        """Nothing came in time, or the exercise or submission is out of time: stop the child;
        its stream ends and finish() charges the check. True when the stream has not ended even
        then: the lane stops waiting for it."""
        if self.timed_out:
            self.generation += 1  # whatever that stream still says is ignored
            return True
        now = time.monotonic()
        if self.current is not None:
            i, exercise, _ = self.current
            if now >= self.run.submission_deadline(i):
                self.timed_out = "submission"
                self.run.out_of_time.add(i)
            elif now >= self.exercise_began[i, exercise] + self.run.limits.exercise:
                self.timed_out = "exercise"
            else:
                self.timed_out = "check"
        else:
            self.timed_out = "quiet"
        self.quiet_until = now + KILL_GRACE
        self.child.kill()
        return False

    def drop_lost_work(self) -> None:
        """Work of a target that ran out of time elsewhere is not started."""
        if not self.run.out_of_time:
            return
        keep = []
        for w in self.pending:
            key = (w[0], w[1].id)
            if w[0] in self.run.out_of_time and key not in self.done and (self.current is None or key != self.current[:2]) \
                    and key not in self.exercise_began:
                result = self.run.results[key]
                result.error = result.error or (
                    f"not graded: the submission ran for more than {self.run.limits.submission:g} s in all, "
                    "the limit for one submission")
                self._mark_done(key)
            else:
                keep.append(w)
        self.pending = keep

    # ---------------------------------------------------------------- events

    def handle(self, event: dict) -> None:
        try:
            self._handle(event)
        except Exception:  # a well-formed event that still makes no sense here: dropped
            pass

    def _handle(self, event: dict) -> None:
        kind = event["event"]
        if kind == "fork_unsafe":  # CUDA was initialized in this process: fresh interpreters instead
            self.fork_unsafe = True
            return
        if kind == "done":
            self.ended_cleanly = True
            self.quiet_until = time.monotonic() + DONE_GRACE
            return
        if kind == "collected":
            if self.last is None:  # said once, before any learner's code ran
                mine = {ex.id for _, ex in self.assigned}
                for exercise_id, names in event["checks"].items():
                    if exercise_id in mine:
                        self.run.expected.setdefault(exercise_id, list(names))
            return
        key = (event.get("target", self.assigned[0][0] if self.assigned else 0), event["exercise"])
        if key not in self.keys:
            return  # not this child's work
        if key in self.done and kind not in ("note", "flag", "yield") \
                and not (kind == "result" and event["check"].endswith(" (teardown)")):
            return  # already complete
        result = self.run.results[key]
        names = self.run.expected.get(key[1], ())
        if kind == "start":
            if event["check"] not in names or any(c.name == event["check"] for c in result.checks):
                return
            now = time.monotonic()
            self.current, self.last = (*key, event["check"]), key
            self.exercise_began.setdefault(key, now)
            self.run.began.setdefault(key[0], now)
            self.quiet_until = now + self.run.limits.check + KILL_GRACE
        elif kind == "result":
            check = event["check"]
            if check.removesuffix(" (teardown)") not in names or any(c.name == check for c in result.checks):
                return
            result.checks.append(check_from_event(event))
            self.current = None
            self.last = key
            self.quiet_until = time.monotonic() + STARTUP_GRACE
            if len([c for c in result.checks if not c.name.endswith(" (teardown)")]) >= len(names):
                self._mark_done(key)
                self.run.report()  # an exercise is complete: partial reports can be written
        elif kind == "exercise_exit":  # an exercise's own process ended
            if self.current is not None and self.current[:2] == key:  # ... under a running check
                result.checks.append(_crashed(self.current[2], event["how"]))
                self.current = None
            elif event["code"] != 0:
                result.error = (f"the process grading this exercise {event['how']} between checks; "
                                "its other checks did not run: no result, no points")
            self._mark_done(key)
            self.run.report()
        elif kind == "note":
            if event["message"] not in result.notes:
                result.notes.append(event["message"])
        elif kind == "flag":
            if event["message"] not in result.flags:
                result.flags.append(event["message"])
        elif kind == "collect_error":
            result.error = "the checks of this exercise could not be loaded:\n" + event.get("message", "")
        elif kind == "yield":  # the child stopped after this exercise; a new one grades the rest
            self.yielded = key

    def _mark_done(self, key: tuple[int, str]) -> None:
        if key not in self.done:
            self.done.add(key)
            self.run.finished(*key)

    # ---------------------------------------------------------------- the end of a child

    def finish(self) -> None:
        """The child's stream has ended: reap it, charge what it was doing when it ended, and
        leave in `pending` the work still to do."""
        how = self.child.wait()
        self.child = None
        if self.fork_unsafe:
            self.method = "spawn"  # the same work again, in a fresh interpreter
            return
        if self.ended_cleanly and self.yielded is None:
            for i, ex in self.assigned:  # all it was given is done (what never reported fails closed)
                self._mark_done((i, ex.id))
        elif not self.ended_cleanly:
            self._charge(how)
        self.pending = [w for w in self.pending if (w[0], w[1].id) not in self.done]
        if len(self.done) == self.progress_at_start:  # nothing finished: don't try for ever
            self.barren += 1
            if self.barren >= 2:
                for i, ex in self.pending:
                    result = self.run.results[i, ex.id]
                    result.error = result.error or (
                        f"the grading process {how} before any check of this exercise ran, twice: "
                        "no result, no points")
                    self._mark_done((i, ex.id))
                self.pending = []
        else:
            self.barren = 0

    def _charge(self, how: str) -> None:
        """The child died: the check it was running (or the exercise it was in) is charged."""
        if self.current is not None:
            i, exercise_id, check = self.current
            result = self.run.results[i, exercise_id]
            if self.timed_out in (None, "quiet"):
                result.checks.append(_crashed(check, how))
            else:
                result.checks.append(CheckResult(name=check, status="timeout", message=self._timeout_message()))
            self._mark_done((i, exercise_id))
        elif self.last is not None and self.last not in self.done:
            result = self.run.results[self.last]
            result.error = (f"the grading process {how} after the check {result.checks[-1].name if result.checks else '?'}; "
                            "the rest of this exercise's checks did not run")
            self._mark_done(self.last)

    def _timeout_message(self) -> str:
        limits = self.run.limits
        if self.timed_out == "submission":
            return (f"the submission ran for more than {limits.submission:g} s in all, the limit for one submission, "
                    "and was stopped during this check: look for loops that never end, or code that runs far "
                    "longer than it needs to (code outside functions runs too).")
        if self.timed_out == "exercise":
            return (f"this exercise's checks ran for more than {limits.exercise:g} s in all, the limit for one "
                    "exercise, and were stopped during this one: look for code that is much slower than it needs "
                    "to be, or code outside functions that takes long (it runs when the file is loaded).")
        return (f"the check was still running after {limits.check:g} s and was stopped: "
                "look for a loop that never ends or a computation much larger than it needs to be.")
