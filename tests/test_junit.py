"""`--format junit`: valid against the Jenkins JUnit schema, with counts that add up, whatever the
learner's code printed or raised (terminal colour codes, control characters XML 1.0 forbids)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml

from grading import SOLUTIONS_DIR
from grading.reports.formats import clean_text, junit_classname, render
from grading.engine.runner import grade
from grading.core.stubs import stub_for

from .conftest import CATALOG, solution_run, stub_run
from .test_classroom import sample_run

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "schemas" / "junit-10.xsd")

# ANSI colour and cursor codes, C0 and C1 controls, DEL, a lone surrogate, a non-character
NASTY = "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x00\x01\x08\x0b\x0c\x1b \x7f\x85 \ud800 \ufffe end"
# a learner who prints and raises all of it, beside a module that cannot be imported (with the
# raw characters in the offending line), a stub and a passing exercise
NASTY_MODULE = f"""
NASTY = {NASTY!r}


def sgd_step(params, lr):
    print(NASTY + " printed")
    raise ValueError(NASTY + " raised")
"""
BROKEN_MODULE = "def cut_history_(t):\n    return t +* '\x1b[31m\x07\x01'\n"
NASTY_IDS = ("ex01_enable_tracking", "ex02_predict", "ex03_sgd_step", "ex07_cut_history")
_CACHE: dict[str, object] = {}


def nasty_run(tmp_path_factory):
    """One grading run, shared by this module and tests/test_gradescope_format.py."""
    if "run" not in _CACHE:
        folder = tmp_path_factory.mktemp("nasty")
        ex01, ex02, ex03, ex07 = (CATALOG[i] for i in NASTY_IDS)
        (folder / ex01.filename).write_text((SOLUTIONS_DIR / ex01.filename).read_text(encoding="utf-8"),
                                            encoding="utf-8")
        (folder / ex02.filename).write_text(stub_for(ex02), encoding="utf-8")
        (folder / ex03.filename).write_text(NASTY_MODULE, encoding="utf-8")
        (folder / ex07.filename).write_text(BROKEN_MODULE, encoding="utf-8")
        run = grade(folder, [ex01, ex02, ex03, ex07])
        statuses = {e.id: e.status for e in run.exercises}
        assert statuses == {"ex01_enable_tracking": "passed", "ex02_predict": "not_started",
                            "ex03_sgd_step": "failed", "ex07_cut_history": "error"}, statuses
        assert any("\x1b[31m" in c.output and "\x1b[31m" in c.message for c in run.exercise("ex03_sgd_step").checks)
        _CACHE["run"] = run
    return _CACHE["run"]


def _runs(tmp_path_factory):
    return {"solutions": solution_run(), "stubs": stub_run(tmp_path_factory),
            "nasty": nasty_run(tmp_path_factory), "sample": sample_run()}


def _kinds(case) -> list[str]:
    return [type(r).__name__ for r in case.result if isinstance(r, (Failure, Error))]


@pytest.mark.parametrize("which", ["solutions", "stubs", "nasty", "sample"])
def test_junit_is_valid_against_the_jenkins_schema_and_its_counts_add_up(tmp_path_factory, which):
    run = _runs(tmp_path_factory)[which]
    text = render(run, "junit")
    SCHEMA.validate(text)  # raises with the offending element and why
    ET.fromstring(text)  # well-formed XML 1.0 (the schema check parses it too)

    xml = JUnitXml.fromstring(text)
    suites = list(xml)
    assert [s.name for s in suites] == [e.id for e in run.exercises]
    all_cases = 0
    for suite, exercise in zip(suites, run.exercises):
        cases = list(suite)
        kinds = [_kinds(c) for c in cases]
        assert suite.tests == len(cases), f"{suite.name}: tests={suite.tests} but {len(cases)} testcases"
        assert suite.failures == sum(k == ["Failure"] for k in kinds), suite.name
        assert suite.errors == sum(k == ["Error"] for k in kinds), suite.name
        assert all(len(k) <= 1 for k in kinds), f"{suite.name}: a testcase with several verdicts"
        assert len(cases) >= len(exercise.checks)
        for case in cases:  # as pytest's junitxml writes it
            assert case.classname == f"checks.test_{exercise.id}", (case.classname, case.name)
        all_cases += len(cases)
        props = {p.name: p.value for p in suite.properties()}
        assert props["max_score"] == f"{exercise.max_score:g}" and props["seed"] == str(run.seed)
    assert xml.tests == all_cases, f"the root counts {xml.tests} tests, the suites hold {all_cases}"
    assert xml.failures == sum(s.failures for s in suites)
    assert xml.errors == sum(s.errors for s in suites)
    assert float(ET.fromstring(text).get("time")) == pytest.approx(sum(float(s.time) for s in suites), abs=0.01)


def test_not_started_stubs_are_failures_as_under_pytest(tmp_path_factory):
    """pytest reports an exception raised by the test as a failure, not an error."""
    xml = JUnitXml.fromstring(render(stub_run(tmp_path_factory), "junit"))
    cases = [c for s in xml for c in s]
    assert cases and xml.errors == 0, "a not-started stub is reported as an error"
    assert all(_kinds(c) == ["Failure"] for c in cases)
    types = {c.result[0].type for c in cases}
    assert "NotImplementedError" in types, types
    not_started = [c for c in cases if c.result[0].type == "NotImplementedError"]
    assert all("not started" in c.result[0].message for c in not_started)


def test_learner_text_is_cleaned_everywhere_and_still_readable(tmp_path_factory):
    run = nasty_run(tmp_path_factory)
    text = render(run, "junit")
    forbidden = [ch for ch in set(text) if ord(ch) < 0x20 and ch not in "\t\n\r" or 0x7f <= ord(ch) <= 0x9f
                 or 0xd800 <= ord(ch) <= 0xdfff or ch in "\ufffe\uffff"]
    assert not forbidden, f"characters XML 1.0 forbids or a terminal would act on: {forbidden!r}"
    assert "[31m" not in text and "]0;title" not in text, "terminal codes are dropped, not half-escaped"
    suites = {s.name: s for s in JUnitXml.fromstring(text)}

    raised = next(iter(suites["ex03_sgd_step"]))
    (verdict,) = raised.result
    assert isinstance(verdict, Failure)  # the learner's exception, raised while the check ran
    assert "ValueError: red" in verdict.message and "\\x00\\x01\\x08" in verdict.message  # shown, not dropped
    assert verdict.text.startswith(verdict.message) and '  File "' in verdict.text, "the traceback follows"
    out = raised.system_out  # what the learner's code printed, all of it
    assert out.startswith("red") and out.rstrip().endswith("end printed"), out
    assert "\\x0b\\x0c\\x1b \\x7f\\x85 \\ud800 \\ufffe" in out

    for case in suites["ex07_cut_history"]:  # the file cannot be imported: an error, as in a fixture
        assert _kinds(case) == ["Error"]
        assert "SyntaxError" in case.result[0].text and "\\x07\\x01" in case.result[0].text
    assert all(_kinds(c) == [] for c in suites["ex01_enable_tracking"])


def test_integrity_problems_get_a_testcase_of_their_own_that_is_counted():
    text = render(sample_run(), "junit")
    suites = {s.name: s for s in JUnitXml.fromstring(text)}
    for exercise_id in ("ex05_to_numpy", "ex13_make_optimizer"):
        cases = {c.name: c for c in suites[exercise_id]}
        verdict = cases["(exercise)"].result[0]
        assert isinstance(verdict, Error) and verdict.type == "integrity"
        assert suites[exercise_id].errors == 1 and suites[exercise_id].tests == len(cases)
    assert suites["ex20_saliency"].errors == 1  # a crash is an error
    assert suites["ex21_truncated_bptt"].failures == 1  # a time-out is a failure, as pytest-timeout's


def test_clean_text_and_classnames():
    assert clean_text("\x1b[1;31mbold red\x1b[0m\r\nnext\rline\t\x00") == "bold red\nnext\nline\t\\x00"
    assert clean_text("caf\u00e9 \U0001f600 \x85 \ud83d") == "caf\u00e9 \U0001f600 \\x85 \\ud83d"
    assert junit_classname("ex03_sgd_step", "test_values[vector-lr0.1]") == (
        "checks.test_ex03_sgd_step", "test_values[vector-lr0.1]")
    assert junit_classname("ex03_sgd_step", "TestSteps::test_values[a::b]") == (
        "checks.test_ex03_sgd_step.TestSteps", "test_values[a::b]")
