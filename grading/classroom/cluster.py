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

A worker (`grade_task`)
    checks the files it received against their hash, writes them to a folder of its own once,
    and grades the submissions in a process of its own for those files (`Host`), forked from the
    worker once, which imports the engine and the checks from those files only: the worker's own
    copy of the kata never decides a grade. It grades each submission as `grade_many` does on one
    machine (a process per submission or exercise, the same time and memory limits, the same
    sandbox), so a submission that crashes, hangs or exhausts its memory gets its errors in its
    own row; a host that ends, or that the worker gives up on after the submission's time limit
    and `PAST_LIMIT`, is replaced for the next submission.

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
import json
import logging
import os
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
import uuid
import zipfile
from dataclasses import asdict, fields
from pathlib import Path

import distributed
from distributed.diagnostics.plugin import WorkerPlugin

from grading import ROOT, SOLUTIONS_DIR
from grading.classroom.intake import MAX_ZIP_BYTES, SubmissionError, _safe_extract
from grading.engine.frozen import Sources
from grading.core.options import Options
from grading.core.results import CheckResult, CheckStatus, ExerciseResult, RunResult

LOCAL = "local"  # --scheduler local: a LocalCluster on this machine
RETRIES = 1  # a submission is graded again at most once after a worker died under it
PLUGIN = "autograd-kata-"  # + the digest of the kata's files: the name of the batch's ChecksPlugin
CONNECT_TIMEOUT = 30  # seconds to reach the scheduler
PAST_LIMIT = 120.0  # seconds past a submission's time limit before its worker gives up on it
SETTINGS = "pyproject.toml"  # travels with the checks: pytest's settings and the kata's limits

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


def unpack(payload: dict, into: Path) -> Path:
    """A packed submission, unpacked at its place under `into`; returns what to grade."""
    parts = [str(p) for p in payload["place"]]
    if not parts or any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts):
        raise SubmissionError(f"an unsafe place for a submission: {'/'.join(parts)!r}")
    dest = into.joinpath(*parts)
    folder = dest if payload["kind"] == "dir" else dest.parent
    folder.mkdir(parents=True, exist_ok=True)
    archive = into / f".{uuid.uuid4().hex}.zip"
    archive.write_bytes(payload["zip"])
    try:
        _safe_extract(archive, folder)
    finally:
        archive.unlink()
    return dest


# ------------------------------------------------------------------ results, as they travel


