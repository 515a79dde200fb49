"""Batch grading on a Dask cluster (`batch --scheduler`): a real scheduler and real worker processes
on this machine, started here and stopped at the end (`dask scheduler`, `dask worker`, and a
LocalCluster for `--scheduler local`). The same gradebook as the lanes; a submission that crashes,
hangs, exhausts its memory or kills its worker, and a worker killed from outside, cost no other
row; `--resume` after an interrupted batch grades only what is missing; the checks the workers
grade with are the client's, verified by their hash."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import dask
import distributed
import pytest

from grading import ROOT
from grading.classroom.batch import progress_line, run_batch
from grading.core.catalog import Catalog
from grading.core.options import Options
from grading.cli import main
from grading.classroom.cluster import (KILLED_TWICE, PLUGIN, ChecksPlugin, _allowed_failures, grade_task, pack, task_of,
                                       run_from_dict, shipment)
from grading.engine.process_tools import children
from grading.core.stubs import stub_for

from .conftest import CATALOG, CORPUS
from .support import solution

EX01, EX03, EX13 = CATALOG["ex01_enable_tracking"], CATALOG["ex03_sgd_step"], CATALOG["ex13_make_optimizer"]
THREE = Catalog([EX01, EX03, EX13])  # a few exercises, one that builds optimizers: where it runs is under test
TWO = Catalog([EX01, EX03])

# ------------------------------------------------------------------ a scheduler and two workers, by hand


# started through a process that ends at once: they are nobody's children here, so that a grading
# run in this process, which ends every process it finds below it when it is done, leaves them alone
DETACHED = ("import subprocess, sys; print(subprocess.Popen(sys.argv[1:], start_new_session=True, "
            "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """`dask scheduler` and `dask worker --nthreads 1` (two of them, each with its nanny), as the
    instructors' guide starts them; yields the scheduler file."""
    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # the workers import this copy of the kata
    started = []
    try:
        for args in (["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                      "--scheduler-file", str(file)],
                     ["worker", "--scheduler-file", str(file), "--nthreads", "1", "--nworkers", "2",
                      "--host", "127.0.0.1", "--no-dashboard", "--local-directory", str(folder)]):
            out = subprocess.run([sys.executable, "-c", DETACHED, sys.executable, "-m", "dask", *args], cwd=folder,
                                 env=env, capture_output=True, text=True, check=True)
            started.append(int(out.stdout))
            deadline = time.monotonic() + 60
            while not file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        with distributed.Client(scheduler_file=str(file), timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
        yield str(file)
    finally:
        for group in reversed(started):  # each is the leader of its own session and group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        for group in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


def _folder(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> dict[str, dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["submission"]: row for row in csv.DictReader(fh)}


UNPACKED = re.compile(r"kata-batch-[^/]+")  # where a zip was unpacked: a fresh folder on every run, lanes too


def _without_durations(data):
    """A report but for the time taken and the name of the folder its zip was unpacked in."""
    if isinstance(data, dict):
        return {k: _without_durations(v) for k, v in data.items() if k != "duration"}
    if isinstance(data, list):
        return [_without_durations(v) for v in data]
    return UNPACKED.sub("kata-batch-", data) if isinstance(data, str) else data


# ------------------------------------------------------------------ the command line


def test_scheduler_without_dask_is_a_usage_error_that_names_the_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as where the extra is not installed
    monkeypatch.delitem(sys.modules, "grading.classroom.cluster")
    (tmp_path / "subs").mkdir()
    code = main(["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"), "--scheduler", "local"])
    err = capsys.readouterr().err
    assert code == 2 and 'pip install -e ".[cluster]"' in err, err
    assert not (tmp_path / "g.csv").exists()


def test_resume_without_feedback_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    assert main(["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"), "--resume"]) == 2
    assert "--resume needs --feedback" in capsys.readouterr().err


def test_the_progress_bar_says_what_is_done_what_failed_and_the_time_left():
    assert progress_line(3, 10, 1, 6.0) == \
        "[#########---------------------] 3/10 submissions, 1 with errors, about 14 s left"
    assert progress_line(10, 10, 0, 20.0).endswith("10/10 submissions, 0 with errors")
    assert progress_line(0, 4, 0, 1.0).endswith("0/4 submissions, 0 with errors")


# ------------------------------------------------------------------ the same gradebook


def _class(tmp_path: Path) -> Path:
    subs = tmp_path / "subs"
    _folder(subs / "alice", {ex.filename: solution(ex) for ex in THREE})
    _folder(subs / "bob", {ex.filename: stub_for(ex) for ex in THREE})
    _folder(subs / "carol", {EX01.filename: (CORPUS / EX01.id / "wrong_detach.py").read_text(encoding="utf-8"),
                             EX03.filename: (CORPUS / EX03.id / "wrong_rebinding.py").read_text(encoding="utf-8"),
                             EX13.filename: solution(EX13)})
    with zipfile.ZipFile(subs / "dave.zip", "w") as zf:
        zf.writestr(f"homework/{EX03.filename}", solution(EX03))
    (subs / "erin").mkdir()  # nothing to grade: an error row
    return subs


def test_the_cluster_writes_what_the_lanes_write_for_the_same_seed(tmp_path):
    """`--scheduler local` (a LocalCluster of two single-threaded worker processes): the same
    gradebook, mistakes, feedback (but for the time taken) and class report as the lanes."""
    subs = _class(tmp_path)
    written = {}
    for how, scheduler in (("lanes", None), ("cluster", "local")):
        out = tmp_path / how / "grades.csv"
        out.parent.mkdir()
        run_batch(subs, THREE, out, jobs=2, seed=11, timeout=10, memory_mb=1024, feedback=out.parent / "feedback",
                  report=out.parent / "class.html", scheduler=scheduler)
        written[how] = out.parent
    lanes, cluster = written["lanes"], written["cluster"]
    rows = _rows(lanes / "grades.csv")
    assert rows["alice"]["total"] == rows["alice"]["max_total"] and rows["bob"]["total"] == "0"
    assert rows["erin"]["status"].startswith("error: no exercise file")
    for name in ("grades.csv", "mistakes.csv"):
        assert (cluster / name).read_text(encoding="utf-8") == (lanes / name).read_text(encoding="utf-8"), name
    assert "ex03.rebinding" in (lanes / "mistakes.csv").read_text(encoding="utf-8")
    feedback = sorted(p.name for p in (lanes / "feedback").iterdir())
    assert feedback == sorted(p.name for p in (cluster / "feedback").iterdir()) and len(feedback) == 5
    for name in feedback:
        mine, theirs = (json.loads((d / "feedback" / name).read_text(encoding="utf-8")) for d in (cluster, lanes))
        assert _without_durations(mine) == _without_durations(theirs), name
    generated = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d")
    assert generated.sub("", (cluster / "class.html").read_text(encoding="utf-8")) == \
        generated.sub("", (lanes / "class.html").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ what a submission does costs only its row

SEGFAULT = "import ctypes\n\ndef enable_tracking(t):\n    ctypes.string_at(0)\n"
HANG = "def enable_tracking(t):\n    while True:\n        pass\n"
GREEDY = "import torch\n\ndef enable_tracking(t):\n    hold = torch.ones(2**31)\n    return hold\n"


def test_a_submission_that_crashes_hangs_or_exhausts_memory_costs_only_its_row(tmp_path, scheduler):
    subs = tmp_path / "subs"
    honest = {ex.filename: solution(ex) for ex in TWO}
    for name, ex01 in (("a-honest", solution(EX01)), ("b-segfault", SEGFAULT), ("c-hang", HANG),
                       ("d-greedy", GREEDY), ("e-honest", solution(EX01))):
        _folder(subs / name, {**honest, EX01.filename: ex01})
    out = tmp_path / "grades.csv"
    outcomes = run_batch(subs, TWO, out, jobs=2, seed=3, timeout=2, exercise_timeout=4, memory_mb=256,
                         feedback=tmp_path / "fb", scheduler=scheduler)
    rows = _rows(out)
    full = f"{EX01.points + EX03.points:g}"
    for name in ("a-honest", "e-honest"):
        assert rows[name]["total"] == full and rows[name]["status"] == "graded", rows[name]
    results = {o.name: o.result for o in outcomes}
    for name, word in (("b-segfault", "crashed"), ("c-hang", "timeout"), ("d-greedy", None)):
        assert rows[name]["status"] == "graded" and rows[name][EX03.id] == f"{EX03.points:g}", rows[name]
        ex01 = next(e for e in results[name]["exercises"] if e["id"] == EX01.id)
        assert ex01["status"] in ("error", "failed") and rows[name][EX01.id] == "0", ex01
        if word:
            assert any(c["status"] == word for c in ex01["checks"]), ex01


# ------------------------------------------------------------------ workers that die

KILL_MY_WORKER = '''import os, signal


def _worker():
    """The highest of this process's ancestors that is a Dask worker process (spawned by its nanny)."""
    pid, found = os.getpid(), None
    while pid > 1:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if b"spawn_main" in fh.read():
                found = pid
        with open(f"/proc/{pid}/stat") as fh:
            pid = int(fh.read().rsplit(")", 1)[1].split()[1])
    return found


os.kill(_worker(), signal.SIGKILL)
'''


class Killer(threading.Thread):
    """Kills (SIGKILL) the worker process grading the task whose key holds `suffix`, once it has
    graded it for `after` seconds."""

    def __init__(self, scheduler: str, suffix: str, after: float = 1.5):
        super().__init__(daemon=True)
        self.scheduler, self.suffix, self.after, self.killed, self.grading = scheduler, suffix, after, None, set()
        self.stop = threading.Event()

    def run(self):
        with distributed.Client(scheduler_file=self.scheduler, timeout=30) as client:
            while not self.stop.wait(0.1):
                where = [w for w, keys in client.processing().items() if any(self.suffix in str(k) for k in keys)]
                if where:
                    time.sleep(self.after)
                    pid = client.run(os.getpid, workers=where)[where[0]]
                    self.grading = descendants(pid)  # the processes grading the submission there
                    os.kill(pid, signal.SIGKILL)
                    self.killed = pid
                    return


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_that_die_cost_no_other_row(tmp_path, scheduler, monkeypatch):
    """A worker killed while it grades a submission: the submission is graded again on another and
    gets its grade. A submission that kills every worker that grades it: after the second, its row
    says so, and the batch goes on. Every other row is graded."""
    monkeypatch.setenv("KATA_SANDBOX", "off")  # the kernel's sandbox would keep its signal from the worker
    subs = tmp_path / "subs"
    honest = {ex.filename: solution(ex) for ex in TWO}
    for name in ("a", "b", "c"):
        _folder(subs / name, honest)
    _folder(subs / "d-slow", {**honest, EX01.filename: "import time\ntime.sleep(4)\n" + solution(EX01)})
    _folder(subs / "e-kills-its-worker", {**honest, EX01.filename: KILL_MY_WORKER + solution(EX01)})
    killer = Killer(scheduler, f"-{3:06d}-")  # d-slow, the fourth entry (its key: ...-000003-TRY)
    killer.start()
    try:
        run_batch(subs, TWO, tmp_path / "grades.csv", jobs=2, seed=3, timeout=10, memory_mb=1024, feedback=None,
                  scheduler=scheduler)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed and killer.grading, "no worker was killed while it graded d-slow"
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in killer.grading) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in killer.grading), "a grading process outlived its worker"
    rows = _rows(tmp_path / "grades.csv")
    full = f"{EX01.points + EX03.points:g}"
    for name in ("a", "b", "c", "d-slow"):
        assert rows[name]["status"] == "graded" and rows[name]["total"] == full, rows[name]
    assert rows["e-kills-its-worker"]["status"] == "error: " + KILLED_TWICE.format(n=2)
    with distributed.Client(scheduler_file=scheduler, timeout=30) as client:  # its own limit back
        assert client.run_on_scheduler(_allowed_failures) == dask.config.get("distributed.scheduler.allowed-failures")


