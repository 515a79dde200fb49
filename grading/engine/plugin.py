"""The pytest plugin object that runs the checks and turns each one's outcome into an event.

It runs inside a lane (`grading.engine.child`), or inside a Jupyter kernel (`grading.learner.kernel`). After
pytest has collected the checks, `pytest_runtestloop` takes over: for each submission (`jobs`)
and exercise it runs the checks one by one (`_run_check`), sending `Start` before each (so a
process that dies is blamed on the right check) and `Result` after it, with the learner's
message built by `grading.engine.outcomes`.

Where the learner's code runs:
- `fork=True, isolation="exercise"`: each exercise in a forked process of its own, which dies
  with whatever the learner's module changed;
- `fork=True, isolation="submission"`: each submission's exercises in one forked process, the
  state put back between them (`grading.engine.restore`);
- `fork=False`: in this process, the state put back between exercises (`restore=True`; a fresh
  interpreter grading one submission) or not at all (a notebook's kernel, one exercise).

A forked process writes its events to a pipe of its own; this process reads them and passes on
only what that process may say (see `grading.engine.events`). Each exercise runs in a throwaway working
folder (inside `scratch`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest

from grading.engine import graph_capture
from grading.engine.compiling import uncharged
from grading.engine.events import Collected, CollectError, ExerciseExit, Flag, Graph, Note, Result, Start, Yield
from grading.engine.outcomes import MESSAGE_LIMIT, OUTPUT_LIMIT, PASS_THROUGH, Output, cut, describe_current, time_limit
from grading.engine.process_tools import become_subreaper, describe_exit, kill_descendants
from grading.core.results import CheckResult, CheckStatus
from grading.engine.targets import LOAD_NOTES, is_learner_file, set_graded
from grading.engine.plugin_forks import ExerciseProcesses, _Spare, _read_all, from_outside


def exercise_of(nodeid: str) -> str:
    """`checks/test_ex03_sgd_step.py::test_x[a]` -> `ex03_sgd_step`."""
    filename = nodeid.split("::", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    return filename.removeprefix("test_").removesuffix(".py")


def check_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


@contextlib.contextmanager
def scratch_folder(root: str | None):
    """A throwaway working folder for the learner's code (inside `root`, which the grader removes
    at the end): files it writes with relative paths land there, not in the grader's folder."""
    path = tempfile.mkdtemp(prefix="work-", dir=root)
    previous = os.getcwd()
    names = ("TMPDIR", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR", "XDG_CACHE_HOME")
    saved, saved_tempdir = {name: os.environ.get(name) for name in names}, tempfile.tempdir
    os.chdir(path)
    tempfile.tempdir = None  # the learner's temporary files and caches land here too (the sandbox writes nowhere else)
    os.environ.update(dict.fromkeys(names, path))
    try:
        yield path
    finally:
        os.chdir(previous)
        tempfile.tempdir = saved_tempdir
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(path, ignore_errors=True)


class GradingPlugin(ExerciseProcesses):
    """Runs the collected checks and sends an event for each through `send(event)`."""

    def __init__(self, send, *, fork: bool = False, isolation: str = "exercise", restore: bool = True,
                 jobs=None, timeout: float | None = None, channel=None, scratch: str | None = None,
                 targets: list[str] | None = None, standby: int | None = None, graph=(), sandbox: str = "auto",
                 resident: bool = False):
        self._send = send
        self.standby = standby  # a pipe: once the checks are collected, the jobs to run come on it
        self.resident = resident  # ... a socket, on which one release after another comes (`_serve_releases`)
        self._preamble: list = []  # a resident's events of the collection, said again to each release
        self._deliver = send
        if resident:
            self._send = self._preamble.append
        self.graph = set(graph or ())  # exercises whose checks' graphs are recorded (`--graph`)
        self.fork, self.isolation, self.restore = fork, isolation, restore
        self.jobs = jobs  # [[target index, target path, [exercise ids]], ...]; None: the configured target
        self.timeout = timeout  # seconds per check
        self._channel = channel  # where `send` writes (a forked process moves it to a pipe of its own)
        self.scratch = scratch  # the folder that holds each exercise's throwaway working folder
        self.targets = targets or []  # every submission of the run: the sandbox keeps the others out of reach
        self.sandbox = sandbox  # the run's `sandbox` option: auto, require or off
        self.confinement: str | None = None
        self.collected: dict[str, list[str]] = {}
        self.target = 0  # the index of the submission being graded
        self.target_path: str | None = None
        self._running: str | None = None
        self._flagged: set[str] = set()
        self._noted: set[tuple[str, str]] = set()
        self._regraded: set[str] = set()  # exercises graded again after a death from outside
        self._spare: _Spare | None = None

    def emit(self, event) -> None:
        self._send(event.about(self.target))

    # ---------------------------------------------------------------- integrity flags

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
        self.emit(Flag(exercise, message))

    # ---------------------------------------------------------------- pytest's hooks

    def pytest_collectreport(self, report):
        if report.failed:
            self.emit(CollectError(exercise_of(report.nodeid), cut(str(report.longrepr), MESSAGE_LIMIT)))

    def pytest_collection_finish(self, session):
        collected: dict[str, list[str]] = {}
        for item in session.items:
            collected.setdefault(exercise_of(item.nodeid), []).append(check_name(item.nodeid))
        self.collected = collected
        self._send(Collected(collected))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        if session.config.option.collectonly:
            return None
        by_exercise = {ex: list(group) for ex, group in
                       itertools.groupby(session.items, key=lambda item: exercise_of(item.nodeid))}
        jobs = self.jobs or [[0, None, list(by_exercise)]]
        if self.fork and (len({job[0] for job in jobs}) > 1 or self.resident):  # several submissions to fork for
            self._prepare_references(session.items)
        if self.fork or self.restore:  # a grading worker: the collected checks live as long as it does,
            import gc  # out of the collector's way (and, in forked processes, never copied by it)

            gc.freeze()
        if self.restore and (self.isolation == "submission" or not self.fork):
            from grading.engine.restore import Headroom, Snapshot

            self._snapshot = Snapshot()  # before any learner's code ran here; put back after every exercise
            self._room = Headroom()
        if self.restore and not self.fork and self.scratch:  # a fresh interpreter grading one submission here
            self.target_path = jobs[0][1]
            self._confine()
        if self.resident:
            return self._serve_releases(session, by_exercise)
        if self.standby is not None:  # all made ahead of time: now wait to be told what to grade
            if self.fork and self.isolation == "exercise" and self._channel is not None:
                self._spare = _Spare(self, session, jobs[0][1], by_exercise)
            jobs = self.jobs = self._wait_for_jobs()
        try:
            return self._run_jobs(session, jobs, by_exercise)
        finally:
            spare, self._spare = self._spare, None
            if spare is not None:  # not needed after all
                spare.dismiss()

    def _run_jobs(self, session, jobs, by_exercise) -> bool:
        left = sum(1 for _, _, exercises in jobs for ex in exercises if by_exercise.get(ex))
        for index, target, exercises in jobs:
            self.target, self.target_path = index, target
            if target is not None:
                session.config.kata_target = Path(target)
                set_graded(session.config.kata_target)
            todo = [ex for ex in exercises if by_exercise.get(ex)]
            if self.fork and self.isolation == "submission":
                while todo:
                    todo = todo[self._run_submission_forked(todo, by_exercise):]
                continue
            for exercise in todo:
                left -= 1
                if self.fork:
                    def work(items=by_exercise[exercise]) -> None:
                        self._run_exercise(items)

                    spare, self._spare = self._spare, None
                    if spare is not None and spare.target == target:
                        code = spare.run(index, exercise)
                    else:
                        if spare is not None:
                            spare.dismiss()
                        code = self._in_exercise_process(work, [exercise])
                    if from_outside(code):  # graded again: a death the learner's code may not have caused
                        code = self._in_exercise_process(work, [exercise])
                    # always said: a learner's os._exit(0) ends the process as "cleanly" as finishing does
                    self.emit(ExerciseExit(exercise, describe_exit(code), code))
                    continue
                self._run_exercise(by_exercise[exercise])
                if left and self._must_stop():  # the rest in a fresh process
                    self.emit(Yield(exercise))
                    return True
        return True

    def _prepare_references(self, items) -> None:
        """Run the differential checks' references here, once, before any learner's code (see
        `checks.structures.preparing`): the processes forked for each submission then run only the
        learner's side of them. A check that fails to prepare computes its reference itself."""
        try:
            from checks.structures import preparing
        except ImportError:  # checks of another shape: nothing to prepare
            return
        from grading.core.graph_data import DIFFERENTIAL

        with preparing():
            for item in items:
                if DIFFERENTIAL not in item.name:
                    continue
                if hasattr(item, "_request") and not item._request:
                    item._initrequest()
                try:
                    with time_limit(self.timeout):
                        item.ihook.pytest_runtest_setup(item=item)
                        item.ihook.pytest_runtest_call(item=item)
                        item.ihook.pytest_runtest_teardown(item=item, nextitem=None)
                except PASS_THROUGH:
                    raise
                except BaseException:  # noqa: BLE001 - that check computes its reference itself
                    with contextlib.suppress(BaseException):
                        item.ihook.pytest_runtest_teardown(item=item, nextitem=None)
                finally:
                    if hasattr(item, "_request"):
                        item._request = False
                        item.funcargs = None

    def _wait_for_jobs(self) -> list:
        """The jobs the grader sends on the standby pipe (all it writes, until it closes it); none
        if it closed it without a word. The pipe is closed before any learner's code runs."""
        fd, self.standby = self.standby, None
        data = _read_all(fd)
        return json.loads(data)["jobs"] if data.strip() else []

    # ---------------------------------------------------------------- one exercise, one check

    def _run_exercise(self, items) -> None:
        """One exercise's checks, in a throwaway working folder. Afterwards, in a grading worker,
        whatever the learner's code started is killed (this process is their subreaper, so the
        processes that left their group go too), and the state is put back where this process
        grades another exercise."""
        worker = self.fork or self.restore  # not a notebook's kernel, whose children are its own
        if worker:
            become_subreaper()
        try:
            with scratch_folder(self.scratch):
                self._run_items(items)
        finally:
            if worker:
                kill_descendants()
            if hasattr(self, "_snapshot"):
                self._snapshot.restore()

    def _must_stop(self) -> bool:
        """Whether this process must grade no other exercise: memory it cannot give back, or a
        thread of the learner's still running (which could change the state again)."""
        return self._room.spent() or bool(self._snapshot.threads_left())

    def _run_items(self, items) -> None:
        for i, item in enumerate(items):
            nextitem = items[i + 1] if i + 1 < len(items) else None
            outcome = self._run_check(item, nextitem)
            if outcome.get("load_error"):
                # the module cannot be loaded: every other check would fail the same way, so say so at once
                self._skip_rest(items[i + 1:], item, message=outcome["message"], load_error=True,
                                location=outcome.get("location"))
                return
            if outcome.get("status") == CheckStatus.TIMEOUT:
                # one check that never ends is enough: don't make the learner wait for every other one
                self._skip_rest(items[i + 1:], item,
                                message=f"not run: the check {check_name(item.nodeid)} of this exercise ran out of time.")
                return

    def _skip_rest(self, rest, item, **result) -> None:
        for other in rest:
            self.emit(Result(exercise_of(other.nodeid), CheckResult(check_name(other.nodeid), CheckStatus.ERROR, **result)))
        try:  # leave no fixture of it set up, for the next exercise graded in this process
            item.ihook.pytest_runtest_teardown(item=item, nextitem=None)
        except PASS_THROUGH:
            raise
        except BaseException:
            pass

    def _run_check(self, item, nextitem) -> dict:
        """Run one check and send its events; returns what went wrong ({} when it passed).

        pytest's own setup, call and teardown hooks run the check, so fixtures behave as
        always; what is left out is pytest's report objects and failure text, which cost
        more than most checks do. The learner's output and warnings are kept, and the
        time limit is the grader's own (torch.compile's compiling is not charged to it:
        `grading.engine.compiling`)."""
        exercise, name = exercise_of(item.nodeid), check_name(item.nodeid)
        self._running = exercise
        self.emit(Start(exercise, name))
        output = Output(OUTPUT_LIMIT)
        streams = sys.stdout, sys.stderr
        outcome: dict = {}
        teardown: dict = {}
        if hasattr(item, "_request") and not item._request:
            item._initrequest()  # fresh fixture values: the same check may run again for another target
        recorder = graph_capture.begin() if exercise in self.graph else None
        graph = None
        started = time.perf_counter()
        sys.stdout = sys.stderr = output
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    with time_limit(self.timeout), uncharged(exercise, name, self.emit):
                        item.ihook.pytest_runtest_setup(item=item)
                        item.ihook.pytest_runtest_call(item=item)
                except PASS_THROUGH:
                    raise
                except BaseException:
                    outcome = describe_current()
                duration = time.perf_counter() - started
                if recorder is not None:
                    graph = graph_capture.finish()
                try:
                    with time_limit(self.timeout), uncharged(exercise, name, self.emit):
                        item.ihook.pytest_runtest_teardown(item=item, nextitem=nextitem)
                except PASS_THROUGH:
                    raise
                except BaseException:
                    teardown = describe_current()
        finally:
            sys.stdout, sys.stderr = streams
            if hasattr(item, "_request"):  # as pytest does: the check's fixture values go with it
                item._request = False
                item.funcargs = None
        for w in caught:  # the learner's own warnings are worth seeing; the checks' are not theirs
            if is_learner_file(w.filename):
                output.write(f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n")
        self.emit(Result(exercise, CheckResult(
            name, outcome.get("status", CheckStatus.PASSED), message=cut(outcome.get("message", ""), MESSAGE_LIMIT),
            duration=duration, not_implemented=outcome.get("not_implemented", False),
            load_error=outcome.get("load_error", False), location=outcome.get("location"),
            traceback=outcome.get("traceback", ""), output=output.text(),
            mistake=outcome.get("mistake"), mistake_title=outcome.get("mistake_title"))))
        if graph is not None:
            self.emit(Graph(exercise, name, graph))
        if teardown:
            self.emit(Result(exercise, CheckResult(name + " (teardown)", teardown["status"],
                                                   message=cut(teardown["message"], MESSAGE_LIMIT))))
        for note in LOAD_NOTES.pop(exercise, []):
            if (exercise, note) not in self._noted:
                self._noted.add((exercise, note))
                self.emit(Note(exercise, note))
        return outcome

    # ---------------------------------------------------------------- processes of their own
