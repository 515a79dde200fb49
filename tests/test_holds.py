"""Grading that holds: honest slips are graded right, and a submission's code cannot reach the
grader, another submission or the reports.

Most tests grade one batch: an honest copy of the solutions, the submission under test, and a
second honest copy, and assert the verdict of all three.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grading import ROOT, SOLUTIONS_DIR
from grading.engine.runner import grade, grade_many
from grading.core.stubs import stub_for

from .conftest import CATALOG
from .test_classroom import kata_copy

EX01, EX02, EX03, EX04 = (CATALOG[i] for i in ("ex01_enable_tracking", "ex02_predict", "ex03_sgd_step",
                                                "ex04_accuracy"))


def solution(ex) -> str:
    return (SOLUTIONS_DIR / ex.filename).read_text()


def folder(path: Path, exercises, **texts) -> Path:
    """A submission: the solutions of `exercises`, except the files given by id in `texts`."""
    path.mkdir(parents=True)
    for ex in exercises:
        (path / ex.filename).write_text(texts.get(ex.id, solution(ex)))
    return path


@pytest.fixture(autouse=True)
def detection_only(monkeypatch):
    """These attacks are watched from outside through files they write: they prove what holds where
    the kernel offers no sandbox (KATA_SANDBOX=off). tests/test_sandbox.py proves the sandbox."""
    monkeypatch.setenv("KATA_SANDBOX", "off")


def batch(tmp_path: Path, exercises, texts: dict, **kwargs):
    """Grade [honest, the submission, honest] in one run; returns the three RunResults."""
    targets = [folder(tmp_path / "honest-a", exercises), folder(tmp_path / "submission", exercises, **texts),
               folder(tmp_path / "honest-b", exercises)]
    kwargs.setdefault("isolation", "submission")
    return grade_many(targets, exercises, **kwargs)


def assert_full_marks(run) -> None:
    for e in run.exercises:
        assert e.passed, (run.target, e.id, e.error, [(c.name, c.message[:300]) for c in e.checks if not c.passed][:3])


def failures(result) -> str:
    return result.error + "\n" + "\n".join(c.message for c in result.checks if not c.passed)


# ------------------------------------------------------------------ honest code graded right


IMPORTS_PREDICT = """
from exercises.ex02_predict import predict


def accuracy(model, x, y):
    correct = (predict(model, x).argmax(dim=1) == y).sum().item()
    return correct / y.shape[0]
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_an_exercise_may_import_another_of_its_own_submission(tmp_path, method):
    """`from exercises.ex02_predict import predict` finds the submission's own ex02, not the
    grader's stub (which would raise NotImplementedError)."""
    runs = batch(tmp_path, [EX02, EX04], {EX04.id: IMPORTS_PREDICT}, method=method, lanes=2)
    for run in runs:
        assert_full_marks(run)


def test_importing_another_exercise_from_a_single_file_says_what_happened(tmp_path):
    target = tmp_path / EX04.filename
    target.write_text(IMPORTS_PREDICT)
    result = grade(target, [EX04]).exercise(EX04.id)
    assert result.status == "error"
    assert "graded as one file" in failures(result)
    assert "not started" not in failures(result)


COMPILED = """
import torch


@torch.compile(backend="eager")
def _correct(scores, y):
    return (scores.argmax(dim=1) == y).sum()


def accuracy(model, x, y):
    with torch.no_grad():
        correct = _correct(model(x), y).item()
    return correct / y.shape[0]
"""


def test_a_function_using_torch_compile_passes(tmp_path):
    """torch.compile's generated code lives in the module's own namespace: the module must be
    run as it is, not re-run from a cached code object in a fresh one."""
    runs = batch(tmp_path, [EX04], {EX04.id: COMPILED}, lanes=2)
    for run in runs:
        assert_full_marks(run)
    assert grade(tmp_path / "submission", [EX04]).exercise(EX04.id).passed


def test_code_outside_functions_runs_once_per_exercise(tmp_path):
    # the module's own code says when it runs (printed, kept in the output of the check that loaded it:
    # the sandbox lets it write nowhere but its working folder)
    text = "print('MODULE-LOADED')\n" + solution(EX03)

    def loads(run) -> int:
        return sum((c.output or "").count("MODULE-LOADED") for c in run.exercise(EX03.id).checks)

    runs = batch(tmp_path, [EX03], {EX03.id: text}, lanes=1)
    for run in runs:
        assert_full_marks(run)
    assert [loads(run) for run in runs] == [0, 1, 0]  # once, for all 23 checks of the exercise
    assert loads(grade(tmp_path / "submission", [EX03])) == 1


