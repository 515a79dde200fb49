"""The worker's side of batch grading on a Dask cluster (`grading.classroom.cluster` is the
client's): the kata's files a batch sends (`ChecksPlugin`), checked against their hash and
written once (`Kata`), and the task that grades one submission (`grade_task`).

A worker (`grade_task`)
    checks the files it received against their hash, writes them to a folder of its own once,
    and grades the submissions in a process of its own for those files (`Host`), forked from the
    worker once, which imports the engine and the checks from those files only: the worker's own
    copy of the kata never decides a grade. It grades each submission as `grade_many` does on one
    machine (a process per submission or exercise, the same time and memory limits, the same
    sandbox), so a submission that crashes, hangs or exhausts its memory gets its errors in its
    own row. The host grades them with a resident worker (`grading.engine.resident`), which
    collected the checks and ran the differential checks' references once, as a lane's worker
    grades its submissions one after another; a host that ends, or that the worker gives up on after the submission's time limit
    and `grading.classroom.cluster.PAST_LIMIT`, is replaced for the next submission.
"""

from __future__ import annotations

import contextlib
import json
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
from dataclasses import asdict
from pathlib import Path

import distributed
from distributed.diagnostics.plugin import WorkerPlugin

from grading import SOLUTIONS_DIR
from grading.classroom.intake import SubmissionError, _safe_extract
from grading.engine.frozen import Sources

PLUGIN = "autograd-kata-"  # + the digest of the kata's files: the name of the batch's ChecksPlugin
SETTINGS = "pyproject.toml"  # travels with the checks: pytest's settings and the kata's limits
STARTED = "autograd-kata-started"  # the topic of the event a worker logs as it starts grading a task


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
    for the checks, nor, graded by its resident worker, for pytest's start and the collection of
    the checks. It runs no learner's code itself. It ends with the worker; one that has ended
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
    its checks, then grade each request as it comes, with a resident worker made for the batch's
    exercises, seed and limits (and made again where one ends), until the worker closes the pipe."""
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
    from grading.engine.resident import Resident
    from grading.engine.runner import grade_many, run_isolation

    _silence_standard_streams()  # the worker's log is not the grading's
    import torch

    torch.set_num_threads(1)  # as in every grading process (the references, run in the resident worker, compute as there)

    catalog = load_catalog()
    importlib.import_module("checks.conftest")  # imported here once: each grading forks with them
    for exercise in catalog:
        with contextlib.suppress(Exception):  # a check file that fails to import fails in its grading, as ever
            importlib.import_module(f"checks.{exercise.check_file.stem}")
    import gc

    gc.freeze()  # what was imported is never walked or copied by the collector of the processes forked from here
    stream = os.fdopen(requests, "rb")
    resident: Resident | None = None
    try:
        for line in stream:
            request = json.loads(line)
            options = request["options"]
            limits = BatchOptions.from_json(options["limits"])
            exercises = [catalog[i] for i in options["exercises"]]
            run = dict(seed=options["seed"], options=limits, isolation=run_isolation(limits, 1))
            if resident is None or not resident.fits([], exercises, "fork", **run):
                if resident is not None:
                    resident.close()
                # collects the checks and runs the differential checks' references once, for every
                # submission it grades after this one
                resident = Resident(exercises, sources=kata.sources, **run)
            os.chdir(request["cwd"])  # paths in messages are shown relative to it, as on the client
            try:
                graded = grade_many([Path(request["target"])], exercises, seed=options["seed"], options=limits,
                                    lanes=1, sources=kata.sources, standby=resident)[0]
                answer = {"run": asdict(graded)}
            except Exception as exc:  # noqa: BLE001 - the worker is told why
                answer = {"error": f"not graded: grading it on the worker failed ({type(exc).__name__}: {exc})"}
            finally:
                os.chdir(kata.folder)
            data = json.dumps(answer, default=_plain).encode("utf-8")
            data = len(data).to_bytes(8, "big") + data
            while data:
                data = data[os.write(answers, data):]
    finally:
        if resident is not None:
            resident.close()
