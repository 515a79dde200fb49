"""Known mistakes: a stable id and a title for every targeted message of the checks.

The checks declare each mistake once, where its message is written (`checks.instruments.Mistake`);
the engine reports it with the failing check; docs/mistakes.md lists them all; every wrong file of
the corpus declares the mistake it makes (tests/test_exercises.py proves the checks name it); the
learner sees the title beside the explanation, and the summary lists the mistakes met and fixed."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import torch

from checks.instruments import (
    EVERYDAY_MISTAKES,
    Mistake,
    as_mistake,
    expect_python_number,
    expect_tensor,
    explain_errors,
    grad_mode_kept,
    mistake_of,
)
from grading.core import mistakes
from grading.dev import mistakes as mistakes_doc
from grading.reports import text as report_text
from grading.learner import state
from grading.core.catalog import load_catalog
from grading.reports.formats import to_gradescope
from grading.engine.outcomes import mistake_fields
from grading.core.results import CheckResult, ExerciseResult, RunResult
from grading.reports.style import Style

from .conftest import CATALOG, CORPUS, expected_fragment

REBINDING = ("ex03.rebinding", "rebinding instead of an in-place update")


def raised(block) -> AssertionError:
    with pytest.raises(AssertionError) as info:
        block()
    return info.value


# ------------------------------------------------------------------ the instrument


def test_a_mistake_is_the_learners_message_with_an_id_and_a_title():
    known = Mistake("ex03.rebinding", "rebinding instead of an in-place update", "parameter {i} did not change")

    def check():  # what `assert ok, known.says(i=2)` raises in a check (the grader runs them with --assert=plain)
        raise AssertionError(known.says(i=2))

    exc = raised(check)
    assert str(exc) == "parameter 2 did not change"
    assert (mistake_of(exc).mistake_id, mistake_of(exc).mistake_title) == REBINDING
    assert mistake_fields(exc) == {"mistake": "ex03.rebinding", "mistake_title": REBINDING[1]}
    copied = pickle.loads(pickle.dumps(known.reworded("another text")))
    assert (copied.mistake_id, copied.mistake_title, str(copied)) == (*REBINDING, "another text")
    assert mistake_fields(AssertionError("a plain message")) == {}


@pytest.mark.parametrize("bad", ["rebinding", "ex3.rebinding", "ex03.Rebinding", "ex03.two words", "all.x", "ex03."])
def test_a_mistake_id_is_exNN_or_any_dot_snake_case(bad):
    with pytest.raises(ValueError, match="exNN.snake_case"):
        Mistake(bad, "a title", "a message")


def test_explain_errors_reports_the_mistake_its_advice_is():
    advice = Mistake("ex03.update_outside_no_grad", "an in-place update outside torch.no_grad()", "Use no_grad.")

    def own():
        with explain_errors("sgd_step", {r"leaf Variable": advice}):
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")

    def everyday():
        with explain_errors("sgd_step", {}):
            len(x for x in ())

    def unknown():
        with explain_errors("sgd_step", {}, called_with="params = []"):
            raise KeyError("nothing known")

    exc = raised(own)
    assert str(exc).endswith("Use no_grad.") and mistake_of(exc).mistake_id == "ex03.update_outside_no_grad"
    assert mistake_of(raised(everyday)).mistake_id == "any.generator_as_list"
    assert mistake_of(raised(unknown)) is None  # no known mistake: a plain message, the report shows null
    assert all(isinstance(a, Mistake) and a.mistake_id.startswith("any.") for a in EVERYDAY_MISTAKES.values())


@pytest.mark.parametrize("value,expected", [
    (torch.tensor(0.5), "any.tensor_not_number"),
    (np.float32(0.5), "any.numpy_number"),
    (True, "any.bool_not_number"),
    (3, "any.int_not_float"),
    (type("Half", (float,), {})(0.5), "any.number_subclass"),
    ("0.5", "any.not_a_number"),
])
def test_python_number_checks_name_their_mistake(value, expected):
    exc = raised(lambda: expect_python_number(value, "f", float))
    assert mistake_of(exc).mistake_id == expected
    hint = Mistake("ex04.returns_an_int", "an int returned", "Divide with `/`.")
    exc = raised(lambda: expect_python_number(3, "accuracy", float, int_hint=hint))
    assert mistake_of(exc).mistake_id == "ex04.returns_an_int" and str(exc).endswith("Divide with `/`.")
    assert mistake_of(raised(lambda: expect_tensor([1.0], "f"))).mistake_id == "any.not_a_tensor"


@pytest.mark.parametrize("left", [False, True], ids=["left-off", "left-on"])
def test_grad_mode_kept_names_the_way_it_was_left(left):
    def check():
        with grad_mode_kept("f"):
            torch.set_grad_enabled(left)

    torch.set_grad_enabled(not left)
    try:
        exc = raised(check)
    finally:
        torch.set_grad_enabled(True)
    assert mistake_of(exc).mistake_id == ("any.grad_mode_left_on" if left else "any.grad_mode_left_off")
    assert f"switched {'on' if left else 'off'} for the caller" in str(exc)


def test_as_mistake_keeps_the_mistake_of_a_part():
    part = Mistake("ex10.swapped", "(total, trainable) returned", "the numbers are swapped")
    whole = as_mistake(part, f"on a model: {part}")
    assert str(whole) == "on a model: the numbers are swapped" and whole.mistake_id == "ex10.swapped"
    assert not isinstance(as_mistake("a plain reason", "plain"), Mistake)


# ------------------------------------------------------------------ declarations and the doc


DECLARED = mistakes.declarations()


def test_every_mistake_is_declared_once_well_formed_in_its_exercises_checks():
    assert len(DECLARED) > 300
    assert mistakes.problems(DECLARED, CATALOG) == []
    for ex in CATALOG:
        own = [d for d in DECLARED if d.exercise == ex.short]
        assert len(own) >= 3, f"{ex.id}: only {len(own)} known mistakes declared"


def test_the_declaration_checker_catches_what_is_wrong(tmp_path):
    (tmp_path / "test_ex03_sgd_step.py").write_text(
        'A = Mistake("ex03.rebinding", "rebinding", "...")\n'
        'B = Mistake("ex03.rebinding", "again", "...")\n'
        'C = Mistake("ex04.percentage", "in the wrong file", "...")\n'
        'D = Mistake("any.thing", "an any.* id outside the instruments", "...")\n'
        'E = Mistake("ex99.nothing", "no such exercise", "...")\n'
        'F = Mistake("ex03.long", "a title\\non two lines", "...")\n', encoding="utf-8")
    found = "\n".join(mistakes.problems(mistakes.declarations(tmp_path), CATALOG))
    for expected in ("ex03.rebinding is declared again", "ex04.percentage is declared in the checks of ex03",
                     "any.thing is an any.* id", "ex99.nothing names no exercise", "ex03.long's title"):
        assert expected in found
    (tmp_path / "test_ex05_to_numpy.py").write_text('ID = "ex05.x"\nM = Mistake(ID, "title", "...")\n',
                                                    encoding="utf-8")
    with pytest.raises(mistakes.DeclarationError, match="test_ex05_to_numpy.py, line 2"):
        mistakes.declarations(tmp_path)


def test_declarations_in_subfolders_follow_the_same_rules(tmp_path):
    """A check's helpers moved into checks/exNN/ or checks/support_exNN*.py are that exercise's
    checks; checks/instruments/ and every other shared module may declare any.* ids, and no other."""
    files = {
        "instruments/advice.py": 'A = Mistake("any.shared", "shared", "...")\n',
        "ex03/cases.py": 'B = Mistake("ex03.helper", "in its helpers", "...")\n'
                         'C = Mistake("any.in_helpers", "any.* in the helpers of one exercise", "...")\n',
        "support_ex04_cases.py": 'D = Mistake("ex04.helper", "in its support module", "...")\n'
                                 'E = Mistake("ex03.elsewhere", "in the support module of another", "...")\n',
        "structures/spaces.py": 'F = Mistake("ex05.in_shared", "the id of an exercise in shared code", "...")\n',
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    declared = mistakes.declarations(tmp_path)
    assert {d.id: d.owner for d in declared} == {"any.shared": "", "ex03.helper": "ex03", "any.in_helpers": "ex03",
                                                 "ex04.helper": "ex04", "ex03.elsewhere": "ex04",
                                                 "ex05.in_shared": ""}
    found = mistakes.problems(declared, CATALOG)
    assert len(found) == 3, found
    assert "any.in_helpers is an any.* id" in found[0]
    assert "ex05.in_shared is declared in the shared instruments" in found[1]
    assert "ex03.elsewhere is declared in the checks of ex04" in found[2]


def test_docs_mistakes_md_is_in_step_with_the_checks(tmp_path, monkeypatch, capsys):
    assert mistakes_doc.main(["--check"]) == 0, capsys.readouterr().err
    doc = mistakes_doc.DOC_PATH.read_text(encoding="utf-8")
    for d in DECLARED:
        assert f"| `{d.id}` | {d.title.replace('|', chr(92) + '|')} |" in doc
    for ex in load_catalog():
        assert f"## {ex.short} {ex.title}" in doc
    stale = tmp_path / "mistakes.md"
    stale.write_text(doc.replace("`ex03.rebinding`", "`ex03.renamed`"), encoding="utf-8")
    monkeypatch.setattr(mistakes_doc, "DOC_PATH", stale)
    assert mistakes_doc.main(["--check"]) == 1
    assert "python -m grading.dev.mistakes" in capsys.readouterr().err
    assert mistakes_doc.main([]) == 0 and stale.read_text(encoding="utf-8") == doc


WRONG_FILES = sorted(CORPUS.glob("*/wrong_*.py"))


def test_every_wrong_file_declares_a_documented_mistake_of_its_exercise():
    known = mistakes.by_id(DECLARED)
    bad = []
    for path in WRONG_FILES:
        mistake = expected_fragment(path, "MISTAKE")
        exercise = path.parent.name[:4]
        if mistake not in known:
            bad.append(f"{path.parent.name}/{path.name}: MISTAKE = {mistake!r} is declared by no check")
        elif known[mistake].exercise not in (exercise, mistakes.SHARED):
            bad.append(f"{path.parent.name}/{path.name}: {mistake} is a mistake of {known[mistake].exercise}")
    assert WRONG_FILES and not bad, "\n".join(bad)


# ------------------------------------------------------------------ the learner's side


def failing(name, mistake=REBINDING, message="parameter 0 did not change: `p -= lr * p.grad`."):
    mistake_id, title = mistake or (None, None)
    return CheckResult(name, "failed", message=message, mistake=mistake_id, mistake_title=title)


def exercise(ex_id, checks):
    ex = CATALOG[ex_id]
    return ExerciseResult(ex.id, ex.title, ex.points, checks=checks)


def passing(ex_id):
    return exercise(ex_id, [CheckResult("test_it", "passed")])


def run_of(*exercises):
    return RunResult(target="exercises", seed=0, exercises=list(exercises))


PLAIN = Style(color=False)


def test_the_report_names_the_mistake_once_above_its_explanation():
    ex = CATALOG["ex03_sgd_step"]
    result = exercise(ex.id, [failing("test_values[a]"), failing("test_storage[a]"),
                              failing("test_grad_mode", mistake=None, message="a message of no known mistake")])
    text = report_text.detail(result, ex, "exercises", PLAIN)
    lines = text.splitlines()
    assert text.count("Mistake: ") == 1
    at = next(i for i, line in enumerate(lines) if "Mistake: rebinding instead of an in-place update" in line)
    assert "parameter 0 did not change" in lines[at + 1]
    verbose = report_text.detail(result, ex, "exercises", PLAIN, verbose=True)
    assert verbose.count("Mistake: rebinding instead of an in-place update") == verbose.count("parameter 0 did not")
    bold = report_text.detail(result, ex, "exercises", Style(color=True))
    assert "\033[1mMistake: \033[0mrebinding instead of an in-place update" in bold


def test_the_summary_names_the_next_exercises_mistake():
    run = run_of(passing("ex01_enable_tracking"), exercise("ex03_sgd_step", [failing("test_values[a]")]))
    text = report_text.summary(run, CATALOG, PLAIN)
    assert re.search(r"Mistake: rebinding instead of an in-place update\n +parameter 0 did not change", text)
    assert "Mistakes you met and fixed" not in text


def test_state_remembers_mistakes_met_and_fixed(tmp_path, monkeypatch):
    monkeypatch.setenv("KATA_STATE_DIR", str(tmp_path / "state"))
    copies = ("ex05.copies", "a copy instead of an array sharing the CPU tensor's memory")
    state.record_mistakes(run_of(exercise("ex03_sgd_step", [failing("a"), failing("b", mistake=None)]),
                                 exercise("ex05_to_numpy", [failing("c", mistake=copies)])))
    assert state.fixed_mistakes() == []
    state.record_mistakes(run_of(passing("ex03_sgd_step")))
    assert state.fixed_mistakes() == [("ex03_sgd_step", *REBINDING)]
    state.record_mistakes(run_of(passing("ex05_to_numpy"), exercise("ex03_sgd_step", [failing("a")])))
    assert state.fixed_mistakes() == [("ex05_to_numpy", *copies)]  # met again: no longer fixed
    state.set_hints_seen("ex03_sgd_step", 2)  # the hints live beside them
    assert state.hints_seen("ex03_sgd_step") == 2 and len(state.fixed_mistakes()) == 1


def test_state_survives_a_damaged_file_and_a_folder_it_cannot_write(tmp_path, monkeypatch):
    folder = tmp_path / "state"
    folder.mkdir()
    monkeypatch.setenv("KATA_STATE_DIR", str(folder))
    (folder / "state.json").write_text('{"mistakes": {"ex03_sgd_step": {"ex03.x": 3}, "ex04": []}, "hints": {}}')
    assert state.fixed_mistakes() == []
    state.record_mistakes(run_of(passing("ex03_sgd_step")))
    monkeypatch.setenv("KATA_STATE_DIR", str(folder / "state.json" / "below-a-file"))
    state.record_mistakes(run_of(exercise("ex03_sgd_step", [failing("a")])))  # nothing raised, nothing kept
    assert state.fixed_mistakes() == []


@pytest.fixture
def fake_grading(monkeypatch, tmp_path):
    """The runner replaced by one that returns the runs queued in the list it gives."""
    runs = []
    import grading.engine.runner

    monkeypatch.setattr(grading.engine.runner, "grade", lambda target, exercises, **kwargs: runs.pop(0))
    monkeypatch.setattr(grading.engine.runner, "warm_up", lambda *a, **k: None)
    monkeypatch.setenv("KATA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NO_COLOR", "1")
    return runs


def test_the_summary_lists_the_mistakes_met_and_fixed_so_far(fake_grading, capsys, tmp_path):
    from grading.cli import main

    copies = ("ex05.copies", "a copy instead of an array sharing the CPU tensor's memory")
    fake_grading += [
        run_of(exercise("ex03_sgd_step", [failing("a")])),  # python grader.py ex03: failing
        run_of(passing("ex03_sgd_step"), exercise("ex05_to_numpy", [failing("c", mistake=copies)])),
        run_of(passing("ex03_sgd_step"), passing("ex05_to_numpy")),
        run_of(exercise("ex03_sgd_step", [failing("a")])),  # another folder: not the learner's record
    ]
    assert main(["ex03"]) == 1
    assert "Mistake: rebinding instead of an in-place update" in capsys.readouterr().out
    assert main([]) == 1
    out = capsys.readouterr().out
    assert "Mistakes you met and fixed: ex03 rebinding instead of an in-place update." in " ".join(out.split())
    main([])  # every exercise passes (the exit code also says whether the kata's files are its own)
    out = " ".join(capsys.readouterr().out.split())
    assert out.endswith("Mistakes you met and fixed: ex03 rebinding instead of an in-place update; "
                        "ex05 a copy instead of an array sharing the CPU tensor's memory.")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert main(["--target", str(elsewhere)]) == 1
    assert "Mistakes you met" not in capsys.readouterr().out
    assert len(state.fixed_mistakes()) == 2


def test_gradescope_names_the_mistake_of_each_failing_check():
    run = run_of(exercise("ex03_sgd_step", [failing("test_values[a]"), failing("test_mode", mistake=None,
                                                                               message="no known mistake")]))
    output = to_gradescope(run)["tests"][0]["output"]
    assert output.count("**Mistake:** rebinding instead of an in-place update") == 1
    assert output.index("**Mistake:**") < output.index("parameter 0 did not change")