def test_an_exercise_and_a_submission_have_a_time_limit_of_their_own(tmp_path):
    """Slow code outside functions is charged to its own exercise (the exercise's limit), and a
    submission whose exercises are each slow stops at the submission's limit."""
    slow = "import time\ntime.sleep(4)\n"
    runs = batch(tmp_path, [EX01, EX03], {EX01.id: slow + solution(EX01)}, exercise_timeout=2, lanes=1)
    assert_full_marks(runs[0])
    assert_full_marks(runs[2])
    ex01, ex03 = runs[1].exercise(EX01.id), runs[1].exercise(EX03.id)
    assert ex01.status == "error" and "the limit for one exercise" in failures(ex01)
    assert ex03.passed  # the rest of the submission is graded in a new process

    half = "import time\ntime.sleep(1.6)\n"
    runs = batch(tmp_path / "again", [EX01, EX03, EX04],
                 {ex.id: half + solution(ex) for ex in (EX01, EX03, EX04)}, submission_timeout=2.5, lanes=1)
    assert_full_marks(runs[0])
    assert_full_marks(runs[2])
    assert runs[1].score < runs[1].max_score
    assert "the limit for one submission" in "\n".join(failures(e) for e in runs[1].exercises)


def test_files_written_with_relative_paths_land_in_a_throwaway_folder(tmp_path, monkeypatch):
    here = tmp_path / "instructor"
    here.mkdir()
    monkeypatch.chdir(here)
    text = solution(EX01).replace("def enable_tracking(t", "def _original(t") + textwrap.dedent("""

        def enable_tracking(t):
            import torch
            torch.save(t, "ckpt.pt")
            with open("notes.txt", "a") as fh:
                fh.write("x")
            return _original(t)
        """)
    for isolation in ("exercise", "submission"):
        runs = batch(tmp_path / isolation, [EX01], {EX01.id: text}, isolation=isolation)
        for run in runs:
            assert_full_marks(run)
    assert list(here.iterdir()) == []
    assert not any(p.name in ("ckpt.pt", "notes.txt") for p in tmp_path.rglob("*"))


LEFTOVERS = """
import multiprocessing, os, sys, time

def _sleeper():
    time.sleep(60)

def _detached(marker):
    if os.fork() == 0:
        os.setsid()
        with open({pids!r}, "a") as fh:
            fh.write(f"{{os.getpid()}}\\n")
        time.sleep(3)
        with open(marker, "w") as fh:  # a report rewritten after the grader is done
            fh.write("rewritten")
        os._exit(0)

def enable_tracking(t):
    p = multiprocessing.get_context("fork").Process(target=_sleeper)
    p.start()  # never joined
    with open({pids!r}, "a") as fh:
        fh.write(f"{{p.pid}}\\n")
    _detached({marker!r})
    t.requires_grad_()
    return t
"""


@pytest.mark.parametrize("isolation", ["exercise", "submission"])
def test_processes_a_submission_leaves_running_cost_nothing_and_end_with_the_grade(tmp_path, isolation):
    pids, marker = tmp_path / "pids", tmp_path / "report.json"
    text = LEFTOVERS.format(pids=str(pids), marker=str(marker))
    started = time.monotonic()
    runs = batch(tmp_path, [EX01, EX03], {EX01.id: text}, isolation=isolation, lanes=1)
    elapsed = time.monotonic() - started
    for run in runs:
        assert_full_marks(run)
    assert elapsed < 15, f"grading waited for leftover processes: {elapsed:.1f} s"
    left = [int(p) for p in pids.read_text().split()]
    assert len(left) >= 2
    time.sleep(3.5)
    assert not marker.exists(), "a process of the submission outlived the grade and wrote a file"
    for pid in left:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


# ------------------------------------------------------------------ the grader's channels


