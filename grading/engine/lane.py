"""A lane: one share of a grading run's work, graded by one worker process at a time.

`grading.engine.runner` plans the lanes and waits for their events; each `Lane` starts a worker for
its share (`grading.engine.processes.start_worker`), checks every event the worker sends against what
it was given (its own submissions and exercises, checks that were collected, each result once:
see `grading.engine.events`), keeps the time limits (per check, per exercise, per submission; none of
them charges torch.compile's compiling, up to an allowance per exercise: `grading.engine.compiling`),
and, when the worker's stream ends, charges what it was doing if it died and keeps the work it
had not started for the next worker. What the lanes of one run share is a `Shared`.
"""

from __future__ import annotations

import itertools
import queue
import time

from grading.engine.events import (Collected, CollectError, Compiled, Compiling, Done, Event, ExerciseExit, Flag,
                                   ForkUnsafe, Graph, Note, Result, Start, Yield)
from grading.engine.frozen import Sources
from grading.engine.processes import Worker, start_worker
from grading.core.results import CheckResult, CheckStatus
from grading.engine.lane_shared import Shared, Work, build_request, crashed

STARTUP_GRACE = 90.0  # a fresh interpreter imports torch and collects the checks
KILL_GRACE = 5.0  # past the per-check limit before the child is killed

DONE_GRACE = 2.0  # seconds for a child's stream to end once it said it is done


