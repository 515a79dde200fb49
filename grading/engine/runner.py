"""Grade some exercises of some submissions: the entry point of the engine.

    grade(target, exercises)          one submission (a learner's grade, Gradescope, Classroom)
    grade_many(targets, exercises)    several (a batch, the project's own tests)

The learner's code is untrusted: it may hang, exit, crash the interpreter, print without end or
lie. It therefore runs in worker processes (`grading.engine.processes`); this process only plans the
work (`plan_lanes`), starts a lane per share of it (`grading.engine.lane`), and reads the events the
lanes send (`grading.engine.events`), checking each against what that lane was given. A worker that
dies is charged for the check it was running, and the work it had not started goes to a new
worker. Every collected check owes a result: no result means no points.

Reading on: `grading.engine.lane` (what happens to each event), `grading.engine.child` (a worker),
`grading.engine.plugin` (how a worker runs the checks), `grading.engine.outcomes` (what the learner reads).
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from grading import ROOT
from grading.core.catalog import Exercise
from grading.core.options import Options
from grading.engine.frozen import Sources
from grading.engine.lane import Lane
from grading.engine.lane_shared import Limits, Shared, Work, build_request
from grading.engine.processes import Worker, start_worker
from grading.engine.process_tools import become_subreaper, kill_descendants, start_method, stop_being_subreaper, warm_up
from grading.engine.signals import ctrl_c_from_outside, stopped_how
from grading.core.results import ExerciseResult, RunResult


def current_sources() -> Sources:
    """The kata's own files as they are now (read again for each grading run)."""
    from grading.core.integrity import guarded_files

    return Sources.read(ROOT, guarded_files())


def grade(target: Path, exercises: list[Exercise], *, on_progress=None, **options) -> RunResult:
    """Grade `exercises` of one `target`; always returns a result for every exercise. `options`
    are `grade_many`'s; on_progress(run) is called whenever an exercise has its results."""
    progress = (lambda runs: on_progress(runs[0])) if on_progress else None
    return grade_many([target], exercises, on_progress=progress, **options)[0]


def run_options(options: Options | None, limits: dict) -> Options:
    """The run's limits: `options` (the command line builds them once and passes them), else
    resolved once now, for a caller that passes none; `limits` (timeout=..., isolation=...)
    change some of them."""
    unknown = set(limits) - {f for f in Options.__dataclass_fields__}
    if unknown:
        raise TypeError(f"grade_many() got unexpected arguments: {', '.join(sorted(unknown))}")
    return (options if options is not None else Options.resolve()).but(**limits)


def run_isolation(options: Options, targets: int) -> str:
    """The isolation of a run of `targets` submissions: the options' own, where "auto" is
    "exercise" for one submission and "submission" for several."""
    if options.isolation != "auto":
        return options.isolation
    return "submission" if targets > 1 else "exercise"


