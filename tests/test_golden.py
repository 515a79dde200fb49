"""What the grader prints and writes, end to end, against golden files: the text summary of a
known state, one exercise in full (`ex03 -v`) on a known wrong file, the JSON, Gradescope and JUnit
reports, and a seeded batch's gradebook, class mistakes and class page. Times, durations, dates,
temporary paths and the machine's sandbox are normalised; everything else must stay as it is.

One grading run of the known state serves the summary and the three machine formats; the batch
grades two small submissions once for its three files. After an intended change, rerun with
KATA_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from pathlib import Path

import pytest

from grading import EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from grading.cli import main

from .conftest import CATALOG, CORPUS

GOLDEN = Path(__file__).parent / "golden"
WRONG_EX03 = CORPUS / "ex03_sgd_step" / "wrong_rebinding.py"
WRONG_EX09 = CORPUS / "ex09_freeze_by_prefix" / "wrong_startswith_no_dot.py"
SEED = 5


def normalised(text: str, *folders: Path) -> str:
    for folder in (*folders, ROOT):  # the temporary folders and the kata's, as written and as resolved
        for spelling in {str(folder), str(folder.resolve())}:
            text = text.replace(spelling, "<ROOT>" if folder == ROOT else "<TMP>")
    text = re.sub(r"(?m)^( +python grader\.py .*?) {2,}", r"\1  ", text)  # columns aligned to a path's length
    text = re.sub(r"(?i)landlock ABI \d+", "<SANDBOX>", text)
    text = re.sub(r'("(?:duration|execution_time)": )[0-9.e-]+', r"\g<1>0", text)
    text = re.sub(r'(time|timestamp)="[^"]*"', r'\1="0"', text)
    text = re.sub(r"generated \d{4}-\d\d-\d\d \d\d:\d\d", "generated <DATE>", text)
    text = re.sub(r"\b\d+(\.\d+)? s\b", "<N> s", text)
    text = re.sub(r"\bline \d+(, in )", r"line N\1", text)  # the checks' own lines, in a traceback
    # a traceback names the checks' lines and wraps at the length of their path: kept as a marker
    text = re.sub(r"(?m)^( +)traceback:\n(?:\1 .*\n)*", r"\1traceback: <TRACEBACK>\n", text)
    return text


@pytest.fixture(autouse=True, scope="module")
def _width():
    """The text reports wrap at the terminal's width: here always the width of no terminal."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "100")
        yield


def assert_golden(name: str, text: str) -> None:
    golden = GOLDEN / name
    if os.environ.get("KATA_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{name} is missing: rerun with KATA_UPDATE_GOLDEN=1 to write it"
    assert text == golden.read_text(encoding="utf-8"), (
        f"{name} differs; if the change is intended, rerun with KATA_UPDATE_GOLDEN=1 and review the diff"
    )


def cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv + ["--no-color"])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def known_state(tmp_path_factory):
    """Every exercise solved but ex03 and ex09 (known wrong files) and ex05 (not started), graded
    once, written in every format."""
    target = tmp_path_factory.mktemp("known")
    for ex in CATALOG:
        shutil.copy(SOLUTIONS_DIR / ex.filename, target / ex.filename)
    shutil.copy(WRONG_EX09, target / CATALOG["ex09_freeze_by_prefix"].filename)
    shutil.copy(WRONG_EX03, target / CATALOG["ex03_sgd_step"].filename)
    shutil.copy(EXERCISES_DIR / CATALOG["ex05_to_numpy"].filename, target / CATALOG["ex05_to_numpy"].filename)
    # one grading run: the text summary goes to the terminal, the machine formats are rendered
    # from the same results by `render` (what --format does)
    from grading.reports.formats import render
    from grading.core.integrity import attach_integrity
    from grading.reports.text import summary
    from grading.engine.runner import grade
    from grading.reports.style import Style

    run = grade(target, list(CATALOG), seed=SEED)
    attach_integrity(run, CATALOG)
    texts = {"text": summary(run, CATALOG, Style(color=False), target_is_default=False) + "\n"}
    for fmt in ("json", "gradescope", "junit"):
        texts[fmt] = render(run, fmt) + "\n"
    return {fmt: normalised(text, target) for fmt, text in texts.items()}


@pytest.mark.parametrize("fmt,name", [("text", "known.summary.txt"), ("json", "known.json"),
                                      ("gradescope", "known.gradescope.json"), ("junit", "known.junit.xml")])
def test_known_state_reports(known_state, fmt, name):
    assert_golden(name, known_state[fmt])


def test_one_exercise_in_full_on_a_wrong_file(tmp_path):
    target = tmp_path / CATALOG["ex03_sgd_step"].filename
    shutil.copy(WRONG_EX03, target)
    code, text = cli(["ex03", "-v", "--target", str(target), "--seed", str(SEED)])
    assert code == 1
    assert_golden("ex03.wrong_rebinding.verbose.txt", normalised(text, tmp_path))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Two submissions (one with two solved exercises, one with a wrong and a not started one),
    graded in one seeded batch with its class page."""
    root = tmp_path_factory.mktemp("batch")
    subs = root / "submissions"
    alice, bob = subs / "alice", subs / "bob"
    alice.mkdir(parents=True)
    bob.mkdir()
    ex03, ex05 = CATALOG["ex03_sgd_step"].filename, CATALOG["ex05_to_numpy"].filename
    shutil.copy(SOLUTIONS_DIR / ex03, alice / ex03)
    shutil.copy(SOLUTIONS_DIR / ex05, alice / ex05)
    shutil.copy(WRONG_EX03, bob / ex03)
    shutil.copy(EXERCISES_DIR / ex05, bob / ex05)
    cli(["batch", str(subs), "-o", str(root / "grades.csv"), "--report", str(root / "class.html"),
         "--seed", str(SEED)])
    return root


@pytest.mark.parametrize("name", ["grades.csv", "mistakes.csv", "class.html"])
def test_seeded_batch(batch, name):
    text = (batch / name).read_text(encoding="utf-8")
    assert_golden(f"batch.{name}", normalised(text, batch))
