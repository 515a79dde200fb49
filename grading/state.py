"""The learner's own state, in `.kata/state.json`, which git ignores: hint progress, and the known
mistakes met in each exercise (fixed once the exercise passes)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import ROOT


def state_dir() -> Path:
    return Path(os.environ.get("KATA_STATE_DIR", ROOT / ".kata"))


def _state_file() -> Path:
    return state_dir() / "state.json"


def load() -> dict:
    try:
        data = json.loads(_state_file().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save(data: dict) -> None:
    from .atomic import write_atomic

    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
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
