"""torch.compile's compiling is the grader's cost, not the learner's (`grading.engine.compiling`): a
correct submission that compiles keeps its points on a cold cache, inside the sandbox, graded
alone and in a batch; and code that only pretends to compile, or loops once compiled, still
runs out of time."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from grading import ROOT

from grading.engine import lane, lane_shared, sandbox
from grading.engine.runner import grade_many

from .conftest import CORPUS
from .support import EX, make_target

# the corpus's compiled update, with the default backend (Inductor: code generation and a C++
# compiler). The new values are computed by the compiled function and written in place outside
# it: an in-place update inside a compiled function leaves a 0-dimensional float64 tensor
# unchanged (torch 2.13, CPU), which the checks rightly fail.
CORPUS_COMPILED = (CORPUS / EX.id / "right_compiled_update.py").read_text(encoding="utf-8")
COMPILED = CORPUS_COMPILED.replace('@torch.compile(backend="aot_eager")', "@torch.compile")
assert COMPILED != CORPUS_COMPILED


@pytest.mark.slow  # two cold compilations: the slowest test of the suite
@pytest.mark.timeout(900)
def test_a_compiled_update_keeps_its_points_with_a_cold_cache_alone_and_in_a_batch(tmp_path):
    """Graded alone (`python grader.py ex03`) and in a batch (`python grader.py batch`), side by
    side, each compiling from an empty cache, with a time limit per check far shorter than any
    compilation: every check passes, in the kernel's sandbox where there is one. The cache the
    environment names stays empty: each grading process compiles into a folder of its own."""
    alone = make_target(tmp_path, {EX.filename: COMPILED})
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / EX.filename).write_text(COMPILED, encoding="utf-8")
    cache = tmp_path / "inductor-cache"
    cache.mkdir()
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(cache), "KATA_SEED": "3",
           "KATA_SANDBOX": "require" if sandbox.abi() > 0 else "auto",
           "KATA_COMPILE_ALLOWANCE": "600"}  # (120 s by default: a machine shared with other work may compile slower)
    limit = ["--timeout", "3"]  # checks take milliseconds; importing Dynamo and compiling take far longer
    report, grades = tmp_path / "report.json", tmp_path / "grades.csv"
    commands = [
        [sys.executable, "grader.py", EX.short, "--target", str(alone), "--format", "json", "-o", str(report), *limit],
        [sys.executable, "grader.py", "batch", str(tmp_path / "class"), "-o", str(grades), *limit],
    ]
    started = [subprocess.Popen(c, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for c in commands]
    outputs = [p.communicate(timeout=800)[0] for p in started]

    exercise = next(e for e in json.loads(report.read_text())["exercises"] if e["id"] == EX.id)
    failing = [(c["name"], c["message"][:300]) for c in exercise["checks"] if c["status"] != "passed"]
    assert exercise["checks"] and not failing, (failing[:3], outputs[0][-2000:])
    assert exercise["score"] == exercise["max_score"] == EX.points
    row = next(csv.DictReader(grades.open(encoding="utf-8")))
    assert row["submission"] == "alice" and float(row[EX.id]) == EX.points, (row, outputs[1][-2000:])
    assert not any(cache.iterdir()), "the grading processes compiled into the environment's cache"


# ------------------------------------------------------------------ what pretending buys

PRETENDERS = {
    # says it compiles, then loops: stopped once the allowance is spent
    "loops_while_saying_it_compiles": """
import torch._dynamo.callback as cb

def sgd_step(params, lr):
    cb.callback_handler.run_start_callbacks(None)
    while True:
        pass
""",
    # says it compiles and is done, again and again: the allowance is spent once, not for each
    "says_it_compiles_again_and_again": """
import time
import torch._dynamo.callback as cb

def sgd_step(params, lr):
    while True:
        cb.callback_handler.run_start_callbacks(None)
        time.sleep(0.05)
        cb.callback_handler.run_end_callbacks(None)
