"""Watch mode: a save is re-graded (woken by the file system, or by polling where watchfiles is
missing), an editor's rename-on-save or double write is graded once, only the saved exercise is
graded, and a syntax error does not stop the watch."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from grading import ROOT
from grading.core.stubs import stub_for

from .conftest import CATALOG
from .support import EX, OTHER, make_target, solution

pytestmark = pytest.mark.usefixtures("private_state")


# ------------------------------------------------------------------ watch


def _read_until(proc, fragment: str, timeout: float = 60) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if fragment in line:
            return "".join(seen)
    raise AssertionError(f"{fragment!r} never appeared; output so far:\n{''.join(seen)}")


# the grader, with watchfiles made impossible to import: watch mode's fallback, polling
WITHOUT_WATCHFILES = ("import runpy, sys; sys.modules['watchfiles'] = None; sys.argv = ['grader.py', *sys.argv[1:]]; "
                      "runpy.run_path('grader.py', run_name='__main__')")


def _watch(target, method: str = "fork", events: bool = True) -> subprocess.Popen:
    env = dict(os.environ, KATA_START_METHOD=method, PYTHONUNBUFFERED="1", NO_COLOR="1")
    program = ["grader.py"] if events else ["-c", WITHOUT_WATCHFILES]
    return subprocess.Popen([sys.executable, *program, "watch", "--target", str(target)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop(proc) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        rest, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, rest
    assert "Stopped watching." in rest
    return rest


@pytest.mark.parametrize("method, events", [("fork", True), ("spawn", False)],
                         ids=["fork-file-system-events", "spawn-polling"])
def test_watch_regrades_on_save_and_survives_a_syntax_error(tmp_path, method, events):
    target = make_target(tmp_path, {ex.filename: stub_for(ex) for ex in CATALOG})
    proc = _watch(target, method, events)
    try:
        _read_until(proc, f"0/{len(CATALOG)} exercises")
        (target / EX.filename).write_text("def sgd_step(:\n")
        out = _read_until(proc, f"0/{len(CATALOG)} exercises")
        assert "SyntaxError" in out
        (target / EX.filename).write_text(solution(EX))
        out = _read_until(proc, f"1/{len(CATALOG)} exercises")
        assert "All checks pass" in out
        (target / EX.filename).unlink()
        out = _read_until(proc, f"0/{len(CATALOG)} exercises")
        assert "does not exist" in " ".join(out.split())  # however the terminal width wrapped it
        assert f"{EX.filename} deleted" in out
    finally:
        _stop(proc)


def test_a_rename_on_save_and_a_double_write_are_each_graded_once_and_alone(tmp_path):
    """The ways editors save, through the file system's events: a new version written beside the
    file and renamed over it; the file renamed away, written anew, the old one removed (both leave
    no file for a moment); the same content written twice; a touch that changes nothing. Each
    save is graded once (the touch not at all), and only the exercise saved is graded: a last
    save of another exercise closes the account."""
    files = {ex.filename: stub_for(ex) for ex in CATALOG}
    target = make_target(tmp_path, files)
    path, total = target / EX.filename, len(CATALOG)
    proc = _watch(target)
    seen = []
    try:
        seen.append(_read_until(proc, f"0/{total} exercises"))

        new = target / f".{EX.filename}.tmp"  # a new version beside it, renamed over it
        new.write_text(solution(EX), encoding="utf-8")
        os.replace(new, path)
        seen.append(_read_until(proc, f"1/{total} exercises"))

        backup = target / f"{EX.filename}~"  # the file renamed away, written anew, the old one removed
        os.replace(path, backup)
        path.write_text(files[EX.filename], encoding="utf-8")
        backup.unlink()
        seen.append(_read_until(proc, f"0/{total} exercises"))

        for _ in range(2):  # the same content written twice
            path.write_text(solution(EX), encoding="utf-8")
        seen.append(_read_until(proc, f"1/{total} exercises"))

        os.utime(path)  # a touch: nothing to grade
        time.sleep(0.5)
        (target / OTHER.filename).write_text(solution(OTHER), encoding="utf-8")
        seen.append(_read_until(proc, f"2/{total} exercises"))
    finally:
        _stop(proc)
    out = "".join(seen)
    graded = [m.group(1) for m in re.finditer(r"^\[\d\d:\d\d:\d\d\] (.+)$", out, re.MULTILINE)]
    assert graded == [f"{EX.filename} saved"] * 3 + [f"{OTHER.filename} saved"], out


def test_what_counts_as_a_change_is_the_content_of_the_exercise_files(tmp_path, monkeypatch):
    """`Files.changed()`, which decides what a wake-up grades: content, not events or dates; a file
    that vanishes and comes back within the grace period (a rename-on-save) is saved, not deleted."""
    import threading

    from grading.learner import watch

    target = make_target(tmp_path, {EX.filename: "x = 1\n", OTHER.filename: "y = 1\n"})
    files = watch.Files(target, CATALOG)
    path = target / EX.filename
    assert files.changed() == []
    os.utime(path, ns=(1, 1))
    assert files.changed() == [], "a touch changes nothing"
    path.write_text("x = 2\n")
    path.write_text("x = 2\n")
    assert [ex.id for ex in files.changed()] == [EX.id], "a double write is one change"
    assert files.changed() == []

    path.unlink()
    threading.Timer(0.05, lambda: path.write_text("x = 3\n")).start()
    assert [ex.id for ex in files.changed()] == [EX.id] and files.states[EX.id] is not None, \
        "a file back within the grace period is saved, not deleted"
    monkeypatch.setattr(watch, "RENAME_GRACE", 0.05)
    path.unlink()
    assert [ex.id for ex in files.changed()] == [EX.id] and files.states[EX.id] is None, "gone for good: deleted"


def test_without_watchfiles_the_folder_is_polled(tmp_path, monkeypatch):
    from grading.learner import watch

    assert watch.wake_ups(tmp_path, CATALOG, 0.1).native
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    assert not watch.wake_ups(tmp_path, CATALOG, 0.1).native


def test_watching_the_learners_own_exercises_keeps_the_mistakes_met(tmp_path, monkeypatch):
    """As a grade does: the known mistakes met while watching are kept in .kata/ (and only for the
    learner's own exercises: another folder watched leaves no record)."""
    import io

    from grading.learner import state
    from grading.core.catalog import load_catalog
    from grading.reports.style import Style
    from grading.learner.watch import watch

    wrong = (ROOT / "tests" / "corpus" / EX.id / "wrong_rebinding.py").read_text(encoding="utf-8")
    target = make_target(tmp_path, {EX.filename: wrong})
    catalog = load_catalog()

    def stop(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr("grading.learner.watch.wake_ups", stop)  # Ctrl-C once the first grade is shown
    for record in (False, True):
        assert watch(catalog, target, Style(color=False), out=io.StringIO(), record=record) == 0
        met = state.load().get("mistakes", {}).get(EX.id, {})
        assert ("ex03.rebinding" in met) is record
