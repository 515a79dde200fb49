"""`python grader.py watch`: re-grade an exercise each time its file is saved.

The file system wakes the watcher: `watchfiles` (inotify on Linux, FSEvents on macOS,
ReadDirectoryChangesW on Windows; it polls by itself where none of them works). Where
`watchfiles` cannot be imported, the folder is looked at every `poll` seconds instead.

What a wake-up means is decided by the files themselves, not by the events: each exercise file's
content is compared with the content last graded, so that

- an editor that saves by writing a temporary file and renaming it over the exercise (several
  events, and for a moment no file at all) gives one re-grade;
- an editor that writes twice, or writes the same content again, gives one re-grade (or none,
  when nothing changed);
- only the exercises whose content changed are graded.

A deleted file is reported as deleted only when it has not come back within `RENAME_GRACE`.

Each save is graded by a child made ready beforehand (`grading.engine.runner.Standby`: pytest started,
the checks collected, the parent having imported torch, numpy and pytest once), and the verdict
is shown as soon as the process that graded it has ended. Half-written files, syntax errors,
deleted and renamed files are graded like anything else: they get a message, and watching goes on.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import time
from pathlib import Path

from grading.core.catalog import Catalog
from grading.core.config import WATCH_POLL
from grading.reports.text import detail, next_exercise
from grading.core.results import RunResult
from grading.reports.style import Style
from grading.core.paths import display_path

CLEAR = "\033[2J\033[H"
STEP_MS = 10  # the events of one save: gathered until none has come for this long
DEBOUNCE_MS = 200  # ... but for no longer than this
RESCAN_MS = 1000  # the files are compared at least this often, events or not
RENAME_GRACE = 0.25  # seconds a vanished exercise file has to come back before it counts as deleted


def file_state(path: Path) -> tuple | None:
    """What identifies a version of the file without reading it (None: there is no file)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def content(path: Path) -> bytes | None:
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None


class Files:
    """The exercise files of a folder, as last graded: which of them have changed since."""

    def __init__(self, folder: Path, catalog: Catalog):
        self.folder, self.catalog = folder, catalog
        self.states = {ex.id: file_state(folder / ex.filename) for ex in catalog}
        self.contents = {ex.id: content(folder / ex.filename) for ex in catalog}

    def changed(self) -> list:
        """The exercises whose content differs from what was last graded (a file that vanished
        gets RENAME_GRACE to come back); what is returned counts as graded from now on."""
        changed = []
        for ex in self.catalog:
            path = self.folder / ex.filename
            state = file_state(path)
            if state == self.states[ex.id]:
                continue
            if state is None and self.states[ex.id] is not None:
                state = _reappears(path)
            self.states[ex.id] = state
            now = content(path) if state is not None else None
            if now != self.contents[ex.id]:
                self.contents[ex.id] = now
                changed.append(ex)
        return changed


def _reappears(path: Path) -> tuple | None:
    """An editor that renames its new version over the file may leave no file for a moment."""
    deadline = time.monotonic() + RENAME_GRACE
    while time.monotonic() < deadline:
        time.sleep(0.01)
        state = file_state(path)
        if state is not None:
            return state
    return None


def wake_ups(folder: Path, catalog: Catalog, poll: float):
    """An endless iterator that returns whenever an exercise file may have changed: at each event
    about one (woken by the file system through watchfiles), and at least every RESCAN_MS;
    every `poll` seconds where watchfiles is not available. Its `native` attribute says which."""
    names = {ex.filename for ex in catalog}
    try:
        import watchfiles
    except ImportError:
        return _Polling(poll)

    def only_exercises(_change, path: str) -> bool:
        return os.path.basename(path) in names

    events = watchfiles.watch(folder, watch_filter=only_exercises, step=STEP_MS, debounce=DEBOUNCE_MS,
                              rust_timeout=RESCAN_MS, yield_on_timeout=True, recursive=False, raise_interrupt=True)
    return _Events(events, poll)  # the watch itself starts at the first wait


class _Polling:
    native = False

    def __init__(self, poll: float):
        self.poll = poll

    def __iter__(self):
        return self

    def __next__(self) -> None:
        time.sleep(self.poll)


