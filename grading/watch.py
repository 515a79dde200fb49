"""`python grader.py watch`: re-grade an exercise each time its file is saved.

The parent imports torch, numpy and pytest once; each save is graded in a fresh child
(forked where possible), so a re-grade costs a fraction of a second and always sees
the newest code. Half-written files, syntax errors, deleted and renamed files are
graded like anything else: they get a message, and watching goes on.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from .catalog import Catalog
from .config import WATCH_POLL
from .report_text import detail, next_exercise
from .results import RunResult
from .style import Style
from .targets import display_path

CLEAR = "\033[2J\033[H"


def _signatures(folder: Path, catalog: Catalog) -> dict[str, tuple | None]:
    sigs = {}
    for ex in catalog:
        try:
            st = os.stat(folder / ex.filename)
            sigs[ex.id] = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            sigs[ex.id] = None
    return sigs


def progress_line(run: RunResult, style: Style) -> str:
    done = sum(e.passed for e in run.exercises)
    total = len(run.exercises)
    upcoming = next_exercise(run)
    tail = f"  next: {upcoming.id[:4]}" if upcoming else "  every exercise passes"
    return (f"{style.bar(done, total, width=20)} {done}/{total} exercises, "
            f"{run.score:g}/{run.max_score:g} points{tail}")


def watch(catalog: Catalog, folder: Path, style: Style, *, seed: int = 0, timeout: float = 10.0,
          memory_mb: int | None = None, poll: float = WATCH_POLL, out=None, record: bool = False,
          **limits) -> int:
    """Grade every exercise, then look at the exercise files every `poll` seconds (a save is
    re-graded at the next look; in between, the loop costs a fraction of a percent of a core).
    `limits`: exercise_timeout and submission_timeout, as `grading.runner.grade` takes them. With
    `record` (the learner's own exercises), the known mistakes met are kept, as a grade keeps them."""
    from . import state as kata_state
    from .frozen import precompile
    from .runner import current_sources, grade, warm_up

    out = out or sys.stdout
    interactive = out.isatty()

    def say(text: str = "") -> None:
        out.write(text + "\n")
        out.flush()

    warm_up()
    sigs = _signatures(folder, catalog)  # before grading: a save during the first grade is seen too
    run = grade(folder, list(catalog), seed=seed, timeout=timeout, memory_mb=memory_mb, **limits)
    precompile(current_sources())  # every re-grade's processes find the checks compiled
    if record:
        kata_state.record_mistakes(run)
    results = {e.id: e for e in run.exercises}
    say(style(f"Watching {display_path(folder)} for changes. Save an exercise to re-grade it; Ctrl-C to stop.", "bold"))
    upcoming = next_exercise(run)
    if upcoming is not None:
        say(detail(upcoming, catalog[upcoming.id], str(folder), style))
    say(progress_line(run, style))
    try:
        while True:
            time.sleep(poll)
            now = _signatures(folder, catalog)
            changed = [ex for ex in catalog if now[ex.id] != sigs[ex.id]]
            if not changed:
                continue
            sigs = now
            graded = grade(folder, changed, seed=seed, timeout=timeout, memory_mb=memory_mb, **limits)
            if record:
                kata_state.record_mistakes(graded)
            for e in graded.exercises:
                results[e.id] = e
            run = RunResult(target=str(folder), seed=seed, exercises=[results[ex.id] for ex in catalog])
            if interactive:
                out.write(CLEAR)
            stamp = time.strftime("%H:%M:%S")
            for ex in changed:
                state = "deleted" if now[ex.id] is None else "saved"
                say(style(f"[{stamp}] {ex.filename} {state}", "dim"))
                say(detail(results[ex.id], ex, str(folder), style))
            say(progress_line(run, style))
            if run.all_passed:
                say(style("Every exercise passes. Well done!", "green", "bold"))
    except KeyboardInterrupt as stop:  # Ctrl-C ends watching (exit 0); SIGTERM or SIGHUP, 128 + the signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while exiting is not an error
        say("\nStopped watching.")
        return getattr(stop, "exit_code", 0)
