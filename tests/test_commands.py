"""The learner's commands: exit codes, exercise names, list, the JSON report, hints, reset, solution, and the README's learning path."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grading import ROOT, SOLUTIONS_DIR
from grading.cli import main
from grading.core.stubs import stub_for

from .conftest import CATALOG
from .support import EX, OTHER, make_target, solution

pytestmark = pytest.mark.usefixtures("private_state")


# ------------------------------------------------------------------ commands and exit codes


def test_all_solutions_pass_exit_0(capsys):
    assert main(["--target", str(SOLUTIONS_DIR), EX.short, OTHER.short]) == 0
    assert "All checks pass" in capsys.readouterr().out


def test_stubs_exit_1_and_name_the_next_exercise(tmp_path, capsys):
    target = make_target(tmp_path, {ex.filename: stub_for(ex) for ex in CATALOG})
    assert main(["--target", str(target)]) == 1
    out = capsys.readouterr().out
    first = next(iter(CATALOG))
    assert f"0/{len(CATALOG)} exercises" in out
    assert f"Next: {first.short}" in out
    assert f"python grader.py hint {first.short}" in out


@pytest.mark.parametrize("name", ["ex03", "3", "03", "sgd_step", "ex03_sgd_step"])
def test_an_exercise_is_found_by_any_of_its_names(name):
    assert CATALOG.resolve(name) is EX


@pytest.mark.parametrize("argv,fragment", [
    (["ex99"], "no exercise called 'ex99'"),
    (["--target", "/no/such/folder"], "does not exist"),
    (["hint"], "needs exactly one exercise"),
    (["--format", "xml"], "invalid choice"),
    (["--timeout", "0", "ex03"], "positive"),
])
def test_usage_errors_exit_2_with_one_line(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert len(err.strip().splitlines()) == 1


def test_list_shows_every_exercise_in_order(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    positions = [out.index(ex.title) for ex in CATALOG]
    assert positions == sorted(positions)


def test_command_line_runs_as_a_script(tmp_path):
    """The real entry point, in a fresh interpreter: exit code and output."""
    target = make_target(tmp_path, {EX.filename: stub_for(EX)})
    proc = subprocess.run([sys.executable, "grader.py", EX.short, "--target", str(target)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "not started" in proc.stdout.lower()


# ------------------------------------------------------------------ JSON


def test_json_shape(tmp_path, capsys):
    target = make_target(tmp_path, {EX.filename: solution(EX), OTHER.filename: stub_for(OTHER)})
    out_file = tmp_path / "grades.json"
    assert main(["--target", str(target), "--format", "json", "--output", str(out_file), EX.short, OTHER.short]) == 1
    data = json.loads(out_file.read_text())
    assert isinstance(data["score"], float) and isinstance(data["max_score"], float)
    assert data["score"] == EX.points and data["max_score"] == EX.points + OTHER.points
    by_id = {e["id"]: e for e in data["exercises"]}
    assert by_id[EX.id]["status"] == "passed" and by_id[OTHER.id]["status"] == "not_started"
    for e in data["exercises"]:
        assert set(e) >= {"id", "status", "score", "max_score", "checks"}
        assert e["status"] in ("passed", "failed", "not_started", "error")
        for c in e["checks"]:
            assert set(c) >= {"name", "status", "message"}
            assert c["status"] in ("passed", "failed", "error", "timeout", "crashed")
    assert capsys.readouterr().out == ""




# ------------------------------------------------------------------ hints, reset, solution


def test_hints_advance_one_at_a_time(capsys):
    hints = EX.hints
    for shown in range(1, len(hints) + 2):
        assert main(["hint", EX.short]) == 0
        out = capsys.readouterr().out
        visible = min(shown, len(hints))
        assert f"Hint {visible} of {len(hints)}" in out
        assert f"Hint {visible + 1} of" not in out
    assert main(["hint", EX.short, "--all"]) == 0
    assert all(f"Hint {i} of" in capsys.readouterr().out for i in [len(hints)])


def test_reset_keeps_a_backup_of_the_learners_text(tmp_path, capsys):
    mine = "# my attempt, do not lose me\n" + stub_for(EX)
    target = make_target(tmp_path, {EX.filename: mine})
    assert main(["reset", EX.short, "--target", str(target), "--yes"]) == 0
    assert (target / EX.filename).read_text() == stub_for(EX)
    backups = list((tmp_path / "state" / "backups").glob(f"{EX.id}-*.py"))
    assert len(backups) == 1 and backups[0].read_text() == mine
    assert str(backups[0].name) in capsys.readouterr().out
    # a second reset of a second attempt keeps both backups
    (target / EX.filename).write_text(mine + "# second\n")
    assert main(["reset", EX.short, "--target", str(target), "--yes"]) == 0
    assert len(list((tmp_path / "state" / "backups").glob(f"{EX.id}-*.py"))) == 2


def test_reset_of_an_untouched_stub_changes_nothing(tmp_path, capsys):
    target = make_target(tmp_path, {EX.filename: stub_for(EX)})
    assert main(["reset", EX.short, "--target", str(target), "--yes"]) == 0
    assert "nothing to reset" in capsys.readouterr().out
    assert not (tmp_path / "state" / "backups").exists()


def test_solution_is_refused_before_success_and_shown_after(tmp_path, capsys):
    target = make_target(tmp_path, {EX.filename: stub_for(EX)})
    assert main(["solution", EX.short, "--target", str(target)]) == 1
    out = capsys.readouterr().out
    assert "shown once your version passes" in out and "p -= lr" not in out
    (target / EX.filename).write_text(solution(EX))
    assert main(["solution", EX.short, "--target", str(target)]) == 0
    assert solution(EX).strip() in capsys.readouterr().out




def test_readme_learning_path_matches_the_catalog():
    from grading.dev.readme import main as readme_main

    assert readme_main(["--check"]) == 0, "run `python -m grading.dev.readme`"


def test_hint_progress_is_saved_whatever_is_planted_beside_it(tmp_path, monkeypatch, capsys):
    """.kata/state.json is written whole through a unique temporary: a folder where a fixed
    temporary name would go does not stop a hint from being counted."""
    state = tmp_path / "planted"
    (state / "state.json.tmp").mkdir(parents=True)
    (state / "state.tmp").mkdir()
    monkeypatch.setenv("KATA_STATE_DIR", str(state))
    assert main(["hint", EX.short]) == 0
    assert main(["hint", EX.short]) == 0
    assert f"Hint 2 of {len(EX.hints)}" in capsys.readouterr().out