def grade_many(
    targets: list[Path],
    exercises: list[Exercise],
    *,
    options: Options | None = None,
    seed: int = 0,
    method: str | None = None,
    lanes: int | None = None,
    on_progress=None,
    on_complete=None,
    on_settled=None,
    standby: "Standby | None" = None,
    graph=(),
    sources: Sources | None = None,
    **limits,
) -> list[RunResult]:
    """Grade the same exercises of several targets (submissions, variants) in as few children
    as possible: the checks are collected once per child, and every (target, exercise) gets a
    process of its own. The work is shared among `lanes` children running side by side
    (default: the options' `jobs`, at most one per core). `options` (`grading.core.options.Options`,
    see `run_options`; `limits` such as timeout=... change some of them): `timeout` limits each check,
    `exercise_timeout` all the checks of one exercise and `submission_timeout` all of one target.
    With isolation="submission", each target's exercises share one process, and what an exercise
    changes is undone before the next; "auto" is "exercise" for one target and "submission" for
    several.
    on_progress(runs) is called whenever an exercise has its results, on_complete(index, run)
    once for each target, as soon as all its exercises have them, on_settled(index, run) once for
    each target, as soon as those results are final (the processes that graded its exercises
    have ended: the results the run returns, before the run has tidied up). `standby` (see `Standby`):
    a child made ready beforehand grades the work, if it was made for this very target and these
    exercises (else it is left as it was); or a resident worker (`grading.engine.resident`), for any
    target, made with the same seed, options and isolation. `graph`: the ids of the exercises whose checks' autograd
    graphs are recorded (`ExerciseResult.graphs`, see `grading.core.graph_data`). `sources`: the kata's
    files to grade with (default: read from disk now, see `current_sources`).
    Returns one RunResult per target, in order. Stopped (Ctrl-C, or SIGTERM / SIGHUP where
    `grading.engine.processes.stop_on_signals` is in force), it raises, with the runs as they were
    (`.partial`), each exercise not done marked "not graded"."""
    options = run_options(options, limits)
    method = method or start_method()
    offered = standby  # used or not, its waiting child is not this run's to sweep away
    isolation = run_isolation(options, len(targets))
    if standby is not None and not standby.fits(targets, exercises, method, seed=seed, options=options,
                                                isolation=isolation, graph=graph):
        standby = None
    started = time.perf_counter()
    from grading.engine.sandbox import status as confinement

    sandbox = confinement(options.sandbox)
    runs = [RunResult(target=str(t), seed=seed, complete=False, sandbox=sandbox,
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
    count = 1 if standby is not None else max(1, min(lanes or options.lanes(os.cpu_count()), len(pending)))
    heavy = [w for w in pending if w[1].optimizers]
    # one submission, several lanes, and torch._dynamo not imported yet: the exercises that need it
    # get a lane of their own, which imports it while the others grade the rest
    split = (method == "fork" and len(targets) == 1 and count > 1 and 0 < len(heavy) < len(pending)
             and "torch._dynamo" not in sys.modules)
    if method == "fork" and standby is None:  # torch._dynamo only where some exercise needs it and no lane of its own pays for it
        warm_up(optimizer=bool(heavy) and not split)
    shares = plan_lanes(pending, len(targets), count, split)
    state = Shared(runs, results, Limits.of(options), report, on_complete, pending, on_settled)
    # where the grading processes find each target: they work in folders of their own, so a relative
    # path is taken from this process's folder now (the results keep the path as it was given)
    located = [Path(os.path.abspath(t)) for t in targets]
    if standby is not None:  # what the child on standby was made with
        sources, scratch = standby.sources, standby.scratch
        base = standby.base_for(located, exercises, graph)
    else:
        if sources is None:  # the checks, engine and catalog as they are before any learner's code runs
            sources = current_sources()
        scratch = tempfile.mkdtemp(prefix="kata-scratch-")  # the learner's code runs in folders made here
        base = {"targets": [str(t) for t in located], "seed": seed, "options": options, "isolation": isolation,
                "exercises": exercises, "scratch": scratch, "display_base": _cwd(), "graph": sorted(graph)}
    events: queue.Queue = queue.Queue()
    active = [Lane(n, share, method, state, base, sources) for n, share in enumerate(shares) if share]
    ready = standby.take() if standby is not None and active else None
    subreaper = become_subreaper()  # what a learner's code leaves running comes here when its lane ends
    lasting = offered.keep() if offered is not None else set()  # a resident worker outlives the run

    def advance(lane: Lane) -> None:
        lane.finish()
        sweep()
        if lane.pending:
            lane.start(events)
        else:
            active.remove(lane)

    def sweep() -> None:
        if subreaper:
            kill_descendants(keep={x.child.process_id for x in active if x.child is not None} | lasting)

    try:
        with ctrl_c_from_outside() as ctrl_c:
            for lane in active:  # all forked before any thread that reads them starts
                if ready is not None:
                    lane.adopt(ready, events)
                    ready = None
                else:
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
    except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM or SIGHUP: what was graded stays, the rest is said
        how = " ".join(("grading was stopped", stopped_how(stop))).strip()
        for i, left in state.remaining.items():
            for exercise_id in left:
                results[i, exercise_id].error = f"not graded: {how} before this exercise was done: no result, no points"
        stop.partial = runs  # for the caller's report (see `grading.cli.commands.grade`)
        raise
    finally:  # Ctrl-C in the parent, or the end: never leave a child behind
        for lane in active:
            if lane.child is not None:
                lane.child.kill()
                lane.child.wait()
        if subreaper:
            kill_descendants(keep=lasting)
            stop_being_subreaper()
        if standby is None or not standby.lasting:
            shutil.rmtree(scratch, ignore_errors=True)

    for i, exercise_id in results:  # fail closed: every collected check owes a result
        state.settle(i, exercise_id)
    elapsed = time.perf_counter() - started
    for run in runs:
        run.duration = elapsed / len(runs)
        run.complete = True
    report()
    return runs


POLL = 0.25  # seconds between looks for a Ctrl-C while waiting for events


class Standby:
    """A grading child made ready before it is needed, for one target: started, pytest set up
    and the checks of `exercises` collected, it waits to be told which of them to grade. Watch
    mode keeps one, so that grading a save pays neither for pytest's start nor for the collection
    of the checks (most of the time a single exercise takes); the grading itself is `grade()`'s,
    time limits, events checked and failing closed included. Each standby grades once.

    `options` are `grade_many`'s (seed, options and the limits that change them).
    Where a waiting child cannot be made (Windows), `worker` is None and `grade()` starts a child
    as usual."""

    def __init__(self, target: Path, exercises: list[Exercise], *, options: Options | None = None, **more):
        self.target, self.exercises = Path(target), list(exercises)
        self.method = more.pop("method", None) or start_method()
        seed = more.pop("seed", 0)
        resolved = run_options(options, more)  # once: the child made now and the grade later share them
        self.options = {"seed": seed, "options": resolved}
        self.sources = current_sources()  # before any learner's code runs
        self.scratch = tempfile.mkdtemp(prefix="kata-scratch-")
        self.base = {"targets": [str(self.target)], "seed": seed, "options": resolved, "isolation": "exercise",
                     "exercises": self.exercises, "scratch": self.scratch, "display_base": _cwd()}
        self.worker: Worker | None = None
        if os.name == "posix":
            work = [(0, ex) for ex in self.exercises if ex.check_file.exists()]
            self.worker = start_worker(build_request(self.base, work, self.method), self.method, read=False,
                                       sources=self.sources, standby=True)

    lasting = False  # its scratch folder goes with the run it grades

    def fits(self, targets: list[Path], exercises: list[Exercise], method: str, **_run) -> bool:
        return (self.worker is not None and [Path(t) for t in targets] == [self.target] and method == self.method
                and {ex.id for ex in exercises} <= {ex.id for ex in self.exercises})

    def base_for(self, targets: list[Path], exercises: list[Exercise], graph=()) -> dict:
        return {**self.base, "exercises": exercises, "graph": sorted(graph)}

    def keep(self) -> set[int]:
        """Its waiting child, while no run has taken it."""
        return {self.worker.pid} if self.worker is not None and self.worker.pid is not None else set()

    def take(self) -> Worker:
        worker, self.worker = self.worker, None
        return worker

    def grade(self, exercises: list[Exercise], **options) -> RunResult:
        """Grade `exercises` (some of those it was made for) of its target, as `grade()` does."""
        options = {**self.options, "method": self.method, **options}
        if self.worker is None:
            self.close()
            return grade(self.target, exercises, **options)
        return grade(self.target, exercises, standby=self, **options)

    def close(self) -> None:
        """Stop the waiting child, if it was not used, and remove what was made for it."""
        worker = self.take()
        if worker is not None:
            worker.kill()
            worker.wait()
            for close in (lambda: os.close(worker.go), worker.stream.close):
                with contextlib.suppress(OSError, TypeError):
                    close()
        shutil.rmtree(self.scratch, ignore_errors=True)


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


