"""The learner's own state (hint progress), in `.kata/state.json`, which git ignores."""

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
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def hints_seen(exercise_id: str) -> int:
    return int(load().get("hints", {}).get(exercise_id, 0))


def set_hints_seen(exercise_id: str, count: int) -> None:
    data = load()
    data.setdefault("hints", {})[exercise_id] = count
    save(data)