FORGER = """
import json, os, stat

def _to_every_pipe(lines):
    data = ("\\n".join(lines) + "\\n").encode()
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, data)
        except OSError:
            pass

def _forge(names):
    lines = [
        "[1, 2]", "{{}}", '{{"event": "start"}}', '{{"event": "done", "exit_code": "x"}}', "not json",
        json.dumps({{"event": "collected", "checks": {{"ex01_enable_tracking": ["test_nothing"]}}}}),
    ]
    for target in (0, 1, 2, 5):
        for name in names:
            lines.append(json.dumps({{"event": "result", "target": target, "exercise": "ex01_enable_tracking",
                                      "result": {{"name": name, "status": "failed", "message": "forged"}}}}))
            lines.append(json.dumps({{"event": "result", "target": target, "exercise": "ex03_sgd_step",
                                      "result": {{"name": name, "status": "passed"}}}}))
    lines += [json.dumps({{"event": "start", "target": 1, "exercise": "ex01_enable_tracking",
                          "check": names[0]}})] * 2000
    _to_every_pipe(lines)

def enable_tracking(t):
    _forge({names!r})
    t.requires_grad_()
    return t
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_forged_events_reach_no_other_submission(tmp_path, method):
    """Every pipe the learner's process can write to gets forged results for the other
    submissions, malformed lines and a flood of start events: the others keep their grades, the
    grader does not crash, and the grade ends in time."""
    names = ["test_returns_the_same_object[vector-f32]", "test_requires_grad_is_on[vector-f32]"]
    started = time.monotonic()
    runs = batch(tmp_path, [EX01, EX03], {EX01.id: FORGER.format(names=names)}, method=method, lanes=1)
    assert time.monotonic() - started < 60
    assert_full_marks(runs[0])
    assert_full_marks(runs[2])
    assert runs[1].exercise(EX03.id).passed
    assert not any(c.message == "forged" for run in (runs[0], runs[2]) for e in run.exercises for c in e.checks)


SIGNALLER = """
import os, signal

def enable_tracking(t):
    with open({pidfile!r}) as fh:
        grader = int(fh.read())
    for pid in {{os.getppid(), grader}}:
        os.kill(pid, signal.SIGINT)
    os.killpg(os.getpgid(0), signal.SIGINT)
    t.requires_grad_()
    return t
"""

GRADE_SCRIPT = """
import json, os, sys
from pathlib import Path
from grading.core.catalog import load_catalog
from grading.engine.runner import grade_many
catalog = load_catalog()
with open(sys.argv[1], "w") as fh:
    fh.write(str(os.getpid()))
exercises = [catalog[e] for e in sys.argv[3].split(",")]
runs = grade_many([Path(p) for p in sys.argv[4:]], exercises, isolation=sys.argv[2], lanes=1)
print(json.dumps([r.to_dict() for r in runs]))
"""


def run_script(script: str, *args, cwd=ROOT, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONPATH=str(cwd)))


@pytest.mark.parametrize("isolation", ["exercise", "submission"])
def test_a_ctrl_c_from_a_submission_stops_nothing(tmp_path, isolation):
    pidfile = tmp_path / "grader.pid"
    exercises = [EX01, EX03]
    targets = [folder(tmp_path / "honest-a", exercises),
               folder(tmp_path / "submission", exercises, **{EX01.id: SIGNALLER.format(pidfile=str(pidfile))}),
               folder(tmp_path / "honest-b", exercises)]
    proc = run_script(GRADE_SCRIPT, pidfile, isolation, ",".join(e.id for e in exercises), *targets)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = json.loads(proc.stdout)
    for run in runs:
        assert run["score"] == run["max_score"], json.dumps(run)[:2000]


def test_a_ctrl_c_from_outside_still_stops_the_grader(tmp_path):
    pidfile = tmp_path / "grader.pid"
    slow = "import time\ndef enable_tracking(t):\n    time.sleep(5)\n    return t.requires_grad_()\n"
    target = folder(tmp_path / "slow", [EX01], **{EX01.id: slow})
    proc = subprocess.Popen([sys.executable, "-c", GRADE_SCRIPT, str(pidfile), "exercise", EX01.id, str(target)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.monotonic() + 60
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err


TAMPER = """
import hashlib, json, os, signal
from pathlib import Path

