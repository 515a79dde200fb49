"""Batch grading's gradebook and feedback: a unique name per submission, cells no spreadsheet runs
as a formula, and files written whole (nothing planted at `<output>.tmp` gets in the way; a write
that fails leaves the previous file as it was)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat

from grading import ROOT, SOLUTIONS_DIR
from grading.classroom.batch import _write_feedback, run_batch
from grading.classroom.intake import shown_name, submission_names
from grading.core.gradebook import Outcome
from grading.reports.gradebook import csv_cell, write_csv
from grading.core.catalog import Catalog
from grading.classroom.export import export_gradescope
from grading.core.stubs import stub_for

from .conftest import CATALOG
from .test_gradescope_format import load_helper

EX = CATALOG["ex03_sgd_step"]
ONE = Catalog([EX])  # one exercise: the batch's own behaviour is under test, not the checks
FORMULAS = ["=HYPERLINK(\"evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _names(tmp_path: Path, *entries: str) -> list[str]:
    folder = tmp_path / f"subs{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    paths = []
    for entry in entries:
        path = folder / entry.rstrip("/")
        path.mkdir() if entry.endswith("/") else path.write_text("", encoding="utf-8")
        paths.append(path)
    return submission_names(sorted(paths))


def test_submission_names_are_unique_and_keep_the_stem_where_they_can(tmp_path):
    assert _names(tmp_path, "alice/", "alice.zip", "alice.ipynb", "alice.py", "bob.zip", "carol/") == \
        ["alice", "alice.ipynb", "alice.py", "alice.zip", "bob", "carol"]
    # a full name that meets another entry's stem gives way in turn
    assert _names(tmp_path, "dave/", "dave.zip", "dave.zip.py") == ["dave", "dave.zip", "dave.zip.py"]
    # names that differ only in case would share a feedback file on macOS and Windows
    assert _names(tmp_path, "Erin/", "erin.zip") == ["Erin", "erin.zip"]
    names = _names(tmp_path, "Frank.zip", "frank.zip", "frank.py")
    assert len({n.casefold() for n in names}) == 3 and names == _names(tmp_path, "Frank.zip", "frank.zip", "frank.py")


def test_csv_cells_that_look_like_formulas_are_quoted():
    for text in FORMULAS:
        assert csv_cell(text) == "'" + text
    for text in ("alice", "error: eve.zip: not a valid zip file", "2", "ok", "", "a=b"):
        assert csv_cell(text) == text


def _notebook(source: str) -> str:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["kata-answer"]
    return nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))


def test_batch_names_each_entry_once_and_writes_a_gradebook_no_spreadsheet_runs(tmp_path):
    good = (SOLUTIONS_DIR / EX.filename).read_text(encoding="utf-8")
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / EX.filename).write_text(good, encoding="utf-8")  # passes
    with zipfile.ZipFile(subs / "alice.zip", "w") as zf:
        zf.writestr(f"hw/{EX.filename}", stub_for(EX))  # not started
    (subs / "alice.ipynb").write_text(_notebook(good), encoding="utf-8")  # passes
    (subs / EX.filename).write_text(stub_for(EX), encoding="utf-8")
    for name in FORMULAS:  # student-chosen names: each an empty folder, so an error row
        (subs / name).mkdir()
    out, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    outcomes = run_batch(subs, ONE, out, jobs=1, seed=5, timeout=10, memory_mb=2048, feedback=feedback)

    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["submission", "entry"] and header[2] == EX.id
    names = [r[0] for r in body]
    assert len(names) == len(set(names)) == len(outcomes) == 4 + len(FORMULAS), names
    by_entry = {r[1].removeprefix("'"): dict(zip(header, r)) for r in body}
    assert by_entry["alice"]["submission"] == "alice" and by_entry["alice"][EX.id] == f"{EX.points:g}"
    assert by_entry["alice.zip"]["submission"] == "alice.zip" and by_entry["alice.zip"][EX.id] == "0"
    assert by_entry["alice.ipynb"]["submission"] == "alice.ipynb" and by_entry["alice.ipynb"][EX.id] == f"{EX.points:g}"
    assert by_entry[EX.filename]["submission"] == EX.id  # alone with its stem
    for row in body:  # no cell a spreadsheet would run
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    for name in FORMULAS:  # a tab or a carriage return in a name is shown as an escape, as everywhere
        shown = shown_name(name)
        row = by_entry[shown]
        assert row["submission"] == csv_cell(shown) and row["status"].startswith("error: no exercise file"), row
    assert shown_name("\tx") == "\\x09x" and shown_name("\rx") == "\\x0dx"

    # one feedback file per submission, named for it, saying which entry it is
    files = sorted(p.name for p in feedback.iterdir())
    assert files == sorted(f"{o.name}.json" for o in outcomes), files
    for o in outcomes:
        data = json.loads((feedback / f"{o.name}.json").read_text(encoding="utf-8"))
        assert data["submission"] == o.name and data["entry"] == o.entry
    alice_zip = json.loads((feedback / "alice.zip.json").read_text(encoding="utf-8"))
    assert alice_zip["target"] == str(subs / "alice.zip") and alice_zip["exercises"][0]["status"] == "not_started"


# ------------------------------------------------------------------ files written whole


def _outcome(name: str = "alice") -> Outcome:
    return Outcome(name, "error: no exercise file (exNN_name.py) or notebook found", None, f"{name}.zip")


def test_a_folder_planted_at_the_temporary_name_does_not_break_a_write(tmp_path):
    out = tmp_path / "grades.csv"
    (tmp_path / "grades.csv.tmp").mkdir()
    write_csv([_outcome()], ONE, out)
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("alice,alice.zip,0,")
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask(), "a gradebook gets the usual permissions"

    feedback = tmp_path / "feedback"
    feedback.mkdir()
    (feedback / "alice.json.tmp").mkdir()
    _write_feedback(feedback, _outcome())
    assert json.loads((feedback / "alice.json").read_text(encoding="utf-8"))["entry"] == "alice.zip"

    helper = load_helper()
    helper.sys.path.insert(0, str(ROOT))
    results = tmp_path / "results" / "results.json"
    results.parent.mkdir()
    (results.parent / "results.json.tmp").mkdir()
    helper.fail_closed(results, ROOT, "nothing to grade")
    assert json.loads(results.read_text(encoding="utf-8"))["score"] == 0

    bundle = tmp_path / "autograder.zip"
    (tmp_path / "autograder.zip.tmp").mkdir()
    export_gradescope(bundle)
    assert zipfile.ZipFile(bundle).testzip() is None
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".part")]
    assert not leftovers


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Run in a process of its own: files there may not grow past 1000 bytes (RLIMIT_FSIZE), so a
# write of more fails half-way, as on a full disk.
FAILING_WRITES = textwrap.dedent("""
    import json, resource, signal, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from grading.classroom.batch import _write_feedback
    from grading.core.gradebook import Outcome
    from grading.reports.gradebook import write_csv
    from grading.core.catalog import Catalog, Exercise

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
    folder = Path({folder!r})
    failed = []
    try:
        _write_feedback(folder, Outcome("alice", "graded", {{"notes": "x" * 5000}}, "alice.zip"))
    except OSError:
        failed.append("feedback")
    catalog = Catalog([Exercise(f"ex{{n:02d}}_{{'x' * 80}}", "f", "t", "", "", "p", 1) for n in range(1, 40)])
    try:
        write_csv([Outcome("alice", "error: not graded", None, "alice.zip")], catalog, folder / "grades.csv")
    except OSError:
        failed.append("csv")
    print(json.dumps(failed))
""")


def test_a_write_that_fails_half_way_leaves_the_previous_file_as_it_was(tmp_path):
    before_feedback = json.dumps({"submission": "alice", "status": "graded earlier"})
    (tmp_path / "alice.json").write_text(before_feedback, encoding="utf-8")
    (tmp_path / "grades.csv").write_text("submission\nearlier\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", FAILING_WRITES.format(root=str(ROOT), folder=str(tmp_path))],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["feedback", "csv"], "the writes were meant to fail"
    assert (tmp_path / "alice.json").read_text(encoding="utf-8") == before_feedback
    assert (tmp_path / "grades.csv").read_text(encoding="utf-8") == "submission\nearlier\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.json", "grades.csv"], "a temporary was left"