# ------------------------------------------------------------------ an interrupted batch, resumed


def test_resume_after_an_interrupted_batch_grades_only_what_is_missing(tmp_path, scheduler):
    subs = tmp_path / "subs"
    for name in ("a", "b", "c", "d"):
        _folder(subs / name, {ex.filename: solution(ex) for ex in TWO})
    out, feedback = tmp_path / "grades.csv", tmp_path / "feedback"

    def interrupt_once_graded():  # Ctrl-C, as soon as the first feedback file is written
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(feedback.glob("*.json")):
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_once_graded, daemon=True)
    interrupter.start()
    with pytest.raises(KeyboardInterrupt):
        run_batch(subs, TWO, out, jobs=1, seed=9, timeout=10, memory_mb=1024, feedback=feedback, scheduler=scheduler)
    interrupter.join()
    rows = _rows(out)
    graded = {name for name, row in rows.items() if row["status"] == "graded"}
    stopped = {name for name, row in rows.items() if row["status"] == "error: not graded (the batch was stopped)"}
    assert graded and stopped and graded | stopped == {"a", "b", "c", "d"}, rows
    kept = {name: (feedback / f"{name}.json").read_text(encoding="utf-8") for name in graded}

    log = io.StringIO()
    run_batch(subs, TWO, out, jobs=2, seed=9, timeout=10, memory_mb=1024, feedback=feedback, scheduler=scheduler,
              resume=True, progress_stream=log)
    assert f"{len(graded)} submissions kept from {feedback}, {len(stopped)} to grade" in log.getvalue()
    for name, text in kept.items():  # graded once: its report, durations and all, is the one of the first run
        assert json.loads((feedback / f"{name}.json").read_text(encoding="utf-8")) == json.loads(text)
    full = f"{EX01.points + EX03.points:g}"
    assert all(row["status"] == "graded" and row["total"] == full for row in _rows(out).values())


