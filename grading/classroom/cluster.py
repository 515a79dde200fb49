"""Batch grading on a Dask cluster: `python grader.py batch DIR --out grades.csv --scheduler ADDRESS`.

Only where the grading happens changes: `grading.classroom.batch` prepares the submissions, writes the
gradebook, the mistakes, the feedback files and the class report as it does for the lanes, and
hands the grading itself to `grade_on_cluster` instead of `grading.engine.runner.grade_many`.

The client (this process)
    connects to the scheduler (`ADDRESS`: `tcp://HOST:PORT`, a scheduler file written by
    `dask scheduler --scheduler-file`, or `local`: a `LocalCluster` of `--jobs` single-threaded
    worker processes here), gives every worker the instructor's kata files (`ChecksPlugin`: the
    checks, the engine, the catalog and the pytest settings, as they are here when the batch
    starts, with their SHA-256), and submits one task per submission, its files packed with it
    (`pack`: at most `MAX_ZIP_BYTES` once unpacked, as for zips). No more tasks are out at a time
    than the workers have threads, so that a worker that dies takes only the submission it was
    grading with it. Results are handed to `on_complete` as they arrive.

A worker (`grade_task`, in `grading.classroom.cluster_worker`)
    grades each submission in a process of its own for the batch's files: see that module.

A worker that dies under a submission (killed, out of memory, its machine lost) costs that
submission nothing the first time: the client gives it to another worker. The batch sets the
scheduler's `allowed-failures` to 0 for its duration (and back at the end), so that the client
hears of every worker death at once and decides itself (`_run_tasks`): a task lost with a worker
that had not started it is simply sent again, and a submission under which a second worker dies
while grading it is recorded as not graded, with that reason, and the batch goes on.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import time
import uuid
import zipfile
from dataclasses import fields
from pathlib import Path

import distributed

from grading import ROOT
from grading.classroom.intake import MAX_ZIP_BYTES, SubmissionError
from grading.engine.frozen import Sources
from grading.core.options import Options
from grading.core.results import CheckResult, CheckStatus, ExerciseResult, RunResult
from grading.classroom.cluster_worker import (  # noqa: F401 - also the tests'
    PLUGIN, SETTINGS, STARTED, ChecksPlugin, grade_task)

LOCAL = "local"  # --scheduler local: a LocalCluster on this machine
RETRIES = 1  # a submission is graded again at most once after a worker died under it
CONNECT_TIMEOUT = 30  # seconds to reach the scheduler
PAST_LIMIT = 120.0  # seconds past a submission's time limit before its worker gives up on it

KILLED_TWICE = ("not graded: a worker died each of the {n} times it was grading this submission (killed, out "
                "of memory, or its machine lost); its own code may have ended them")


class SchedulerLost(RuntimeError):
    """The scheduler is gone: what was graded is kept, the rest is not graded."""


def shipment() -> Sources:
    """The kata's files the workers grade with: the engine, checks and catalog (`current_sources`,
    the files the integrity manifest guards) and the pytest settings."""
    from grading.engine.runner import current_sources

    sources = current_sources()
    settings = ROOT / SETTINGS
    if settings.is_file():
        sources.texts[SETTINGS] = settings.read_text(encoding="utf-8")
    return sources


# ------------------------------------------------------------------ submissions, as they travel


def place(target: Path) -> tuple[list[str], str]:
    """Where a submission lies, so that its messages name its files as they would here: (the parts
    of its path below the working folder, the working folder) where it lies inside it, else (the
    parts of its absolute path, ""). The worker puts it at the same place below a folder of its
    own, and writes that folder's path in the submission's report as the second item."""
    path = Path(target).resolve()
    try:
        home = Path.cwd().resolve()
        return list(path.relative_to(home).parts) or ["submission"], str(home)
    except (ValueError, OSError):
        return list(path.parts[1:]), ""


def pack(target: Path) -> dict:
    """One submission (a folder, or a file) as it travels with its task: its files zipped. A file
    that is a symbolic link to something outside the submission is left behind. Over
    `MAX_ZIP_BYTES` once unpacked: SubmissionError."""
    target = Path(target)
    root = os.path.realpath(target if target.is_dir() else target.parent)
    if target.is_dir():
        files = []
        for dirpath, dirnames, filenames in os.walk(target):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                files.append((path, path.relative_to(target).as_posix()))
    else:
        files = [(target, target.name)]
    buffer, total = io.BytesIO(), 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path, name in files:
            real = os.path.realpath(path)
            if not (real == root or real.startswith(root.rstrip(os.sep) + os.sep)) or not os.path.isfile(real):
                continue
            total += os.path.getsize(real)
            if total > MAX_ZIP_BYTES:
                raise SubmissionError(f"more than {MAX_ZIP_BYTES // 2**20} MB to send to a worker")
            zf.write(real, name)
    parts, home = place(target)
    return {"place": parts, "home": home, "kind": "dir" if target.is_dir() else "file", "zip": buffer.getvalue()}




def run_from_dict(data: dict) -> RunResult:
    """A RunResult from its fields (`dataclasses.asdict` of one, through JSON)."""
    def build(cls, values: dict):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    exercises = []
    for e in data.get("exercises", []):
        checks = [build(CheckResult, {**c, "status": CheckStatus(c["status"])}) for c in e.get("checks", [])]
        exercises.append(build(ExerciseResult, {**e, "checks": checks}))
    return build(RunResult, {**data, "exercises": exercises,
                             "integrity_affected": set(data.get("integrity_affected") or ())})


# ------------------------------------------------------------------ the client


@contextlib.contextmanager
def connect(scheduler: str, jobs: int):
    """A client of the scheduler at `scheduler` (an address, a scheduler file, or `local`)."""
    cluster = None
    try:
        if scheduler == LOCAL:
            cluster = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                               host="127.0.0.1", dashboard_address=None,
                                               silence_logs=logging.CRITICAL)
            client = distributed.Client(cluster)
        elif scheduler.endswith(".json") and Path(scheduler).is_file():
            client = distributed.Client(scheduler_file=scheduler, timeout=CONNECT_TIMEOUT)
        else:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        from grading.core.config import UsageError

        raise UsageError(f"could not reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


def _allowed_failures(dask_scheduler=None, value=None):
    """Run on the scheduler: set its `allowed-failures` (None: leave it); returns what it was."""
    before = dask_scheduler.allowed_failures
    if value is not None:
        dask_scheduler.allowed_failures = value
    return before


def grade_on_cluster(targets: list[Path], exercises: list, *, scheduler: str, seed: int, options: Options,
                     on_complete=None, **_) -> list:
    """Grade the same exercises of each target on the Dask cluster at `scheduler`, one task per
    target. Returns, per target in order, its RunResult or, where it could not be graded, its
    status ("error: ..."); on_complete(index, that) is called as each arrives. Raises
    SchedulerLost when the scheduler goes away (what arrived before has been handed on).
    `options`: the batch's limits, which every worker grades with; `jobs` is also the number of
    workers of `--scheduler local`."""
    from grading.engine.runner import run_isolation

    jobs = options.jobs
    options = options.but(isolation=run_isolation(options, len(targets)))  # as the lanes decide it
    task = task_of(exercises, seed, options)
    kata = shipment()
    digest = kata.digest()
    results: list = [None] * len(targets)
    if not targets:
        return results
    with connect(scheduler, jobs) as client:
        try:  # every worker death under a task reaches the client at once, which decides (see _run_tasks)
            before = client.run_on_scheduler(_allowed_failures, value=0)
        except Exception:  # a scheduler that runs no function of its clients: its own limit holds
            before = None
        plugin = PLUGIN + digest
        client.register_plugin(ChecksPlugin(digest, kata.texts), name=plugin)
        try:
            _run_tasks(client, targets, digest, task, results, on_complete)
        finally:
            with contextlib.suppress(Exception):
                client.unregister_worker_plugin(plugin)
            if before is not None:
                with contextlib.suppress(Exception):
                    client.run_on_scheduler(_allowed_failures, value=before)
    return results


def task_of(exercises: list, seed: int, options: Options) -> dict:
    """What every task of a batch carries besides its submission: the exercises, the seed, the
    limits, and how long the worker waits for its host before it gives up."""
    return {"exercises": [ex.id for ex in exercises], "seed": seed, "limits": options.to_json(),
            "deadline": options.submission_timeout + PAST_LIMIT}


MOST_TRIES = 6  # tries of one submission in all, also those lost with a worker before they started


def _run_tasks(client, targets, digest, options, results, on_complete) -> None:
    """Submit a task per target, no more out at once than the workers have threads, and settle
    each as it arrives. A task whose worker died is submitted again; it counts against the
    submission only if its worker had started grading it (the worker says so with an event
    first), and a submission whose grading `RETRIES + 1` workers died under is not graded."""
    batch = uuid.uuid4().hex[:12]
    waiting = list(range(len(targets)))[::-1]  # popped from the end: in order
    running: dict[str, int] = {}
    tries, deaths = [0] * len(targets), [0] * len(targets)
    started: set[str] = set()
    lock = threading.Lock()
    arrived = distributed.as_completed()
    threads = Capacity(client)

    def on_started(event) -> None:
        with lock:
            started.add(str(event[1]))

    def settle(i: int, value) -> None:
        results[i] = value
        if on_complete is not None:
            on_complete(i, value)

    def submit_next() -> bool:
        while waiting:
            i = waiting.pop()
            try:
                payload = pack(targets[i])
            except (SubmissionError, OSError) as exc:
                settle(i, f"error: {exc}")
                continue
            tries[i] += 1
            key = f"kata-grade-{batch}-{i:06d}-{tries[i]}"
            future = client.submit(grade_task, digest, payload, options, key, key=key, pure=False, retries=0)
            running[future.key] = i
            arrived.add(future)
            return True
        return False

    client.subscribe_topic(STARTED, on_started)
    try:
        while len(running) < threads.now() and submit_next():
            pass
        for future in arrived:
            i = running.pop(future.key)
            if future.status == "error" and isinstance(future.exception(), distributed.KilledWorker):
                with lock:
                    deaths[i] += future.key in started
                if deaths[i] <= RETRIES and tries[i] < MOST_TRIES:
                    waiting.append(i)  # graded again, next
                else:
                    settle(i, "error: " + KILLED_TWICE.format(n=deaths[i]))
            else:
                settle(i, _outcome(future))
            future.release()
            while len(running) < threads.now() and submit_next():
                pass
    finally:
        with contextlib.suppress(Exception):
            client.unsubscribe_topic(STARTED)


class Capacity:
    """How many tasks may be out at once: the threads of the workers there are now (looked up
    again every few seconds, so that workers that join are used), at least one."""

    EVERY = 2.0

    def __init__(self, client):
        self.client, self.value, self.when = client, 1, float("-inf")

    def now(self) -> int:
        if time.monotonic() - self.when >= self.EVERY:
            with contextlib.suppress(Exception):
                self.value = max(1, sum(self.client.nthreads().values()))
            self.when = time.monotonic()
        return self.value


def _outcome(future):
    """A finished task's RunResult, or the status of a submission it could not grade."""
    if future.status == "finished":
        data = future.result()
        return run_from_dict(data["run"]) if "run" in data else f"error: {data.get('error', 'not graded')}"
    if future.status == "cancelled":
        raise SchedulerLost("the connection to the Dask scheduler was lost")
    exc = future.exception()
    return f"error: not graded: the worker could not grade it ({type(exc).__name__}: {exc})"


# ------------------------------------------------------------------ a worker


