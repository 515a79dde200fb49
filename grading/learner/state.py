"""The learner's own state, in `.kata/state.json`, which git ignores: hint progress, and the known
mistakes met in each exercise (fixed once the exercise passes).

A state of another shape (not JSON, not an object, a hint count that is not a number, a folder
where the file should be), or a file where `.kata` or `.kata/backups` should be a folder, is
set aside (renamed beside itself, `state.json.set-aside-<time>`), with a message on standard
error saying where, and the command goes on with a fresh one: nothing is lost, nothing crashes."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from grading import ROOT


def state_dir() -> Path:
    return Path(os.environ.get("KATA_STATE_DIR", ROOT / ".kata"))


def _state_file() -> Path:
    return state_dir() / "state.json"


def set_aside(path: Path, why: str) -> None:
    """Rename `path` beside itself, never over anything, and say so on standard error."""
    from grading.core.paths import display_path

    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest, n = path.with_name(f"{path.name}.set-aside-{stamp}"), 1
    while dest.exists() or dest.is_symlink():
        n += 1
        dest = path.with_name(f"{path.name}.set-aside-{stamp}-{n}")
    try:
        path.rename(dest)
    except OSError as exc:
        print(f"note: {display_path(path)} {why}, and cannot be set aside ({exc.strerror}): it is left as it is",
              file=sys.stderr)
        return
    print(f"note: {display_path(path)} {why}: set aside as {display_path(dest)}; a fresh one is used",
          file=sys.stderr)


def folder(path: Path) -> Path:
    """The folder `path`, made where missing; a file in its way (or in the way of `.kata`) is set aside."""
    for place in (state_dir(), path):
        if (place.exists() or place.is_symlink()) and not place.is_dir():
            set_aside(place, "is a file, where a folder was expected")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _shape_problem(data) -> str | None:
    """What is wrong with the shape of a loaded state, or None."""
    if not isinstance(data, dict):
        return f"holds a JSON {type(data).__name__}, not an object"
    hints = data.get("hints", {})
    if not isinstance(hints, dict) or not all(type(v) is int and v >= 0 for v in hints.values()):
        return "has hint counts that are not whole numbers"
    if not isinstance(data.get("mistakes", {}), dict):
        return "has mistakes that are not an object"
    return None


def load() -> dict:
    """The state; {} where there is none, or where it had another shape (then set aside)."""
    path = _state_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        set_aside(path, "is a folder, not a file")
        return {}
    except OSError:  # unreadable (permissions, `.kata` a file): set aside when it is next written
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:  # not UTF-8 or not JSON
        set_aside(path, "is not valid JSON")
        return {}
    problem = _shape_problem(data)
    if problem is not None:
        set_aside(path, problem)
        return {}
    return data


def save(data: dict) -> None:
    from grading.core.atomic import write_atomic

    path = _state_file()
    folder(path.parent)
    if path.is_dir():
        set_aside(path, "is a folder, not a file")
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True))


def hints_seen(exercise_id: str) -> int:
    return int(load().get("hints", {}).get(exercise_id, 0))


def set_hints_seen(exercise_id: str, count: int) -> None:
    data = load()
    data.setdefault("hints", {})[exercise_id] = count
    save(data)


def _mistake_book(data: dict) -> dict:
    """{exercise id: {mistake id: {"title": str, "fixed": bool}}} from the state, whatever was on disk."""
    book = data.get("mistakes")
    if not isinstance(book, dict):
        book = data["mistakes"] = {}
    for exercise_id in list(book):
        entries = book[exercise_id]
        if not isinstance(entries, dict):
            book[exercise_id] = entries = {}
        for mistake_id in list(entries):
            entry = entries[mistake_id]
            if not isinstance(entry, dict) or not isinstance(entry.get("title"), str):
                del entries[mistake_id]
    return book


def record_mistakes(run) -> None:
    """Remember the known mistakes the failing checks of a run named, per exercise. An exercise that
    passes has fixed every mistake met in it; a mistake met again is no longer fixed."""
    data = load()
    book = _mistake_book(data)
    before = json.dumps(book, sort_keys=True)
    for exercise in run.exercises:
        entries = book.get(exercise.id, {})
        for check in exercise.checks:
            if check.mistake and not check.passed:
                entries[check.mistake] = {"title": check.mistake_title or check.mistake, "fixed": False}
        if exercise.passed:
            for entry in entries.values():
                entry["fixed"] = True
        if entries:
            book[exercise.id] = entries
    if json.dumps(book, sort_keys=True) != before:
        try:
            save(data)
        except OSError:  # a folder the learner cannot write to: grading goes on without the record
            pass


def fixed_mistakes() -> list[tuple[str, str, str]]:
    """The mistakes met and fixed so far: (exercise id, mistake id, title), by exercise and id."""
    book = _mistake_book(load())
    return [(exercise_id, mistake_id, entry["title"])
            for exercise_id in sorted(book)
            for mistake_id, entry in sorted(book[exercise_id].items())
            if entry.get("fixed") is True]