def _plain(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


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
    jobs = options.jobs
    if options.isolation == "auto":
        options = options.but(isolation="submission" if len(targets) > 1 else "exercise")
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


STARTED = "autograd-kata-started"  # the topic of the event a worker logs as it starts grading a task
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


class ChecksPlugin(WorkerPlugin):
    """The instructor's kata files for one batch (by path, their texts) and their digest, held by
    every worker of the cluster, also by those that join (or are restarted) during the batch."""

    def __init__(self, digest: str, texts: dict[str, str]):
        self.digest, self.texts = digest, texts

    def teardown(self, worker):
        kata = _KATAS.pop(self.digest, None)
        if kata is not None:
            if getattr(kata, "host", None) is not None:
                kata.host.stop()
            shutil.rmtree(kata.folder, ignore_errors=True)


class Kata:
    """The files of one batch on a worker: written once to a folder of their own (pytest collects
    check files from disk), imported from memory (`grading.engine.frozen`), compiled once."""

    def __init__(self, digest: str, texts: dict[str, str], where: str | None = None):
        self.folder = Path(tempfile.mkdtemp(prefix=f"kata-checks-{digest[:12]}-", dir=where))
        for relative, text in texts.items():
            parts = relative.split("/")
            if any(p in ("", ".", "..") or "\\" in p for p in parts):
                continue
            path = self.folder.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if SOLUTIONS_DIR.is_dir():  # the worker's reference solutions stay out of a learner's reach
            (self.folder / "solutions").symlink_to(SOLUTIONS_DIR, target_is_directory=True)
        origin = str(self.folder / "grading" / "engine" / "frozen.py")
        self.frozen = types.ModuleType("grading.engine.frozen")
        self.frozen.__file__ = origin
        exec(compile(texts["grading/engine/frozen.py"], origin, "exec", dont_inherit=True), self.frozen.__dict__)
        self.sources = self.frozen.Sources(str(self.folder), dict(texts))
        self.frozen.precompile(self.sources)
        self.host: Host | None = None  # started by the first submission (`_host`)


_KATAS: dict[str, Kata] = {}
_LOCK = threading.Lock()
_WARM: list[bool] = []


def _kata(digest: str) -> Kata | str:
    """This worker's copy of the batch's files, checked against their digest; or why there is none."""
    with _LOCK:
        if digest in _KATAS:
            return _KATAS[digest]
        worker = distributed.get_worker()
        plugin = worker.plugins.get(PLUGIN + digest)
        if plugin is None:
            return "not graded: this worker has not received the batch's checks"
        received = Sources("", plugin.texts).digest()
        if received != digest or plugin.digest != digest:
            return (f"not graded: the checks this worker received do not match their hash "
                    f"(expected {digest[:12]}, received {received[:12]})")
        if not _WARM:  # torch, numpy, pytest and one optimizer, once: every grading process forks from here
            from grading.engine.process_tools import warm_up

            warm_up(optimizer=True)
            _WARM.append(True)
        _KATAS[digest] = Kata(digest, plugin.texts, worker.local_directory)  # removed with the worker
        return _KATAS[digest]


def grade_task(digest: str, payload: dict, options: dict, tag: str = "") -> dict:
    """A Dask task: grade one submission with the batch's checks. {"run": fields of its
    RunResult} or {"error": why it was not graded}. It first tells the client (an event with
    `tag`, the task's key) that grading has started here."""
    distributed.get_worker().log_event(STARTED, tag)
    kata = _kata(digest)
    if isinstance(kata, str):
        return {"error": kata}
    with tempfile.TemporaryDirectory(prefix="kata-submission-", dir=distributed.get_worker().local_directory) as tmp:
        base = Path(os.path.realpath(tmp))
        try:
            target = unpack(payload, base)
        except SubmissionError as exc:
            return {"error": str(exc)}
        # paths are shown relative to the working folder: the client's, where the submission lies
        # in it; else they are shown whole, as the client's absolute paths
        cwd = base if payload.get("home") else base / ".elsewhere"
        cwd.mkdir(exist_ok=True)
        text = _host(kata).grade(target, cwd, options)
        if isinstance(text, dict):
            return text
        here, there = (json.dumps(str(p))[1:-1] + "/" for p in (base, payload.get("home", "")))
        try:
            return json.loads(text.replace(here, there))
        except ValueError:  # cut short: the process ended while it wrote
            return {"error": "not graded: the process grading it on the worker ended before it answered"}


class Host:
    """This worker's grading process for one batch's files: forked from the worker once, it imports
    the batch's engine and checks (from those files only) and grades the submissions it is sent, one
    after the other, each as `grade_many` grades on one machine (in processes forked from it, under
    the same limits and sandbox), so that a submission pays neither for importing the engine nor
    for the checks. It runs no learner's code itself. It ends with the worker; one that has ended
    or that a worker gave up on is replaced for the next submission."""

    def __init__(self, kata: Kata):
        requests_read, self.requests = os.pipe()
        self.answers, answers_write = os.pipe()
        worker = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:  # never returns into the worker's code
            try:
                os.close(self.requests)
                os.close(self.answers)
                _serve(kata, requests_read, answers_write, worker)
            finally:
                os._exit(0)
        os.close(requests_read)
        os.close(answers_write)

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def grade(self, target: Path, cwd: Path, options: dict) -> str | dict:
        """Grade one submission: its answer as JSON text, or {"error": why there is none}. Past
        `options["deadline"]` the host is stopped (and replaced for the next submission)."""
        request = json.dumps({"target": str(target), "cwd": str(cwd), "options": options}).encode("utf-8") + b"\n"
        try:
            while request:
                request = request[os.write(self.requests, request):]
        except OSError:  # it has ended
            return self._ended()
        deadline = time.monotonic() + float(options["deadline"])
        data, size = b"", None
        while size is None or len(data) < size + 8:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                return {"error": f"not graded: its grading went on past {float(options['deadline']):g} s on the worker"}
            ready, _, _ = select.select([self.answers], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(self.answers, 1 << 20)
            if not chunk:
                return self._ended()
            data += chunk
            if size is None and len(data) >= 8:
                size = int.from_bytes(data[:8], "big")
        return data[8:8 + size].decode("utf-8", errors="replace")

    def _ended(self) -> dict:
        status = self.stop()
        from grading.engine.process_tools import describe_exit

        return {"error": f"not graded: the process grading it on the worker "
                         f"{describe_exit(os.waitstatus_to_exitcode(status))}"}

    def stop(self) -> int:
        """End it (SIGTERM: its grading ends its own processes; then SIGKILL); its wait status."""
        for fd in (self.requests, self.answers):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            return _stop(self.pid)
        except ChildProcessError:
            return 0


def _host(kata: Kata) -> Host:
    """The worker's grading process for `kata`, started anew where there is none or it has ended."""
    host = getattr(kata, "host", None)
    if host is None or not host.alive():
        if host is not None:
            host.stop()
        host = kata.host = Host(kata)
    return host


def _stop(pid: int) -> int:
    """SIGTERM (its grading ends its own processes), then SIGKILL; returns its wait status."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


PR_SET_PDEATHSIG = 1


def _serve(kata: Kata, requests: int, answers: int, worker: int) -> None:
    """The host process (see `Host`): forget the worker's copy of the engine, import the batch's and
    its checks, then grade each request as it comes, until the worker closes the pipe."""
    from grading.engine.process_tools import _prctl, close_inherited_channels

    def stop(*_):
        raise SystemExit(1)  # grade_many's clean-up ends the grading processes

    signal.signal(signal.SIGTERM, stop)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # the worker's end is this process's
    if os.getppid() != worker:
        raise SystemExit(1)
    close_inherited_channels(keep={requests, answers})  # the worker's connections are not the grading's
    for name in list(sys.modules):
        if name.partition(".")[0] in ("grading", "checks"):
            del sys.modules[name]
    sys.modules["grading.engine.frozen"] = kata.frozen
    kata.frozen.install(kata.sources)
    os.chdir(kata.folder)
    import importlib

    from grading.core.catalog import load_catalog  # the batch's own, from now on
    from grading.core.options import Options as BatchOptions
    from grading.engine.child import _silence_standard_streams
    from grading.engine.runner import grade_many

    _silence_standard_streams()  # the worker's log is not the grading's
    import torch

    torch.set_num_threads(1)  # as in every grading process: the references prepared here compute as they would there

    catalog = load_catalog()
    importlib.import_module("checks.conftest")  # imported here once: each grading forks with them
    for exercise in catalog:
        with contextlib.suppress(Exception):  # a check file that fails to import fails in its grading, as ever
            importlib.import_module(f"checks.{exercise.check_file.stem}")
    import gc

    gc.freeze()  # what was imported is never walked or copied by the collector of the processes forked from here
    stream = os.fdopen(requests, "rb")
    prepared: set = set()
    for line in stream:
        request = json.loads(line)
        options = request["options"]
        limits = BatchOptions.from_json(options["limits"])
        if options["seed"] not in prepared:  # each submission then runs only its own side of them
            prepared.add(options["seed"])
            _prepare_references(kata, [catalog[i] for i in options["exercises"]], options["seed"])
        os.chdir(request["cwd"])  # paths in messages are shown relative to it, as on the client
        try:
            run = grade_many([Path(request["target"])], [catalog[i] for i in options["exercises"]],
                             seed=options["seed"], options=limits, lanes=1, sources=kata.sources)[0]
            answer = {"run": asdict(run)}
        except Exception as exc:  # noqa: BLE001 - the worker is told why
            answer = {"error": f"not graded: grading it on the worker failed ({type(exc).__name__}: {exc})"}
        finally:
            os.chdir(kata.folder)
        data = json.dumps(answer, default=_plain).encode("utf-8")
        data = len(data).to_bytes(8, "big") + data
        while data:
            data = data[os.write(answers, data):]


def _prepare_references(kata: Kata, exercises: list, seed) -> None:
    """In the host: the references of the differential checks of `exercises` for `seed`, run once
    (see `checks.structures.preparing`), before any submission; the grading processes forked from
    the host afterwards find them. Where that fails, each check computes its reference itself."""
    import pytest
    from grading import ROOT as root
    from grading.engine.pytest_args import pytest_args
    from grading.engine.plugin import GradingPlugin

    class References:
        @pytest.hookimpl(tryfirst=True)
        def pytest_runtestloop(self, session):
            GradingPlugin(lambda event: None)._prepare_references(session.items)
            return True  # and no check is run

    inifile = root / SETTINGS
    args = pytest_args([str(ex.check_file) for ex in exercises if ex.check_file.exists()], seed=seed,
                       target=str(kata.folder), inifile=str(inifile) if inifile.is_file() else None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    with contextlib.suppress(Exception):
        pytest.main(args, plugins=[References()])
