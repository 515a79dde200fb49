"""The kernel's sandbox (grading/engine/sandbox.py, Landlock): a correct ex01 that also tries, at call
time, every forbidden thing of the threat model is denied each one and keeps its points, graded
alone and in a batch beside an honest copy of the solution (which keeps its points too)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from grading import ROOT, SOLUTIONS_DIR

from grading.core.config import ConfigError
from grading.core.options import Options
from grading.engine import sandbox
from grading.engine.runner import grade_many

from .conftest import CATALOG
from .support import solution

EX = CATALOG["ex01_enable_tracking"]

needs_landlock = pytest.mark.skipif(sandbox.abi() < 6, reason="the kernel offers no Landlock ABI 6 here")

PROBE = '''
import os, signal, socket

def _try(what, action):
    try:
        action()
    except OSError:
        return
    print("ALLOWED:", what)  # kept in the check's output, which the test reads

def _attacks():
    _try("append-to-checks", lambda: open({check!r}, "a").write("# planted"))
    _try("plant-in-engine", lambda: open({planted!r}, "w").write("x = 1"))
    _try("plant-at-root", lambda: open({conftest!r}, "w").write("x = 1"))
    _try("write-tmp", lambda: open({tmp!r}, "w").write("x"))
    _try("write-sibling", lambda: open({sibling!r}, "w").write("x"))
    _try("read-solution", lambda: open({solution!r}).read())
    _try("read-sibling", lambda: open({sibling_file!r}).read())
    _try("signal-parent", lambda: os.kill(os.getppid(), 0))
    _try("parent-stdout", lambda: open(f"/proc/{{os.getppid()}}/fd/1", "w").write("forged report"))
    _try("tcp", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=1).close())
'''


def probe_source(tmp_path, port: int, sibling) -> str:
    body = solution(EX)
    attacks = PROBE.format(
        check=str(EX.check_file), planted=str(ROOT / "grading" / "PROBE_planted.py"),
        conftest=str(ROOT / "conftest.py"), tmp=str(tmp_path / "outside.txt"),
        sibling=str(sibling / "planted.txt"), sibling_file=str(sibling / EX.filename),
        solution=str(SOLUTIONS_DIR / "ex03_sgd_step.py"), port=port)
    # the correct function, which attacks once before doing its work
    return attacks + "\n" + body.replace(f"def {EX.function}(", f"def _honest_{EX.function}(", 1) + (
        f"\n\ndef {EX.function}(*args, **kwargs):\n    _attacks()\n    return _honest_{EX.function}(*args, **kwargs)\n")


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def connections(server) -> int:
    count = 0
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def grade_probe(tmp_path, listener, *, batch: bool, method: str = "fork"):
    honest, hostile = tmp_path / "subs" / "honest", tmp_path / "subs" / "hostile"
    honest.mkdir(parents=True)
    hostile.mkdir(parents=True)
    (honest / EX.filename).write_text(solution(EX), encoding="utf-8")
    (hostile / EX.filename).write_text(probe_source(tmp_path, listener.getsockname()[1], honest), encoding="utf-8")
    kata_before = {p: p.read_bytes() for p in (EX.check_file,)}
    targets = [hostile, honest] if batch else [hostile]
    runs = grade_many(targets, [EX], seed=1, method=method, lanes=1)
    output = "".join(c.output or "" for c in runs[0].exercises[0].checks)
    assert "ALLOWED:" not in output or not batch and "ALLOWED:" not in output.replace("ALLOWED: read-sibling", ""), \
        f"the sandbox let the probe do: {output}"
    assert "forged report" not in output
    assert {p: p.read_bytes() for p in kata_before} == kata_before
    for planted in (ROOT / "grading" / "PROBE_planted.py", ROOT / "conftest.py", tmp_path / "outside.txt",
                    honest / "planted.txt"):
        assert not planted.exists(), f"{planted} was written"
    assert connections(listener) == 0
    for run in runs:
        result = run.exercises[0]
        assert result.score == result.max_score, (run.target, [(c.name, c.status, c.message[:200]) for c in result.checks])
    return runs


@needs_landlock
def test_probe_alone_is_denied_everything_and_keeps_its_points(tmp_path, listener):
    grade_probe(tmp_path, listener, batch=False)


@needs_landlock
def test_probe_in_a_batch_beside_an_honest_copy(tmp_path, listener):
    grade_probe(tmp_path, listener, batch=True)


@needs_landlock
def test_probe_in_a_fresh_interpreter(tmp_path, listener):
    grade_probe(tmp_path, listener, batch=False, method="spawn")


def test_read_roots_leave_out_the_denied_paths(tmp_path):
    (tmp_path / "a" / "secret").mkdir(parents=True)
    (tmp_path / "a" / "open").mkdir()
    (tmp_path / "a" / "file.txt").write_text("x")
    (tmp_path / "b").mkdir()
    roots = sandbox.read_roots([str(tmp_path / "a" / "secret")], top=str(tmp_path))
    assert sorted(roots) == sorted(str(p) for p in (tmp_path / "a" / "open", tmp_path / "a" / "file.txt",
                                                     tmp_path / "b"))


@needs_landlock
def test_confinement_is_cheap_and_holds_in_the_process_and_its_children(tmp_path):
    code = f"""