def enable_tracking(t):
    kata = Path({kata!r})
    for check in (kata / "checks").glob("test_ex*.py"):
        check.write_text("def test_everything_passes():\\n    pass\\n")
    manifest = kata / "grading" / "integrity.json"
    files = {{}}
    for path in [kata / "grader.py", kata / "exercises" / "catalog.toml", *sorted((kata / "checks").rglob("*.py")),
                 *sorted((kata / "grading").rglob("*.py"))]:
        files[path.relative_to(kata).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest.write_text(json.dumps({{"files": files}}))
    os.killpg(os.getpgid(0), signal.SIGKILL)  # its grading process starts again, for the others too
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_checks_rewritten_during_grading_grade_nobody(tmp_path, method):
    """A submission rewrites the kata's checks (and the hash manifest) and kills its grading
    process: the processes started after it still grade with the checks as they were, so a stub
    graded later gets no points and honest submissions keep theirs."""
    kata = kata_copy(tmp_path)
    exercises = [EX01]
    targets = [folder(tmp_path / "attacker", exercises, **{EX01.id: TAMPER.format(kata=str(kata))}),
               folder(tmp_path / "stub", exercises, **{EX01.id: stub_for(EX01)}),
               folder(tmp_path / "honest", exercises)]
    script = GRADE_SCRIPT.replace("lanes=1)", f"lanes=1, method={method!r})")
    proc = run_script(script, tmp_path / "pid", "submission", EX01.id, *targets, cwd=kata)
    assert proc.returncode == 0, proc.stderr[-3000:]
    attacker, stub, honest = json.loads(proc.stdout)
    assert "test_everything_passes" in (kata / "checks" / EX01.check_file.name).read_text()  # it did rewrite them
    assert attacker["score"] == 0
    assert stub["score"] == 0 and stub["exercises"][0]["status"] == "not_started", json.dumps(stub)[:1500]
    assert honest["score"] == honest["max_score"], json.dumps(honest)[:1500]
    assert len(honest["exercises"][0]["checks"]) > 1  # the real checks, not the planted one


# ------------------------------------------------------------------ state put back between exercises


CHEAT = "import _pytest.python\n_pytest.python.Function.runtest = lambda self: None\n"
BYPASSES = {
    "thread": "import threading, time\n"
              "def _again():\n"
              "    for _ in range(3000):\n"
              "        _cheat()\n"
              "        time.sleep(0.002)\n"
              "threading.Thread(target=_again, daemon=True).start()\n",
    "gc-callback": "import gc\ngc.callbacks.append(lambda phase, info: _cheat())\n",
    "__del__": "class _Again:\n"
               "    def __del__(self):\n"
               "        _cheat()\n"
               "def _make():\n"
               "    import _pytest.python\n"
               "    keeper = _Again()\n"
               "    keeper.cycle = keeper\n"
               "    _pytest.python.Function.runtest.keeper = keeper  # garbage once the patch is undone\n"
               "_make()\n",
}


@pytest.mark.parametrize("how", list(BYPASSES))
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_patch_made_again_after_the_restore_never_reaches_the_next_exercise(tmp_path, how, method):
    """A cheat that would make a later stub pass, made again by a thread, a gc callback or a
    __del__ once the state was put back: the stub still gets no points."""
    first = "def _cheat():\n    " + CHEAT.replace("\n", "\n    ").rstrip() + "\n_cheat()\n" + BYPASSES[how]
    text = first + solution(EX01)
    runs = batch(tmp_path, [EX01, EX04], {EX01.id: text, EX04.id: stub_for(EX04)}, method=method, lanes=2)
    assert_full_marks(runs[0])
    assert_full_marks(runs[2])
    assert runs[1].exercise(EX04.id).status == "not_started", failures(runs[1].exercise(EX04.id))


# ------------------------------------------------------------------ lying numbers and reference lookups


def test_reading_the_solutions_by_any_path_is_flagged(tmp_path):
    real = SOLUTIONS_DIR / EX03.filename
    via_proc = f"/proc/self/root{real}"
    reads = {
        "proc-root": f"open({via_proc!r}).read()",
        "subprocess-cat": f"import subprocess\nsubprocess.run(['cat', {str(real)!r}], capture_output=True)",
        "imports-checks": "import checks.test_ex03_sgd_step",
    }
    results = {}
    for name, code in reads.items():
        body = "    " + code.replace("\n", "\n    ")
        text = solution(EX03).replace("def sgd_step(", f"def _read():\n{body}\n\n\ndef sgd_step(", 1)
        text = text.replace('    with torch.no_grad():', '    _read()\n    with torch.no_grad():', 1)
        assert "_read()\n" in text
        target = folder(tmp_path / name, [EX03], **{EX03.id: text})
        results[name] = grade(target, [EX03]).exercise(EX03.id)
    link = folder(tmp_path / "symlink", [])
    (link / EX03.filename).symlink_to(real)
    results["symlink"] = grade(link, [EX03]).exercise(EX03.id)
    for name, result in results.items():
        assert result.flags, f"{name}: not flagged ({result.status})"


def test_the_time_limits_are_options_of_the_command_line(tmp_path):
    from grading.cli import main

    target = folder(tmp_path / "slow", [EX01], **{EX01.id: "import time\ntime.sleep(3)\n" + solution(EX01)})
    out = tmp_path / "report.json"
    (tmp_path / "report.json.tmp").mkdir()  # a folder where a fixed temporary name would go
    code = main([EX01.short, "--target", str(target), "--format", "json", "--output", str(out),
                 "--exercise-timeout", "1.5"])
    assert code == 1
    report = json.loads(out.read_text())
    messages = " ".join(c["message"] for c in report["exercises"][0]["checks"])
    assert "1.5 s in all, the limit for one exercise" in messages


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_process_left_running_by_one_exercise_is_gone_before_the_next(tmp_path, method):
    """Where one process grades a whole submission, what an exercise left running would otherwise
    use the machine while the next exercises are graded (and could change their files)."""
    pids, seen = tmp_path / "pids", tmp_path / "seen"
    leaver = LEFTOVERS.format(pids=str(pids), marker=str(tmp_path / "never"))
    looker = (f"import os\nfor _pid in open({str(pids)!r}).read().split():\n"
              "    try:\n        os.kill(int(_pid), 0)\n        _state = 'alive'\n"
              "    except ProcessLookupError:\n        _state = 'gone'\n"
              f"    open({str(seen)!r}, 'a').write(_state + ' ')\n") + solution(EX03)
    runs = batch(tmp_path, [EX01, EX03], {EX01.id: leaver, EX03.id: looker}, method=method, lanes=1)
    for run in runs:
        assert_full_marks(run)
    assert seen.read_text().split() and set(seen.read_text().split()) == {"gone"}


# ------------------------------------------------------------------ the checks' oracles, traces, code objects

FRAME_WALKER = '''
import sys


def predict(model, x):
    frame = sys._getframe(1)
    while frame is not None and "reference" not in frame.f_globals:
        frame = frame.f_back
    return frame.f_globals["reference"](model, x)  # the checks' own answer, found through the stack
'''


def test_calling_the_checks_oracle_through_the_stack_is_flagged(tmp_path):
    target = folder(tmp_path / "walker", [EX02], **{EX02.id: FRAME_WALKER})
    result = grade(target, [EX02]).exercise(EX02.id)
    assert any("reference computation reference()" in flag for flag in result.flags), (result.flags, failures(result))


TRACER = '''
import sys


def _tracer(frame, event, arg):
    if event == "call" and frame.f_code.co_name.startswith("test_"):
        print("TRACED", frame.f_code.co_name)
    return None


sys.settrace(_tracer)
sys.setprofile(lambda frame, event, arg: None)
try:
    sys.modules["checks.instruments"].describe_args.__code__ = (lambda *args, **kwargs: "forged").__code__
    print("CODE-REPLACED")
except RuntimeError:
    print("CODE-REFUSED")
try:
    sys.addaudithook(lambda event, args: None)
    print("HOOK-ADDED")
except RuntimeError:
    print("HOOK-REFUSED")
'''


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_trace_hooks_and_replaced_code_never_reach_the_next_exercise(tmp_path, method):
    """A trace function set by one exercise is gone before the next; a grader's or library's
    function keeps its code; no audit hook can be added (none could be removed)."""
    runs = batch(tmp_path, [EX01, EX04], {EX01.id: TRACER + solution(EX01)}, method=method, lanes=1)
    for run in runs:
        assert_full_marks(run)
    first = "".join(c.output for c in runs[1].exercise(EX01.id).checks)
    assert "CODE-REFUSED" in first and "CODE-REPLACED" not in first, first[:500]
    later = "".join(c.output for c in runs[1].exercise(EX04.id).checks)
    assert "TRACED" not in later, later[:500]


PLANTED = "import os\nopen(os.environ['KATA_PLANT_LOG'], 'a').write({name!r} + '\\n')\n"


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_files_left_in_the_kata_folder_are_never_imported_by_the_grader(tmp_path, method):
    """A `resource.py` (a module the grader imports) and a `conftest.py` left at the kata's root, as
    a learner's code could leave them where no sandbox stops it: a later grade imports neither."""
    kata = kata_copy(tmp_path)
    log = tmp_path / "planted.log"
    for name in ("resource", "conftest", "struct", "mmap"):
        (kata / f"{name}.py").write_text(PLANTED.format(name=name))
    proc = subprocess.run(
        [sys.executable, "grader.py", "--target", "solutions", "ex01", "ex03", "--format", "json", "--memory-mb", "512"],
        cwd=kata, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, KATA_PLANT_LOG=str(log), KATA_START_METHOD=method, KATA_SANDBOX="off"))
    assert not log.exists(), f"the grader imported {log.read_text().split()}"
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["score"] == EX01.points + EX03.points