""",
    # ... and stops its own alarm: its grading process is stopped from outside
    "stops_the_alarm_and_says_it_compiles": """
import signal
import torch._dynamo.callback as cb

def sgd_step(params, lr):
    cb.callback_handler.run_start_callbacks(None)
    signal.setitimer(signal.ITIMER_REAL, 0)
    while True:
        pass
""",
    # really compiles, then loops outside the compiled code
    "loops_after_compiling": """
import torch

@torch.compile(backend="eager")
def stepped(p, grad, lr):
    return p - lr * grad

def sgd_step(params, lr):
    for p in params:
        stepped(p.detach(), p.grad, lr)
    while True:
        pass
""",
}


def test_code_that_only_pretends_to_compile_still_runs_out_of_time(tmp_path, monkeypatch):
    """The allowance is all that compiling, real or pretended, goes uncounted, in the process
    (its alarm) and in the lane (which stops a process that stopped its own alarm): a loop that
    is not compilation runs out of time as it would without torch.compile."""
    import torch

    # Dynamo imported and used once before the grading processes fork: importing costs them no allowance
    torch.compile(lambda x: x + 1, backend="eager")(torch.ones(1))

    monkeypatch.setenv("KATA_COMPILE_ALLOWANCE", "2")
    monkeypatch.setattr(lane, "KILL_GRACE", 1.0)
    names = list(PRETENDERS)
    targets = []
    for name in names:
        (tmp_path / name).mkdir()
        targets.append(make_target(tmp_path / name, {EX.filename: PRETENDERS[name]}))
    runs = dict(zip(names, grade_many(targets, [EX], timeout=1.0)))
    for name, run in runs.items():
        first = run.exercise(EX.id).checks[0]
        assert first.status == "timeout", (name, first.status, first.message)
    said = {name: run.exercise(EX.id).checks[0].message for name, run in runs.items()}
    for name in ("loops_while_saying_it_compiles", "says_it_compiles_again_and_again"):  # the allowance, once
        assert "torch.compile was compiling for more than 2 s during this exercise" in said[name], said[name]
    stopped = said["stops_the_alarm_and_says_it_compiles"]
    assert "still running after 1 s and was stopped" in stopped and "torch.compile spent compiling" in stopped
    assert "did not finish in time" in said["loops_after_compiling"]


def test_the_lane_credits_no_more_than_the_allowance_however_often_an_exercise_says_it_compiles():
    """The lane is out of the learner's reach: `Compiling` and `Compiled` sent again and again (or
    forged) move an exercise's deadlines by the allowance at most, and its submission's by the
    sum of its exercises' (each at most the allowance)."""
    limits = lane_shared.Limits(check=1.0, exercise=60.0, submission=600.0, compiling=5.0)
    from grading.core.results import RunResult

    shared = lane_shared.Shared([RunResult(target="t", seed=0)], {}, limits, report=None, on_complete=None, pending=[])
    key = (0, EX.id)
    shared.began[0] = 0.0
    moved = shared.start_compiling(key, now=0.0)
    assert moved == 5.0 and shared.start_compiling(key, now=0.5) == 0.0  # said twice: counted once
    assert shared.submission_deadline(0) == 605.0  # while it compiles, the deadline is where the allowance ends
    assert shared.stop_compiling(key, now=2.0) == 3.0 and shared.credit(key) == 2.0  # 2 s used, 3 s moved back
    t = 2.0
    for _ in range(100):
        shared.start_compiling(key, now=t)
        t += 1.0
        shared.stop_compiling(key, now=t)
    assert shared.credit(key) == 5.0 and shared.start_compiling(key, now=t) == 0.0
    assert shared.stop_compiling(key, now=t + 1) == 0.0  # "done" with nothing begun moves nothing
    shared.start_compiling((0, "ex04_accuracy"), now=t)
    shared.stop_compiling((0, "ex04_accuracy"), now=t + 10)
    assert shared.submission_deadline(0) == 610.0
