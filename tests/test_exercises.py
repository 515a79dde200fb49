"""Every check is proven three ways: it fails on the stub, passes on the reference
solution, and catches each known-wrong implementation of the corpus with the message
meant for that mistake, as the known mistake it declares (`MISTAKE`, a stable id; and,
where a corpus file names one with `NOT_EXPECT`, with no message that blames a mistake it
does not make), while correct alternatives pass."""

from __future__ import annotations

import pytest

from grading import EXERCISES_DIR
from grading.core.stubs import stub_for

from .conftest import CATALOG, corpus_cases, corpus_result, describe, expected_fragment, solution_run, stub_run


def test_every_exercise_has_its_files():
    for ex in CATALOG:
        assert (EXERCISES_DIR / ex.filename).is_file(), f"{ex.id}: stub missing"
        assert ex.check_file.is_file(), f"{ex.id}: checks missing"
        assert len(ex.hints) >= 2, f"{ex.id}: needs at least two progressive hints"
        assert ex.points > 0


@pytest.mark.parametrize("exercise", list(CATALOG), ids=lambda ex: ex.short)
def test_stub_in_exercises_is_derived_from_the_solution(exercise):
    stub = (EXERCISES_DIR / exercise.filename).read_text(encoding="utf-8")
    assert stub == stub_for(exercise), (
        f"exercises/{exercise.filename} differs from the stub derived from solutions/{exercise.filename}: "
        "run `python -m grading.core.stubs` (or, if you are a learner, this test is about the pristine kata)"
    )


@pytest.mark.timeout(600)  # the first one grades every stub
@pytest.mark.parametrize("exercise", list(CATALOG), ids=lambda ex: ex.short)
def test_every_check_fails_on_the_stub(tmp_path_factory, exercise):
    result = stub_run(tmp_path_factory).exercise(exercise.id)
    assert result.checks, describe(result)
    passing = [c.name for c in result.checks if c.passed]
    assert not passing, f"{result.id}: checks that pass on the untouched stub cannot fail: {passing}"
    assert result.status == "not_started", describe(result)


@pytest.mark.timeout(600)  # the first one grades every solution
@pytest.mark.parametrize("exercise", list(CATALOG), ids=lambda ex: ex.short)
def test_every_check_passes_on_the_solution(exercise):
    result = solution_run().exercise(exercise.id)
    assert result.checks, f"{result.id}: no checks ran"
    assert result.passed, describe(result)


# the first corpus check grades the whole corpus (on every core) for all the others: give it time
CORPUS_TIME = pytest.mark.timeout(1200)


@CORPUS_TIME
@pytest.mark.parametrize("exercise_id,path", corpus_cases("wrong"))
def test_wrong_implementation_is_caught_with_its_message(tmp_path_factory, exercise_id, path):
    fragment = expected_fragment(path)
    assert fragment, f"{path.name}: a wrong implementation must say which message catches it (EXPECT = ...)"
    result = corpus_result(tmp_path_factory, exercise_id, path)
    assert not result.passed, f"{path.name} passed every check:\n{describe(result)}"
    messages = [c.message for c in result.checks if not c.passed] + [result.error]
    assert any(fragment in m for m in messages), (
        f"{path.name} failed, but no message contains {fragment!r}:\n{describe(result)}"
    )
    assert all(c.message for c in result.checks if not c.passed), "a failing check without a message"
    mistake = expected_fragment(path, "MISTAKE")
    assert mistake, f"{path.name}: a wrong implementation must say which known mistake it is (MISTAKE = ...)"
    named = sorted({c.mistake for c in result.checks if not c.passed and c.mistake})
    assert mistake in named, (
        f"{path.name} failed, but no failing check names the mistake {mistake!r} (they name {named or 'none'}):\n"
        f"{describe(result)}"
    )
    titled = [c.name for c in result.checks if c.mistake and not c.mistake_title]
    assert not titled, f"{path.name}: checks {titled} name a mistake without its title"
    misleading = expected_fragment(path, "NOT_EXPECT")
    blamed = [c.name for c in result.checks if not c.passed and misleading and misleading in c.message]
    assert not blamed, f"{path.name}: {blamed} blame a mistake it does not make ({misleading!r}):\n{describe(result)}"


@CORPUS_TIME
@pytest.mark.parametrize("exercise_id,path", corpus_cases("right"))
def test_correct_alternative_passes(tmp_path_factory, exercise_id, path):
    result = corpus_result(tmp_path_factory, exercise_id, path)
    assert result.passed, f"{path.name} is correct but was failed:\n{describe(result)}"