def test_resume_keeps_what_the_lanes_graded_too(tmp_path):
    subs = tmp_path / "subs"
    _folder(subs / "a", {ex.filename: solution(ex) for ex in TWO})
    out, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    run_batch(subs, TWO, out, jobs=1, seed=4, timeout=10, memory_mb=1024, feedback=feedback)
    first = (feedback / "a.json").read_text(encoding="utf-8")
    _folder(subs / "b", {ex.filename: stub_for(ex) for ex in TWO})
    log = io.StringIO()
    run_batch(subs, TWO, out, jobs=1, seed=4, timeout=10, memory_mb=1024, feedback=feedback, resume=True,
              progress_stream=log)
    assert f"1 submissions kept from {feedback}, 1 to grade" in log.getvalue()
    assert json.loads((feedback / "a.json").read_text(encoding="utf-8")) == json.loads(first)
    rows = _rows(out)
    assert rows["a"]["total"] == rows["a"]["max_total"] and rows["b"]["total"] == "0" and rows["b"]["status"] == "graded"
    log = io.StringIO()  # another seed: graded again
    run_batch(subs, TWO, out, jobs=1, seed=5, timeout=10, memory_mb=1024, feedback=feedback, resume=True,
              progress_stream=log)
    assert "0 submissions kept" in log.getvalue()