class Lane:
    """One share of the work, graded by one child at a time: a child that dies is charged for the
    check (or exercise) it was running, and the work it had not started goes to a new child. A
    forked child takes the whole share; a fresh interpreter (no fork) one target's part of it.

    Every event is checked against what this lane's child was given: its own targets and
    exercises, checks that were collected, each result once. Anything else is dropped."""

    def __init__(self, number: int, pending: list[Work], method: str, run: Shared, base: dict, sources: Sources):
        self.number, self.pending, self.method = number, pending, method
        self.run, self.base, self.sources = run, base, sources
        self.generation = 0
        self.barren = 0  # children in a row that finished nothing
        self.child: Worker | None = None
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
        work = self._begin()
        self.child = start_worker(build_request(self.base, work, self.method), self.method, events,
                                  (self.number, self.generation), read, sources=self.sources)

    def adopt(self, worker: Worker, events: queue.Queue) -> None:
        """Start this lane's share in `worker`, a child on standby that was given (at least) this
        share's target and exercises (or a resident one, for any target) and has collected their
        checks; the thread that reads its events is left for the caller to start. Should it have
        died meanwhile, its stream simply ends, and `finish()` leaves the work to a new child."""
        work = self._begin()
        self.child = worker
        worker.release(build_request(self.base, work, self.method))
        worker.read_into(events, (self.number, self.generation))

    def _begin(self) -> list[Work]:
        """A new child's turn: what it is given of the pending work."""
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
        return work

    # ---------------------------------------------------------------- time

    def deadline(self) -> float:
        """When this lane's child must have said something (or be stopped)."""
        when = self.quiet_until
        if self.timed_out:
            return when
        if self.current is not None:
            i, exercise, _ = self.current
            when = min(when, self._exercise_deadline(i, exercise))
        target = self.current[0] if self.current is not None else self.last[0] if self.last is not None else None
        if target is not None and not self.ended_cleanly and self.run.remaining[target]:  # also between two checks
            when = min(when, self.run.submission_deadline(target))
        return when

    def _exercise_deadline(self, i: int, exercise: str) -> float:
        return self.exercise_began[i, exercise] + self.run.limits.exercise + self.run.credit((i, exercise))

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
            elif now >= self._exercise_deadline(i, exercise):
                self.timed_out = "exercise"
            else:
                self.timed_out = "check"
        elif self.last is not None and now >= self.run.submission_deadline(self.last[0]):
            self.timed_out = "submission"
            self.run.out_of_time.add(self.last[0])
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

    def handle(self, event: Event) -> None:
        try:
            self._handle(event)
        except Exception:  # a well-formed event that still makes no sense here: dropped
            pass

    def _handle(self, event: Event) -> None:
        if isinstance(event, ForkUnsafe):  # CUDA was initialized in this process: fresh interpreters instead
            self.fork_unsafe = True
            return
        if isinstance(event, Done):
            self.ended_cleanly = True
            self.quiet_until = time.monotonic() + DONE_GRACE
            return
        if isinstance(event, Collected):
            if self.last is None:  # said once, before any learner's code ran
                mine = {ex.id for _, ex in self.assigned}
                for exercise_id, names in event.checks.items():
                    if exercise_id in mine:
                        self.run.expected.setdefault(exercise_id, list(names))
            return
        key = (event.target, event.exercise)
        if key not in self.keys:
            return  # not this child's work
        if isinstance(event, ExerciseExit) and key in self.done:  # its process has ended after its last result
            self.run.settle(*key)
            return
        if key in self.done and not isinstance(event, (Note, Flag, Yield, Graph)) \
                and not (isinstance(event, Result) and event.check.endswith(" (teardown)")):
            return  # already complete
        result = self.run.results[key]
        names = self.run.expected.get(key[1], ())
        if isinstance(event, Start):
            if event.check not in names or any(c.name == event.check for c in result.checks):
                return
            now = time.monotonic()
            self.current, self.last = (*key, event.check), key
            self.exercise_began.setdefault(key, now)
            self.run.began.setdefault(key[0], now)
            self.quiet_until = now + self.run.limits.check + KILL_GRACE
        elif isinstance(event, Compiling):  # Compiled too: trusted only as far as the allowance goes
            if self.current != (*key, event.check) or self.timed_out:
                return
            if isinstance(event, Compiled):
                self.quiet_until -= self.run.stop_compiling(key, time.monotonic())
            else:
                self.quiet_until += self.run.start_compiling(key, time.monotonic())
        elif isinstance(event, Result):
            if event.check.removesuffix(" (teardown)") not in names or any(c.name == event.check for c in result.checks):
                return
            self.run.stop_compiling(key, time.monotonic())
            result.checks.append(event.result)
            self.current = None
            self.last = key
            self.quiet_until = time.monotonic() + STARTUP_GRACE
            if len([c for c in result.checks if not c.name.endswith(" (teardown)")]) >= len(names):
                self._mark_done(key)
                self.run.report()  # an exercise is complete: partial reports can be written
        elif isinstance(event, ExerciseExit):  # an exercise's own process ended
            if self.current is not None and self.current[:2] == key:  # ... under a running check
                result.checks.append(crashed(self.current[2], event.how))
                self.current = None
            elif event.code != 0:
                result.error = (f"the process grading this exercise {event.how} between checks; "
                                "its other checks did not run: no result, no points")
            self._mark_done(key)
            self.run.settle(*key)
            self.run.report()
        elif isinstance(event, Note):
            if event.message not in result.notes:
                result.notes.append(event.message)
        elif isinstance(event, Graph):
            if event.check in names and event.check not in result.graphs:
                from grading.core.graph_data import clean

                result.graphs[event.check] = clean(event.data)
        elif isinstance(event, Flag):
            if event.message not in result.flags:
                result.flags.append(event.message)
        elif isinstance(event, CollectError):
            result.error = "the checks of this exercise could not be loaded:\n" + event.message
        elif isinstance(event, Yield):  # the child stopped after this exercise; a new one grades the rest
            self.yielded = key

    def _mark_done(self, key: tuple[int, str]) -> None:
        if key not in self.done:
            self.done.add(key)
            self.run.finished(*key)

    # ---------------------------------------------------------------- the end of a child

    def finish(self) -> None:
        """The child's stream has ended: reap it, charge what it was doing when it ended, and
        leave in `pending` the work still to do."""
        how = self.child.end(self.ended_cleanly and self.yielded is None and not self.fork_unsafe)
        self.child = None
        if self.current is not None:  # what it said it was compiling ended with it
            self.run.stop_compiling(self.current[:2], time.monotonic())
        if self.fork_unsafe:
            self.method = "spawn"  # the same work again, in a fresh interpreter
            return
        if self.ended_cleanly and self.yielded is None:
            for i, ex in self.assigned:  # all it was given is done (what never reported fails closed)
                self._mark_done((i, ex.id))
        elif not self.ended_cleanly:
            self._charge(how)
        self.pending = [w for w in self.pending if (w[0], w[1].id) not in self.done]
        for key in self.done & self.keys:  # this child is gone: nothing more comes about its work
            self.run.settle(*key)
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
                result.checks.append(crashed(check, how))
            else:
                result.checks.append(CheckResult(name=check, status=CheckStatus.TIMEOUT,
                                                 message=self._timeout_message((i, exercise_id))))
            self._mark_done((i, exercise_id))
        elif self.last is not None and self.last not in self.done:
            result = self.run.results[self.last]
            if self.timed_out == "submission":
                result.error = (f"not graded in full: the submission ran for more than "
                                f"{self.run.limits.submission:g} s in all, the limit for one submission")
            else:
                result.error = (f"the grading process {how} after the check "
                                f"{result.checks[-1].name if result.checks else '?'}; "
                                "the rest of this exercise's checks did not run")
            self._mark_done(self.last)

    def _timeout_message(self, key: tuple[int, str]) -> str:
        compiled = self.run.compiled.get(key, 0.0)
        if compiled < 0.05:
            return self._timeout_text()
        return self._timeout_text() + (
            f" The {compiled:.1f} s that torch.compile spent compiling in this exercise were not counted "
            f"(up to {self.run.limits.compiling:g} s of compiling per exercise goes uncounted).")

    def _timeout_text(self) -> str:
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