import os, sys, time, subprocess
sys.path.insert(0, {str(ROOT)!r})
from grading.core.config import ConfigError
from grading.core.options import Options
from grading.engine import sandbox
began = time.perf_counter()
sandbox.confine([{str(tmp_path)!r}], [{str(SOLUTIONS_DIR)!r}])
print(round((time.perf_counter() - began) * 1000, 2))
child = subprocess.run(["cat", {str(SOLUTIONS_DIR / EX.filename)!r}], capture_output=True)
print(child.returncode)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    ms, returncode = out.stdout.split()
    assert int(returncode) != 0, "a process started by the confined one read a solution"
    assert float(ms) < 50  # measured in benchmarks: a few milliseconds


def test_status_says_which_confinement_holds(monkeypatch):
    assert sandbox.status("off").startswith("off")
    assert sandbox.status("auto") == (f"landlock ABI {sandbox.abi()}" if sandbox.abi() else sandbox.status("auto"))
    monkeypatch.setattr(sandbox, "abi", lambda: 0)
    assert sandbox.status("auto").startswith("none")
    assert sandbox.confine_grading_process(".", [], "auto").startswith("none")
    for mode in ("require", "requier"):  # a word that is not auto or off never lowers the confinement
        with pytest.raises(sandbox.SandboxUnavailable):
            sandbox.confine_grading_process(".", [], mode)


def test_without_landlock_grading_still_works(tmp_path, monkeypatch):
    """The fallback: a kernel without Landlock (reported absent) grades as before."""
    monkeypatch.setattr(sandbox, "abi", lambda: 0)
    target = tmp_path / "t"
    target.mkdir()
    (target / EX.filename).write_text(solution(EX), encoding="utf-8")
    run = grade_many([target], [EX], seed=1, lanes=1)[0]
    assert run.exercises[0].score == run.exercises[0].max_score


def test_the_sandbox_setting_and_every_report_say_which_confinement_held(tmp_path, monkeypatch, capsys):
    """--sandbox off says so loudly and reaches the grading processes; every report carries it."""
    import csv
    import json

    from grading.classroom.batch import run_batch
    from grading.core.catalog import Catalog
    from grading.cli import main
    from grading.reports.formats import render
    from grading.reports.text import summary
    from grading.reports.style import Style

    monkeypatch.setenv("KATA_SANDBOX", "auto")  # main() sets it for the processes it starts: put back afterwards
    target = tmp_path / "t"
    target.mkdir()
    (target / EX.filename).write_text(solution(EX), encoding="utf-8")
    out = tmp_path / "report.json"
    assert main(["ex01", "--target", str(target), "--sandbox", "off", "--format", "json", "-o", str(out)]) == 0
    assert "sandbox off" in capsys.readouterr().err
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["sandbox"].startswith("off")

    monkeypatch.setenv("KATA_SANDBOX", "auto")
    run = grade_many([target], [EX], seed=1, lanes=1)[0]
    assert run.sandbox == sandbox.status("auto")
    assert json.loads(render(run, "json"))["sandbox"] == run.sandbox
    gradescope = json.loads(render(run, "gradescope"))
    assert gradescope["extra_data"]["sandbox"] == run.sandbox
    assert "confined by the kernel" in gradescope["output"]
    assert f'name="sandbox" value="{run.sandbox}"' in render(run, "junit")
    assert f"sandbox: {run.sandbox.partition(' (')[0]}" in summary(run, Catalog([EX]), Style(color=False)).splitlines()[0]

    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / EX.filename).write_text(solution(EX), encoding="utf-8")
    grades, page = tmp_path / "grades.csv", tmp_path / "class.html"
    run_batch(subs, Catalog([EX]), grades, jobs=1, seed=2, timeout=10, memory_mb=2048, feedback=None, report=page)
    rows = list(csv.DictReader(grades.open(encoding="utf-8")))
    assert [row["sandbox"] for row in rows] == [sandbox.status("auto")]
    assert f"sandbox: {sandbox.status('auto')}" in page.read_text(encoding="utf-8")


def test_require_refuses_to_grade_without_landlock(tmp_path, monkeypatch, capsys):
    from grading.cli import main

    monkeypatch.setenv("KATA_SANDBOX", "auto")
    monkeypatch.setattr(sandbox, "abi", lambda: 0)
    assert main(["ex01", "--target", str(SOLUTIONS_DIR), "--sandbox", "require"]) == 2
    err = capsys.readouterr().err
    assert "--sandbox require" in err and "no Landlock" in err
    monkeypatch.setenv("KATA_SANDBOX", "requier")  # a typo never lowers the confinement
    assert Options.resolve().sandbox == "require"
    with pytest.raises(ConfigError, match="KATA_SANDBOX"):  # and on the command line it is an error
        Options.resolve(strict=True)


def test_shared_memory_counts_against_the_memory_limit(tmp_path):
    """A shared anonymous mapping is not data memory (RLIMIT_DATA misses it): the address-space
    limit refuses 1.5 GB under a 512 MB allowance, so a correct function that holds one fails."""
    target = tmp_path / "t"
    target.mkdir()
    hog = ("import mmap\n_held = []\n\ndef _hold():\n    if not _held:\n"
           "        _held.append(mmap.mmap(-1, 1536 * 2**20, flags=mmap.MAP_SHARED))\n")
    body = solution(EX).replace(f"def {EX.function}(", f"def _honest(", 1)
    (target / EX.filename).write_text(hog + body + f"\n\ndef {EX.function}(*args, **kwargs):\n"
                                      "    _hold()\n    return _honest(*args, **kwargs)\n", encoding="utf-8")
    result = grade_many([target], [EX], seed=1, lanes=1, memory_mb=512)[0].exercises[0]
    assert result.score == 0
    assert "ran out of memory" in result.first_problem.message, result.first_problem.message