# ------------------------------------------------------------------ the checks travel from the client


def _submit(client, digest, target, exercises=(EX01,)):
    task = task_of(list(exercises), 1, Options(isolation="exercise"))
    return client.submit(grade_task, digest, pack(target), task, pure=False).result(timeout=120)


def test_workers_grade_with_the_checks_the_client_sent_and_verify_their_hash(tmp_path, scheduler):
    target = _folder(tmp_path / "alice", {EX01.filename: solution(EX01)})
    kata = shipment()
    check = f"checks/test_{EX01.id}.py"
    kata.texts[check] += ("\n\ndef test_graded_by_the_sent_checks():\n"
                          "    assert False, 'these are the checks the client sent'\n")
    digest = kata.digest()
    with distributed.Client(scheduler_file=scheduler, timeout=30) as client:
        assert "not received" in _submit(client, "0" * 64, target)["error"]
        client.register_plugin(ChecksPlugin(digest, kata.texts), name=PLUGIN + digest)
        try:
            run = run_from_dict(_submit(client, digest, target)["run"])
        finally:
            client.unregister_worker_plugin(PLUGIN + digest)
        messages = [c.message for c in run.exercise(EX01.id).checks if not c.passed]
        assert messages == ["these are the checks the client sent"], messages

        tampered = dict(kata.texts, **{check: kata.texts[check] + "\n# edited on the way\n"})
        client.register_plugin(ChecksPlugin(digest, tampered), name=PLUGIN + digest)
        try:
            answer = _submit(client, digest, target)
        finally:
            client.unregister_worker_plugin(PLUGIN + digest)
    assert "do not match their hash" in answer["error"], answer


