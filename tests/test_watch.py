"""Watch mode: a save is re-graded, and a syntax error does not stop the watch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from grading import ROOT
from grading.stubs import stub_for

from .conftest import CATALOG
from .support import EX, make_target, solution

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


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_watch_regrades_on_save_and_survives_a_syntax_error(tmp_path, method):
    target = make_target(tmp_path, {ex.filename: stub_for(ex) for ex in CATALOG})
    env = dict(os.environ, KATA_START_METHOD=method, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "grader.py", "watch", "--target", str(target)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    assert "Stopped watching." in rest


def test_watching_the_learners_own_exercises_keeps_the_mistakes_met(tmp_path, monkeypatch):
    """As a grade does: the known mistakes met while watching are kept in .kata/ (and only for the
    learner's own exercises: another folder watched leaves no record)."""
    import io

    from grading import state
    from grading.catalog import load_catalog
    from grading.style import Style
    from grading.watch import watch

    wrong = (ROOT / "tests" / "corpus" / EX.id / "wrong_rebinding.py").read_text(encoding="utf-8")
    target = make_target(tmp_path, {EX.filename: wrong})
    catalog = load_catalog()

    def stop(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr("grading.watch.wake_ups", stop)  # Ctrl-C once the first grade is shown
    for record in (False, True):
        assert watch(catalog, target, Style(color=False), out=io.StringIO(), record=record) == 0
        met = state.load().get("mistakes", {}).get(EX.id, {})
        assert ("ex03.rebinding" in met) is record