LATER_FORGER = """
import json, os, stat

def _forge():
    lines = []
    for name in {names!r}:
        lines.append(json.dumps({{"event": "start", "target": 1, "exercise": "ex04_accuracy", "check": name}}))
        lines.append(json.dumps({{"event": "result", "target": 1, "exercise": "ex04_accuracy",
                                  "result": {{"name": name, "status": "passed"}}}}))
    _to_every_pipe(lines)
""" + FORGER[FORGER.index("def _to_every_pipe"):FORGER.index("def _forge")]


def test_an_exercise_cannot_send_results_for_a_later_exercise_of_its_submission(tmp_path):
    """In a process per submission, ex01's code writes passing results for every check of ex04 (a
    stub) into every pipe it holds: only the exercises that process has begun may speak, so ex04
    keeps the verdict of its own code."""
    names = [c.name for c in grade(SOLUTIONS_DIR, [EX04]).exercise(EX04.id).checks]
    forger = LATER_FORGER.format(names=names) + solution(EX01).replace(
        "    t.requires_grad_(True)", "    _forge()\n    t.requires_grad_(True)", 1)
    assert "_forge()\n" in forger
    runs = batch(tmp_path, [EX01, EX04], {EX01.id: forger, EX04.id: stub_for(EX04)}, lanes=1, method="fork")
    assert_full_marks(runs[0])
    assert_full_marks(runs[2])
    assert runs[1].exercise(EX04.id).status == "not_started", [(c.name, c.status) for c in runs[1].exercise(EX04.id).checks][:3]