class _Events:
    native = True

    def __init__(self, events, poll: float):
        self.events, self.poll, self.fallback = events, poll, None

    def __iter__(self):
        return self

    def __next__(self) -> None:
        if self.fallback is not None:
            return next(self.fallback)
        try:
            next(self.events)
        except KeyboardInterrupt:
            raise
        except Exception:  # noqa: BLE001 - the watch could not be set up (a limit, a file system without it)
            self.fallback, self.native = _Polling(self.poll), False


def progress_line(run: RunResult, style: Style) -> str:
    done = sum(e.passed for e in run.exercises)
    total = len(run.exercises)
    upcoming = next_exercise(run)
    tail = f"  next: {upcoming.id[:4]}" if upcoming else "  every exercise passes"
    return (f"{style.bar(done, total, width=20)} {done}/{total} exercises, "
            f"{run.score:g}/{run.max_score:g} points{tail}")


def watch(catalog: Catalog, folder: Path, style: Style, *, seed: int = 0, options=None,
          poll: float = WATCH_POLL, out=None, record: bool = False, **limits) -> int:
    """Grade every exercise, then re-grade each exercise whose file's content changes, as soon as
    the file system says so (see the module's docstring). `options` (`grading.core.options.Options`)
    and `limits` (timeout=..., as `grading.engine.runner.grade` takes them): the grading limits, resolved
    once for every grade of the session. With `record` (the learner's own
    exercises), the known mistakes met are kept, as a grade keeps them."""
    from grading.learner import state as kata_state
    from grading.engine.frozen import precompile
    from grading.engine.runner import Standby, current_sources, grade, run_options, warm_up

    out = out or sys.stdout
    interactive = out.isatty()
    options = dict(seed=seed, options=run_options(options, limits))

    def say(text: str = "") -> None:
        out.write(text + "\n")
        out.flush()

    warm_up()
    files = Files(folder, catalog)  # before grading: a save during the first grade is seen too
    run = grade(folder, list(catalog), **options)
    precompile(current_sources())  # every re-grade's processes find the checks compiled
    if record:
        kata_state.record_mistakes(run)
    results = {e.id: e for e in run.exercises}
    say(style(f"Watching {display_path(folder)} for changes. Save an exercise to re-grade it; Ctrl-C to stop.", "bold"))
    upcoming = next_exercise(run)
    if upcoming is not None:
        say(detail(upcoming, catalog[upcoming.id], str(folder), style))
    say(progress_line(run, style))

    def show(graded: RunResult, changed: list) -> None:
        for e in graded.exercises:
            results[e.id] = e
        now = RunResult(target=str(folder), seed=seed, exercises=[results[ex.id] for ex in catalog])
        if interactive:
            out.write(CLEAR)
        stamp = time.strftime("%H:%M:%S")
        for ex in changed:
            state = "deleted" if files.states[ex.id] is None else "saved"
            say(style(f"[{stamp}] {ex.filename} {state}", "dim"))
            say(detail(results[ex.id], ex, str(folder), style))
        say(progress_line(now, style))
        if now.all_passed:
            say(style("Every exercise passes. Well done!", "green", "bold"))

    standby = None
    try:
        standby = Standby(folder, list(catalog), **options)  # the next save is graded by it
        for _ in wake_ups(folder, catalog, poll):
            changed = files.changed()
            if not changed:
                continue
            shown = []

            def settled(_index, graded, changed=changed, shown=shown) -> None:
                show(graded, changed)  # the verdict, as soon as it is final
                shown.append(True)

            graded = standby.grade(changed, on_settled=settled)
            standby = Standby(folder, list(catalog), **options)
            if not shown:
                show(graded, changed)
            if record:
                kata_state.record_mistakes(graded)
    except KeyboardInterrupt as stop:  # Ctrl-C ends watching (exit 0); SIGTERM or SIGHUP, 128 + the signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while exiting is not an error
        say("\nStopped watching.")
        return getattr(stop, "exit_code", 0)
    finally:
        if standby is not None:
            standby.close()
