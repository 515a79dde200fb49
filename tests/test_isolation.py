"""Isolation: a broken, hanging or poisoning exercise is charged to itself and never reaches the next exercise or another submission; the fork and spawn paths agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grading import ROOT
from grading.cli import main
from grading.engine.runner import grade, grade_many
from grading.core.stubs import stub_for

from .conftest import CATALOG
from .support import EX, OTHER, make_target, solution, with_function

pytestmark = pytest.mark.usefixtures("private_state")


# ------------------------------------------------------------------ isolation


def test_a_syntax_error_leaves_the_others_graded(tmp_path, capsys):
    target = make_target(tmp_path, {EX.filename: "def sgd_step(params, lr)\n    pass\n", OTHER.filename: solution(OTHER)})
    run = grade(target, [EX, OTHER])
    broken, fine = run.exercise(EX.id), run.exercise(OTHER.id)
    assert broken.status == "error"
    assert all(f"{EX.filename}, line 1: SyntaxError" in c.message for c in broken.checks)
    assert fine.passed
    assert main(["--target", str(target), EX.short]) == 1
    assert "SyntaxError" in capsys.readouterr().out


@pytest.mark.parametrize("body,status,fragment", [
    ("os._exit(3)", "crashed", "exited with code 3"),
    ("os.kill(os.getpid(), 9)", "crashed", "killed by SIGKILL"),
    ("while True: pass", "timeout", "still running"),
    ("time.sleep(60)", "timeout", "still running"),
], ids=["os._exit", "sigkill", "busy-loop", "sleep"])
@pytest.mark.parametrize("isolation", ["exercise", "submission"])
def test_a_dying_or_hanging_exercise_is_charged_and_the_rest_graded(tmp_path, body, status, fragment, isolation):
    target = make_target(tmp_path, {EX.filename: with_function(EX, body), OTHER.filename: solution(OTHER)})
    started = time.monotonic()
    # one lane: the exercise after the one that died must be graded by a new process
    run = grade(target, [EX, OTHER], timeout=1.0, lanes=1, isolation=isolation)
    bad, fine = run.exercise(EX.id), run.exercise(OTHER.id)
    assert bad.status == "error" and bad.score == 0
    assert any(c.status in (status, "timeout") and (fragment in c.message or c.status == status) for c in bad.checks), \
        [(c.status, c.message) for c in bad.checks]
    assert fine.passed, [(c.status, c.message) for c in fine.checks]
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("source,fragment", [
    ("import sys\nsys.exit(1)\n", "raised SystemExit"),
    ("raise ImportError('nope')\n", "raised ImportError: nope"),
    ("x = 1\n", "defines no function `sgd_step`"),
])
def test_import_time_failures_are_load_errors(tmp_path, source, fragment):
    target = make_target(tmp_path, {EX.filename: source, OTHER.filename: solution(OTHER)})
    run = grade(target, [EX, OTHER])
    assert run.exercise(EX.id).status == "error"
    assert all(fragment in c.message for c in run.exercise(EX.id).checks)
    assert run.exercise(OTHER.id).passed


@pytest.mark.parametrize("isolation", ["exercise", "submission"])
def test_global_state_changed_at_import_does_not_leak(tmp_path, isolation):
    poisoned = ("import torch\ntorch.set_grad_enabled(False)\ntorch.set_default_dtype(torch.float64)\n"
                "torch.Tensor.backward = lambda self, *a, **k: None\n" + solution(EX))
    target = make_target(tmp_path, {EX.filename: poisoned, OTHER.filename: solution(OTHER)})
    run = grade(target, [EX, OTHER], lanes=1, isolation=isolation)  # one process may grade both
    assert run.exercise(OTHER.id).passed


# What a learner's module may do at import to the process it runs in, and an exercise whose checks
# it would break (or, for a cheat, wrongly pass) if it reached them: (id, poison, victim, victim's text)
POISONS = [
    ("optimizer-step", "torch.optim.Adam.step = lambda self, closure=None: None", "ex13_make_optimizer", None),
    ("clip-grad-norm", "torch.nn.utils.clip_grad_norm_ = lambda params, max_norm, **k: torch.tensor(0.0)",
     "ex16_clip_and_log", None),
    ("class-attribute-added", "torch.nn.Parameter.__isub__ = lambda self, other: self", "ex03_sgd_step", None),
    ("default-device", "torch.set_default_device('meta')", "ex01_enable_tracking", None),
    ("inference-mode-left-on", "_mode = torch.inference_mode()\n_mode.__enter__()", "ex03_sgd_step", None),
    ("saved-tensor-hooks-left-on",
     "_hooks = torch.autograd.graph.saved_tensors_hooks(lambda t: 1 / 0, lambda t: t)\n_hooks.__enter__()",
     "ex03_sgd_step", None),
    ("every-check-passes",  # a cheat: the checks of a later, untouched stub would all pass
     "import _pytest.python\n_pytest.python.Function.runtest = lambda self: None", "ex04_accuracy", "stub"),
]


def _victim_text(victim, text):
    return stub_for(victim) if text == "stub" else solution(victim)


def test_each_poison_bites_in_its_own_exercise(tmp_path):
    """The poisons below are real: in the victim's own module, they change its verdict (all of
    them graded in one run, a submission each)."""
    targets = []
    for name, poison, victim, text in POISONS:
        victim = CATALOG[victim]
        folder = tmp_path / name
        folder.mkdir()
        (folder / victim.filename).write_text("import torch\n" + poison + "\n" + _victim_text(victim, text))
        targets.append(folder)
    victims = list(dict.fromkeys(CATALOG[p[2]] for p in POISONS))
    runs = grade_many(targets, victims)
    for (name, _, victim, text), run in zip(POISONS, runs):
        result = run.exercise(victim)
        assert result.passed is (text == "stub"), (name, [(c.name, c.message) for c in result.checks][:3])


@pytest.mark.parametrize("method,isolation", [("fork", "exercise"), ("fork", "submission"), ("spawn", "exercise")])
def test_a_poison_never_reaches_the_next_exercise(tmp_path, method, isolation):
    """One process grades both exercises of a submission (submission isolation, or the spawn
    fallback): what the first exercise's module did to the process is undone before the victim is
    graded. Every poison is a submission of its own, all in one run."""
    pairs = []
    targets = []
    for name, poison, victim, text in POISONS:
        victim = CATALOG[victim]
        first = next(ex for ex in CATALOG if ex.id != victim.id)
        pairs.append((first, victim))
        folder = tmp_path / name
        folder.mkdir()
        (folder / first.filename).write_text("import torch\n" + poison + "\n" + solution(first))
        (folder / victim.filename).write_text(_victim_text(victim, text))
        targets.append(folder)
    # the order of grading: every poisoned exercise before its victim (a first that is also a victim
    # comes after the first that poisons it)
    order = list(dict.fromkeys([f for f, v in pairs if f not in {v2 for _, v2 in pairs}]
                               + [f for f, _ in pairs] + [v for _, v in pairs]))
    assert all(order.index(f) < order.index(v) for f, v in pairs), [e.short for e in order]
    runs = grade_many(targets, order, lanes=2, method=method, isolation=isolation)
    for (name, _, victim, text), run in zip(POISONS, runs):
        result = run.exercise(victim)
        assert result.passed is (text != "stub"), (name, [(c.name, c.message) for c in result.checks][:3])
        if text == "stub":
            assert result.status == "not_started", name


@pytest.mark.parametrize("method,isolation", [("fork", "exercise"), ("fork", "submission"), ("spawn", "auto")])
def test_memory_one_exercise_ran_out_of_is_not_taken_from_the_next(tmp_path, method, isolation):
    """Memory a hog allocated and freed stays with its process; in a process that grades the
    next exercise too, that one would start with its allowance spent. It gets a fresh process."""
    victim = CATALOG["ex01_enable_tracking"]
    hog = with_function(EX, "hog = []\nwhile True:\n    hog.append(bytearray(10**7))")
    # a correct answer that needs a quarter of its allowance for a moment
    needy = solution(victim).replace("    return t\n", "    scratch = bytearray(64 * 2**20)\n    return t\n")
    assert needy != solution(victim)
    target = make_target(tmp_path, {EX.filename: hog, victim.filename: needy})
    run = grade(target, [EX, victim], lanes=1, method=method, isolation=isolation, memory_mb=256)
    assert not run.exercise(EX.id).passed
    assert run.exercise(victim.id).passed, [(c.name, c.message) for c in run.exercise(victim.id).checks if not c.passed][:3]


@pytest.mark.parametrize("method,isolation", [("fork", "exercise"), ("fork", "submission"), ("spawn", "auto")])
def test_what_cannot_be_put_back_never_reaches_another_submission(tmp_path, method, isolation):
    """A global module hook lives in a registry mutated in place, which nothing puts back: it
    reaches no other submission, because no two submissions share a process."""
    victim = CATALOG["ex02_predict"]
    hook = ("import torch\n"
            "torch.nn.modules.module.register_module_forward_pre_hook(lambda module, args: 1 / 0)\n")
    targets = []
    for name, text in (("hooked", hook + solution(victim)), ("clean", solution(victim))):
        (tmp_path / name).mkdir()
        targets.append(make_target(tmp_path / name, {victim.filename: text}))
    from grading.engine.runner import grade_many

    hooked, clean = grade_many(targets, [victim], lanes=1, method=method, isolation=isolation)
    assert not hooked.exercise(victim.id).passed  # the hook bites where it was registered
    assert clean.exercise(victim.id).passed, [(c.name, c.message) for c in clean.exercise(victim.id).checks][:3]


# ------------------------------------------------------------------ torch._dynamo, paid where needed

PROBE = """
import json, os, sys
import numpy, pytest, torch  # no optimizer built: torch._dynamo is not imported
from grading.core.catalog import load_catalog
from grading.engine.plugin import GradingPlugin, exercise_of