WAITS_ONCE = """
import os, time

def _wait_once():
    if not os.path.exists({marker!r}):
        with open({marker!r}, "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(3)
"""


@pytest.mark.parametrize("isolation,sig", [("exercise", signal.SIGKILL), ("submission", signal.SIGKILL),
                                           ("exercise", signal.SIGSTOP)])
def test_a_death_or_stop_from_outside_is_not_charged(tmp_path, isolation, sig):
    """A classmate's code (where no sandbox scopes signals) kills or stops an honest submission's
    process mid-check: the exercise is graded again (a stopped process is continued) and keeps
    its points. A submission that kills itself each time is still charged."""
    import threading

    marker = tmp_path / "pid"
    honest = WAITS_ONCE.format(marker=str(marker)) + solution(EX01).replace(
        "    t.requires_grad_(True)", "    _wait_once()\n    t.requires_grad_(True)", 1)
    target = folder(tmp_path / "honest", [EX01, EX04], **{EX01.id: honest})

    def attack():
        for _ in range(600):
            if marker.exists() and marker.read_text():
                time.sleep(0.2)
                os.kill(int(marker.read_text()), sig)
                return
            time.sleep(0.05)

    attacker = threading.Thread(target=attack)
    attacker.start()
    run = grade_many([target], [EX01, EX04], isolation=isolation, lanes=1)[0]
    attacker.join()
    assert marker.exists()
    assert_full_marks(run)


def test_a_submission_that_kills_itself_is_charged(tmp_path):
    killer = solution(EX01).replace("    t.requires_grad_(True)",
                                    "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)", 1)
    target = folder(tmp_path / "killer", [EX01], **{EX01.id: killer})
    result = grade(target, [EX01]).exercise(EX01.id)
    assert not result.passed and "SIGKILL" in failures(result), failures(result)[:500]
