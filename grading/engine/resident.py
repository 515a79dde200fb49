"""A resident grading worker: started once, pytest set up and the checks collected once, the
references of the differential checks run once, it grades one run's work after another, each given
to it when that run starts (`grade_many(..., standby=resident)`), as a lane's worker grades one
submission after another. Where submissions come one at a time (a worker of a cluster), each then
pays for neither pytest's start nor the collection of the checks.

It is a lane's worker like any other: forked (it runs no learner's code itself: every exercise is
graded in a process forked from it, confined before that code runs), its events checked by the
lane, its time limits the run's. Each run's events come on a pipe of its own, sent with that run's
jobs (`grading.engine.request.send_release`); the resident says it is done and closes that pipe
when the run's jobs are, after nothing the learner's code started is left running. A resident that
ends, or is stopped for a limit, is not used again: `fits()` is then false, and the caller makes
another (or `grade_many` starts a worker as usual).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from grading.core.catalog import Exercise
from grading.core.options import Options
from grading.engine.frozen import Sources
from grading.engine.lane_shared import build_request
from grading.engine.process_tools import describe_exit, kill_tree
from grading.engine.processes import Worker, start_worker
from grading.engine.request import Request, send_release
from grading.engine.runner import _cwd, current_sources, run_options


class Resident:
    """A worker that grades run after run for the same exercises, seed, options and isolation."""

    lasting = True  # its scratch folder outlives each run (removed by `close()`)

    def __init__(self, exercises: list[Exercise], *, options: Options | None = None, seed: int = 0,
                 isolation: str = "exercise", graph=(), sources: Sources | None = None, **limits):
        self.exercises, self.seed, self.isolation, self.graph = list(exercises), seed, isolation, sorted(graph)
        self.options = run_options(options, limits)
        self.sources = sources if sources is not None else current_sources()  # before any learner's code runs
        self.scratch = tempfile.mkdtemp(prefix="kata-scratch-")  # emptied after each run
        self.status: int | None = None  # its wait status, once it has ended
        base = {"targets": [self.scratch], "seed": seed, "options": self.options, "isolation": isolation,
                "exercises": self.exercises, "scratch": self.scratch, "display_base": _cwd(), "graph": self.graph}
        work = [(0, ex) for ex in self.exercises if ex.check_file.exists()]
        # configured with its (empty) scratch folder as the target: every release names its own
        handle = start_worker(build_request(base, work, "fork"), "fork", read=False, sources=self.sources,
                              resident=True)
        handle.stream.close()  # it says nothing there: what the collection said comes to each run
        self.pid, self.go = handle.pid, handle.go

    # ---------------------------------------------------------------- what grade_many asks

    def fits(self, targets: list[Path], exercises: list[Exercise], method: str, *, seed, options: Options,
             isolation: str, graph=()) -> bool:
        same = options.but(isolation="auto") == self.options.but(isolation="auto")  # isolation: as decided for the run
        return (method == "fork" and seed == self.seed and same and isolation == self.isolation
                and sorted(graph) == self.graph and {ex.id for ex in exercises} <= {ex.id for ex in self.exercises}
                and self.alive())

    def base_for(self, targets: list[Path], exercises: list[Exercise], graph=()) -> dict:
        return {"targets": [str(t) for t in targets], "seed": self.seed, "options": self.options,
                "isolation": self.isolation, "exercises": exercises, "scratch": self.scratch,
                "display_base": _cwd(), "graph": sorted(graph)}

    def keep(self) -> set[int]:
        """The processes a run must not kill when it sweeps its descendants."""
        return {self.pid} if self.status is None else set()

    def take(self) -> Worker | None:
        """The worker, for one run's lane; None where it has ended."""
        return _Run(None, pid=self.pid, go=self.go, resident=self) if self.alive() else None

    # ---------------------------------------------------------------- its life

    def alive(self) -> bool:
        if self.status is not None:
            return False
        try:
            done, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            done, status = self.pid, 0
        if done:
            self.status = status
            self._close_socket()
        return not done

    def stop(self) -> str:
        """Kill it (and its process group), if it has not ended; how it ended, in words."""
        if self.status is None:
            kill_tree(self.pid)
            try:
                self.status = os.waitpid(self.pid, 0)[1]
            except ChildProcessError:
                self.status = 0
            self._close_socket()
        return describe_exit(os.waitstatus_to_exitcode(self.status))

    def close(self) -> None:
        """Stop it and remove its scratch folder."""
        self.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _close_socket(self) -> None:
        go, self.go = self.go, None
        if go is not None:
            with contextlib.suppress(OSError):
                os.close(go)


class _Run(Worker):
    """The resident, as one run's lane sees it: its events on a pipe made for that run."""

    def __init__(self, events, *, pid: int, go: int, resident: Resident):
        super().__init__(events, pid=pid, go=go)
        self.resident = resident

    def release(self, request: Request) -> None:
        read_fd, write_fd = os.pipe()
        self.stream = os.fdopen(read_fd, "rb")
        try:
            send_release(self.go, {"jobs": request.jobs, "targets": request.targets,
                                   "display_base": request.display_base}, write_fd)
        except OSError:  # it has ended: the stream ends at once, and the lane says how
            pass
        finally:
            os.close(write_fd)

    def end(self, clean: bool) -> str:
        """It said it was done and is waiting for the next run: kept. Else it is stopped and reaped."""
        if clean and self.resident.alive():
            return "finished its run"
        return self.resident.stop()

    def wait(self) -> str:
        return self.resident.stop()
