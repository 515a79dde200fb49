"""Odd inputs and honest slips cost no more than themselves: a SIGTERM or SIGHUP to the grader
keeps what was graded (the rest marked "not graded") and leaves no process or temporary folder;
odd entries of a batch folder (a FIFO, a link to /dev/zero, a folder named `alice.zip`, a name
that is not UTF-8) get a row of their own; control characters in messages and names are shown,
never interpreted, in every report; a `.kata` state of another shape is set aside, with a
message, and the command goes on."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grading import ROOT
from grading.classroom.batch import run_batch
from grading.core.catalog import Catalog
from grading.reports.formats import visible
from grading.core.results import CheckResult, CheckStatus, ExerciseResult, RunResult
from grading.reports.style import Style

from .conftest import CATALOG
from .support import EX, solution, with_function

FIRST = CATALOG["ex01_enable_tracking"]
LIGHT = Catalog([FIRST, EX])  # two quick exercises: the batch's own behaviour is under test
ESCAPES = "\x1b[1A\x1b[2K\r  \u2713 test_passes_anyway\x08\x07 \ud83d"  # moves up, erases, rewrites a line
OUR_CODES = re.compile(r"\x1b\[[0-9;]*m")  # the report's own colours


# ------------------------------------------------------------------ SIGTERM and SIGHUP


def _session_processes(session: int) -> list[str]:
    """The processes still alive in session `session` (the grader was started as its leader)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                head, fields = fh.read().rsplit(")", 1)
        except OSError:
            continue
        fields = fields.split()
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(f"{entry} {head.split('(', 1)[1]}")
    return found


def _stop_when(proc: subprocess.Popen, ready, sig: int, limit: float = 120.0) -> tuple[int, str]:
    """Send `sig` to the grader once `ready()` holds; its exit code and standard error."""
    deadline = time.monotonic() + limit
    while not ready():
        assert proc.poll() is None, f"the grader ended before it was stopped: {proc.communicate()}"
        assert time.monotonic() < deadline, "no result arrived in time"
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def _grader(tmp_path: Path, *argv: str) -> subprocess.Popen:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "KATA_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1",
           "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor")}  # torch's own cache, meant to stay
    return subprocess.Popen([sys.executable, str(ROOT / "grader.py"), *argv], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _left_behind(tmp_path: Path, proc: subprocess.Popen) -> tuple[list, list]:
    time.sleep(0.2)
    return _session_processes(proc.pid), sorted(p.name for p in (tmp_path / "tmp").iterdir())


def _slow(ex) -> str:
    return with_function(ex, "time.sleep(60)")


def test_sigterm_to_a_batch_writes_the_gradebook_and_leaves_nothing_behind(tmp_path):
    subs = tmp_path / "subs"
    for name, text in (("alice", solution(FIRST)), ("bob", _slow(FIRST)), ("carol", solution(FIRST))):
        (subs / name).mkdir(parents=True)
        (subs / name / FIRST.filename).write_text(text, encoding="utf-8")
    out, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    proc = _grader(tmp_path, "batch", "subs", "-o", str(out), "--feedback", str(feedback), "--jobs", "1",
                   "--seed", "1", "--report", str(tmp_path / "class.html"))
    code, err = _stop_when(proc, lambda: (feedback / "alice.json").exists(), signal.SIGTERM)
    processes, temporaries = _left_behind(tmp_path, proc)

    assert code == 128 + signal.SIGTERM, err
    assert "Traceback" not in err, err
    with out.open(newline="", encoding="utf-8") as fh:
        rows = {r["submission"]: r for r in csv.DictReader(fh)}
    assert sorted(rows) == ["alice", "bob", "carol"], rows
    assert rows["alice"]["status"] == "graded" and rows["alice"][FIRST.id] == f"{FIRST.points:g}", rows["alice"]
    for name in ("bob", "carol"):
        assert rows[name]["status"] == "error: not graded (the batch was stopped by SIGTERM)", rows[name]
    assert "not graded" in (tmp_path / "class.html").read_text(encoding="utf-8")
    assert json.loads((feedback / "bob.json").read_text(encoding="utf-8"))["status"].startswith("error: not graded")
    assert processes == [], f"left running: {processes}"
    assert temporaries == [], f"temporary files left: {temporaries}"


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT], ids=["SIGHUP", "ctrl-c"])
def test_a_stopped_grade_writes_the_report_with_the_rest_not_graded(tmp_path, sig):
    target = tmp_path / "mine"
    target.mkdir()
    (target / FIRST.filename).write_text(solution(FIRST), encoding="utf-8")
    (target / EX.filename).write_text(_slow(EX), encoding="utf-8")
    report = tmp_path / "report.json"

    def first_graded() -> bool:
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return data["exercises"][0]["status"] == "passed"

    proc = _grader(tmp_path, "--target", "mine", "--format", "json", "-o", str(report), "--jobs", "1")
    code, err = _stop_when(proc, first_graded, sig)
    processes, temporaries = _left_behind(tmp_path, proc)

    assert code == 128 + sig, err
    assert "Traceback" not in err, err
    data = json.loads(report.read_text(encoding="utf-8"))
    by_id = {e["id"]: e for e in data["exercises"]}
    assert by_id[FIRST.id]["status"] == "passed" and by_id[FIRST.id]["score"] == FIRST.points
    ids = [e["id"] for e in data["exercises"]]
    assert all(e["score"] == 0 for e in data["exercises"] if e["id"] != FIRST.id)
    unfinished = data["exercises"][ids.index(EX.id):]  # the slow one and every one after it (one lane)
    assert all("not graded" in e.get("error", "") for e in unfinished), unfinished
    assert ("SIGHUP" in by_id[EX.id]["error"]) == (sig == signal.SIGHUP), by_id[EX.id]["error"]
    assert processes == [], f"left running: {processes}"
    assert temporaries == [], f"temporary files left: {temporaries}"


