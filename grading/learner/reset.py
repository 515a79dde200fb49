"""Learner commands that change or reveal files: reset (with a backup) and solution."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from grading import SOLUTIONS_DIR
from grading.core.catalog import Exercise
from grading.reports.formats import visible
from grading.learner import state
from grading.learner.state import state_dir
from grading.core.stubs import ResetRefused, pristine_stub  # noqa: F401  (reset's own words)
from grading.reports.style import Style
from grading.core.paths import display_path


def backup(path: Path, exercise: Exercise) -> Path:
    """Copy the learner's file to .kata/backups/<id>-<time>.py; never overwrite a backup."""
    folder = state.folder(state_dir() / "backups")  # a file in its way is set aside, not overwritten
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = folder / f"{exercise.id}-{stamp}.py"
    n = 1
    while dest.exists():
        n += 1
        dest = folder / f"{exercise.id}-{stamp}-{n}.py"
    shutil.copy2(path, dest)
    return dest


def reset(exercise: Exercise, folder: Path, style: Style, assume_yes: bool = False, ask=input) -> int:
    path = folder / exercise.filename
    stub = pristine_stub(exercise)
    shown = visible(display_path(path), keep="")
    if path.exists():
        current = path.read_text(encoding="utf-8", errors="replace")
        if current == stub:
            print(f"{shown} is already the original stub: nothing to reset.")
            return 0
        if not assume_yes and sys.stdin.isatty():
            answer = ask(f"Replace {shown} with the original stub? Your current file is kept as a backup. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing changed.")
                return 1
        saved = backup(path, exercise)
        path.write_text(stub, encoding="utf-8")
        print(f"{shown} is the original stub again.")
        kept = visible(display_path(saved), keep="")
        print(f"Your previous version is saved as {style(kept, 'bold')}.")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(stub, encoding="utf-8")
        print(f"{shown} was missing; the original stub is back.")
    return 0


def solution_text(exercise: Exercise) -> str | None:
    path = SOLUTIONS_DIR / exercise.filename
    return path.read_text(encoding="utf-8") if path.exists() else None