assert "torch._dynamo" not in sys.modules
log = open(sys.argv[1], "a", buffering=1)

class Probe:  # in each exercise's own process, after its last check: was torch._dynamo imported?
    def pytest_runtest_teardown(self, item, nextitem):
        if nextitem is None:
            log.write(json.dumps([exercise_of(item.nodeid), "torch._dynamo" in sys.modules]) + "\\n")

files = [str(ex.check_file) for ex in load_catalog()]
pytest.main(files + ["--target", "solutions", "-q", "-p", "no:cacheprovider", "--assert=plain"],
            plugins=[GradingPlugin(lambda event: None, fork=True), Probe()])
"""


def test_the_catalog_says_which_checks_build_optimizers(tmp_path):
    """`optimizers = true` in the catalog gives an exercise a lane that imports torch._dynamo for
    it; an exercise whose checks build an optimizer without the flag would pay half a second in
    its own process, and a flag without need would cost a lane the same."""
    log = tmp_path / "probe.jsonl"
    proc = subprocess.run([sys.executable, "-c", PROBE, str(log)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    needs = dict(json.loads(line) for line in log.read_text().splitlines())
    assert set(needs) == {ex.id for ex in CATALOG}
    assert {ex.id: ex.optimizers for ex in CATALOG} == needs


def test_a_single_grade_imports_torch_dynamo_only_in_a_lane(tmp_path):
    """The grader's own process never imports torch._dynamo for one submission: the exercises
    that need it get a lane that imports it while the other lane grades, and a grade of
    exercises that don't need it never imports it at all."""
    script = ("import sys\nfrom grading.core.catalog import load_catalog\nfrom grading.engine.runner import grade\n"
              "from grading import SOLUTIONS_DIR\n"
              "exercises = [e for e in load_catalog() if e.id in sys.argv[1:]] or list(load_catalog())\n"
              "run = grade(SOLUTIONS_DIR, exercises, lanes=2)\n"
              "print(run.score, run.max_score, 'torch._dynamo' in sys.modules)\n")
    for chosen in ([], [EX.id]):
        proc = subprocess.run([sys.executable, "-c", script, *chosen], cwd=ROOT, capture_output=True, text=True,
                              timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert proc.returncode == 0, proc.stderr[-2000:]
        score, max_score, imported = proc.stdout.split()
        assert score == max_score and imported == "False", (chosen, proc.stdout)


def test_a_print_flood_is_cut(tmp_path):
    flood = solution(EX).replace("    with torch.no_grad():", "    print('x' * 2_000_000)\n    with torch.no_grad():", 1)
    target = make_target(tmp_path, {EX.filename: flood})
    result = grade(target, [EX]).exercise(EX.id)
    assert result.passed
    text = json.dumps(grade(target, [EX]).to_dict())
    assert len(text) < 200_000


def test_spawn_fallback_gives_the_same_verdicts(tmp_path):
    wrong = (ROOT / "tests/corpus/ex03_sgd_step/wrong_rebinding.py").read_text()
    target = make_target(tmp_path, {EX.filename: wrong, OTHER.filename: solution(OTHER)})
    forked = grade(target, [EX, OTHER], method="fork")
    spawned = grade(target, [EX, OTHER], method="spawn")
    verdicts = lambda run: [(e.id, e.status, [(c.name, c.status, c.message) for c in e.checks]) for e in run.exercises]  # noqa: E731
    assert verdicts(forked) == verdicts(spawned)


@pytest.mark.parametrize("method,isolation", [("fork", "exercise"), ("fork", "submission")])
def test_each_target_of_a_shared_run_gets_its_own_verdicts(tmp_path, method, isolation):
    """Several submissions graded by one child (batch): a message, a load error or a time-out of
    one submission never becomes another's verdict, also where one process runs them all. (Without
    fork, every submission has an interpreter of its own: test_spawn_fallback_gives_the_same_verdicts.)"""
    from grading.engine.runner import grade_many

    texts = [f"def {EX.function}(:\n    pass\n",  # a load error
             (ROOT / "tests/corpus/ex03_sgd_step/wrong_rebinding.py").read_text(),
             solution(EX),
             with_function(EX, "raise ValueError('mine alone')")]
    targets = []
    for n, text in enumerate(texts):
        (tmp_path / str(n)).mkdir()
        targets.append(make_target(tmp_path / str(n), {EX.filename: text}))
    alone = [grade(t, [EX], method=method, isolation=isolation).exercise(EX.id) for t in targets]
    shared = [run.exercise(EX.id) for run in grade_many(targets, [EX], method=method, isolation=isolation)]
    verdict = lambda r: (r.status, [(c.name, c.status, c.message) for c in r.checks])  # noqa: E731
    assert [verdict(r) for r in shared] == [verdict(r) for r in alone]
    assert [r.status for r in shared] == ["error", "failed", "passed", "failed"]


def test_a_parent_that_initialized_cuda_is_graded_in_fresh_interpreters(tmp_path, monkeypatch):
    """CUDA initialized before a fork cannot be used after it (PyTorch marks the child a "bad
    fork"): a program that used the GPU before grading gets fresh interpreters instead."""
    import torch

    import grading.engine.lane as lane

    monkeypatch.setattr(torch.cuda, "_is_in_bad_fork", lambda: True)  # inherited by forks only
    methods = []
    start = lane.start_worker
    monkeypatch.setattr(lane, "start_worker",
                        lambda request, method, *rest, **kw: methods.append(method) or start(request, method, *rest, **kw))
    target = make_target(tmp_path, {EX.filename: solution(EX)})
    run = grade(target, [EX], method="fork")
    assert methods == ["fork", "spawn"]
    assert run.exercise(EX.id).status == "passed", run.exercise(EX.id).error


def test_the_learner_folder_gets_no_bytecode_cache(tmp_path):
    target = make_target(tmp_path, {EX.filename: solution(EX)})
    grade(target, [EX])
    assert not (target / "__pycache__").exists()


def test_a_relative_target_is_found_from_the_callers_folder(tmp_path, monkeypatch):
    """The grading processes work in folders of their own: a target given by a relative path is
    still the one in the caller's folder, and the result names it as it was given."""
    make_target(tmp_path, {EX.filename: solution(EX)})
    monkeypatch.chdir(tmp_path)
    run = grade(Path("target"), [EX])
    assert run.exercise(EX.id).passed, [(c.name, c.message) for c in run.exercise(EX.id).checks][:2]
    assert run.target == "target"
    shared, = grade_many([Path("target")], [EX], isolation="submission")
    assert shared.exercise(EX.id).passed and shared.target == "target"