def test_a_lost_scheduler_keeps_what_was_graded_and_resume_grades_the_rest(tmp_path, monkeypatch):
    import grading.classroom.cluster

    monkeypatch.setattr(grading.classroom.cluster, "CONNECT_TIMEOUT", 3)  # how long the client tries to reconnect
    folder = tmp_path / "dask"
    folder.mkdir()
    file = folder / "scheduler.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = []
    subs = tmp_path / "subs"
    for name in ("a", "b", "c", "d", "e"):
        _folder(subs / name, {ex.filename: solution(ex) for ex in TWO})
    out, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    try:
        for args in (["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
                     ["worker", "--scheduler-file", str(file), "--nthreads", "1", "--host", "127.0.0.1",
                      "--no-dashboard", "--local-directory", str(folder)]):
            pid = subprocess.run([sys.executable, "-c", DETACHED, sys.executable, "-m", "dask", *args], cwd=folder,
                                 env=env, capture_output=True, text=True, check=True).stdout
            started.append(int(pid))
            deadline = time.monotonic() + 60
            while not file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)

        def lose_the_scheduler_once_graded():  # as soon as the first feedback file is written
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not list(feedback.glob("*.json")):
                time.sleep(0.05)
            os.killpg(started[0], signal.SIGKILL)

        killer = threading.Thread(target=lose_the_scheduler_once_graded, daemon=True)
        killer.start()
        from grading.classroom.cluster import SchedulerLost

        with pytest.raises(SchedulerLost):
            run_batch(subs, TWO, out, jobs=1, seed=3, timeout=10, memory_mb=1024, feedback=feedback,
                      scheduler=str(file))
        killer.join()
    finally:
        for group in reversed(started):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
    rows = _rows(out)
    graded = {name for name, row in rows.items() if row["status"] == "graded"}
    assert graded and len(graded) < 5 and set(rows) == {"a", "b", "c", "d", "e"}, rows
    assert all(row["status"].startswith("error: not graded (the batch was stopped")
               for name, row in rows.items() if name not in graded), rows
    log = io.StringIO()  # the rest, graded here: what the cluster graded is kept
    run_batch(subs, TWO, out, jobs=1, seed=3, timeout=10, memory_mb=1024, feedback=feedback, resume=True,
              progress_stream=log)
    assert f"{len(graded)} submissions kept from {feedback}, {5 - len(graded)} to grade" in log.getvalue()
    assert all(row["status"] == "graded" for row in _rows(out).values())