# the grader is two processes up from the one running a check: its exercise process, then its lane
SIGNALLER = """
import os, signal

def enable_tracking(t):
    pid = os.getpid()
    for _ in range(2):
        with open(f"/proc/{pid}/stat") as fh:
            pid = int(fh.read().rsplit(")", 1)[1].split()[1])
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        if b"grader.py" in fh.read():
            os.kill(pid, signal.SIGTERM)
            os.kill(pid, signal.SIGHUP)
    t.requires_grad_()
    return t
"""


def test_a_sigterm_from_a_submission_stops_nothing(tmp_path):
    """Without the kernel's sandbox (which keeps signals from leaving it), a learner's code can
    signal the grader: a SIGTERM or SIGHUP from below is ignored, as a Ctrl-C from below is."""
    target = tmp_path / "mine"
    target.mkdir()
    (target / FIRST.filename).write_text(SIGNALLER, encoding="utf-8")
    env = {**os.environ, "KATA_SANDBOX": "off", "KATA_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.run([sys.executable, str(ROOT / "grader.py"), FIRST.short, "--target", str(target),
                           "--format", "json", "--jobs", "1"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["exercises"][0]["status"] == "passed"


# ------------------------------------------------------------------ odd entries of a batch folder


def test_odd_entries_each_get_a_row_and_cost_no_other_exercise(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()

    def folder(name: str | bytes, files: dict) -> None:
        path = os.path.join(os.fsencode(subs), os.fsencode(name))
        os.mkdir(path)
        for filename, text in files.items():
            with open(os.path.join(path, os.fsencode(filename)), "w", encoding="utf-8") as fh:
                fh.write(text)

    both = {FIRST.filename: solution(FIRST), EX.filename: solution(EX)}
    folder("honest", both)
    folder("alice.zip", both)  # a folder, whatever its name says
    folder(b"Jos\xe9", both)  # a name that is not UTF-8
    folder("fifo", {EX.filename: solution(EX)})
    os.mkfifo(subs / "fifo" / FIRST.filename)  # the first exercise: a FIFO; the second must not suffer
    folder("zero", {FIRST.filename: solution(FIRST)})
    os.symlink("/dev/zero", subs / "zero" / EX.filename)
    os.mkfifo(subs / "carol.zip")
    os.symlink("/dev/zero", subs / "dave.zip")
    os.symlink("/dev/zero", subs / FIRST.filename)
    os.mkfifo(subs / "erin.ipynb")
    os.mkfifo(subs / "frank")  # named like nothing in particular, but no file either
    os.symlink("/", subs / "gina")  # a folder, but the whole machine
    folder("\x1b[2Jeve\rmallory", {FIRST.filename: with_function(FIRST, f"raise ValueError({ESCAPES!r})")})

    out, report = tmp_path / "grades.csv", tmp_path / "class.html"
    started = time.monotonic()
    outcomes = run_batch(subs, LIGHT, out, jobs=1, seed=3, timeout=10, memory_mb=2048,
                         feedback=tmp_path / "feedback", report=report)
    assert time.monotonic() - started < 90, "an odd entry made the batch wait"

    with out.open(newline="", encoding="utf-8") as fh:
        rows = {r["entry"]: r for r in csv.DictReader(fh)}
    assert len(rows) == len(outcomes) == 12, sorted(rows)
    full = f"{LIGHT.max_score:g}"
    for entry in ("honest", "alice.zip", "Jos\\xe9"):
        assert rows[entry]["status"] == "graded" and rows[entry]["total"] == full, rows[entry]
    assert rows["Jos\\xe9"]["submission"] == "Jos\\xe9"
    fifo, zero = rows["fifo"], rows["zero"]
    assert fifo[FIRST.id] == "0" and fifo[EX.id] == f"{EX.points:g}", fifo
    assert zero[FIRST.id] == f"{FIRST.points:g}" and zero[EX.id] == "0", zero
    for entry, word in (("carol.zip", "FIFO"), ("dave.zip", "device"), (FIRST.filename, "device"),
                        ("erin.ipynb", "FIFO"), ("frank", "FIFO"), ("gina", "folders")):
        assert rows[entry]["status"].startswith("error: ") and word in rows[entry]["status"], rows[entry]
    by_name = {o.entry: o for o in outcomes}
    errors = {e["id"]: e for e in by_name["fifo"].result["exercises"]}
    assert "FIFO" in json.dumps(errors[FIRST.id]), errors[FIRST.id]
    errors = {e["id"]: e for e in by_name["zero"].result["exercises"]}
    assert "device" in json.dumps(errors[EX.id]), errors[EX.id]

    shown = "\\x1b[2Jeve\\x0dmallory"  # the name as every output shows it
    assert rows[shown]["submission"] == shown and shown in [o.name for o in outcomes]
    assert (tmp_path / "feedback" / f"{shown}.json").exists()
    page = report.read_text(encoding="utf-8")
    assert "\x1b" not in page and "\r" not in page and "\x08" not in page
    assert shown in page and "Jos\\xe9" in page
    for name in os.listdir(tmp_path / "feedback"):
        name.encode("utf-8")  # no file named with a lone surrogate


# ------------------------------------------------------------------ control characters in reports


def test_a_lone_surrogate_or_an_escape_in_a_message_still_gives_the_class_page(tmp_path):
    from grading.core.gradebook import Outcome
    from grading.reports.class_report import write_class_report

    from .test_class_report import failing, outcome

    def run(message: str) -> RunResult:
        return RunResult("t", 0, [ExerciseResult(EX.id, EX.title, EX.points,
                                                 checks=[failing("ex03.rebinding", "rebinds", message)])])

    outcomes = [outcome("ann", run(ESCAPES)), outcome(ESCAPES, run("ok")),
                Outcome("bo", f"error: {ESCAPES}", None, ESCAPES)]
    page_path = tmp_path / "class.html"
    write_class_report(outcomes, Catalog([EX]), page_path)
    page = page_path.read_text(encoding="utf-8")
    for char in "\x1b\r\x08\x07":
        assert char not in page, repr(char)
    assert page.count("\\x1b[1A\\x1b[2K\\x0d") >= 3 and "\\ud83d" in page


def _run_with(message: str) -> RunResult:
    failing = ExerciseResult(EX.id, EX.title, EX.points, checks=[
        CheckResult("test_update_is_in_place", CheckStatus.FAILED, message, output=message, traceback=message),
        CheckResult("test_update_is_in_place[1]", CheckStatus.ERROR, message),
    ], error="", notes=[message])
    loading = ExerciseResult(FIRST.id, FIRST.title, FIRST.points, error=message,
                             checks=[CheckResult("test_x", CheckStatus.ERROR, message, load_error=True)])
    return RunResult(target=f"/tmp/{message}", seed=0, exercises=[loading, failing])


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
def test_control_characters_in_messages_are_shown_never_interpreted(color):
    from grading.reports import text as report_text

    run = _run_with(ESCAPES)
    style = Style(color=color)
    texts = [report_text.summary(run, CATALOG, style),
             report_text.detail(run.exercise(EX.id), EX, run.target, style),
             report_text.detail(run.exercise(EX.id), EX, run.target, style, verbose=True),
             report_text.detail(run.exercise(FIRST.id), FIRST, run.target, style)]
    for text in texts:
        ours_removed = OUR_CODES.sub("", text)
        for char in "\x1b\r\x08\x07":
            assert char not in ours_removed, (char, text)
        text.encode("utf-8")  # no lone surrogate: the terminal gets it whole
        assert "\\x1b[1A\\x1b[2K\\x0d" in ours_removed and "\\ud83d" in ours_removed


def test_one_escaping_function_shows_every_control_character():
    assert visible("a\x1b[31mb\rc\x00\x7f\x85\ud83d\udce9\n\tz") == "a\\x1b[31mb\\x0dc\\x00\\x7f\\x85\\ud83d\\xe9\n\tz"
    assert visible("line\r\nnext") == "line\nnext"  # a Windows line end is a line end
    assert visible("a\nb\tc", keep="") == "a\\x0ab\\x09c"  # a name: one line
    assert visible("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"


# ------------------------------------------------------------------ .kata state of another shape


BAD_STATES = {
    "a list": "[1, 2, 3]",
    "hints a list": '{"hints": [1]}',
    "a hint count not a number": '{"hints": {"ex01_enable_tracking": "many"}}',
    "invalid JSON": '{"hints": ',
    "not UTF-8": b"\xff\xfe{",
}


@pytest.mark.parametrize("content", list(BAD_STATES.values()), ids=list(BAD_STATES))
def test_hint_sets_a_state_of_another_shape_aside_and_goes_on(content, tmp_path, monkeypatch, capsys):
    from grading.cli import main

    state = tmp_path / "state"
    monkeypatch.setenv("KATA_STATE_DIR", str(state))
    monkeypatch.setenv("NO_COLOR", "1")
    state.mkdir()
    bad = state / "state.json"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["hint", FIRST.short]) == 0
    out, err = capsys.readouterr()
    assert "Hint 1 of" in out
    aside = [p for p in state.iterdir() if p.name != "state.json"]
    assert len(aside) == 1, aside
    assert aside[0].read_bytes() == (content if isinstance(content, bytes) else content.encode())
    assert str(aside[0]) in err and "set aside" in err, err
    assert json.loads(bad.read_text(encoding="utf-8"))["hints"][FIRST.id] == 1
    assert main(["hint", FIRST.short]) == 0
    assert "Hint 2 of" in capsys.readouterr().out


@pytest.mark.parametrize("what", ["state.json a folder", ".kata a file"])
def test_a_state_file_that_is_a_folder_or_a_state_folder_that_is_a_file_is_set_aside(what, tmp_path, monkeypatch,
                                                                                     capsys):
    from grading.cli import main

    state = tmp_path / "state"
    monkeypatch.setenv("KATA_STATE_DIR", str(state))
    if what == ".kata a file":
        state.write_text("{}", encoding="utf-8")
    else:
        (state / "state.json").mkdir(parents=True)
    assert main(["hint", FIRST.short]) == 0
    err = capsys.readouterr().err
    assert (state / "state.json").is_file() and "set aside" in err, err
    assert len(list(tmp_path.glob("state*set-aside*")) + list(state.glob("state.json.set-aside*"))) == 1


def test_reset_sets_a_backups_file_aside_and_keeps_the_learners_file(tmp_path, monkeypatch, capsys):
    from grading.cli import main

    state = tmp_path / "state"
    monkeypatch.setenv("KATA_STATE_DIR", str(state))
    state.mkdir()
    (state / "backups").write_text("not a folder", encoding="utf-8")
    (state / "state.json").write_text("[]", encoding="utf-8")
    target = tmp_path / "mine"
    target.mkdir()
    (target / FIRST.filename).write_text("# my attempt\n", encoding="utf-8")
    assert main(["reset", FIRST.short, "--target", str(target), "-y"]) == 0
    out, err = capsys.readouterr()
    assert "set aside" in err and "backups" in err, err
    assert [p.read_text(encoding="utf-8") for p in (state / "backups").iterdir()] == ["# my attempt\n"]
    aside = [p for p in state.iterdir() if p.name.startswith("backups") and p.is_file()]
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == "not a folder"
