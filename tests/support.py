"""What the grader's own tests share: a learner's folder made from texts, and the texts."""

from __future__ import annotations

from pathlib import Path

from grading import SOLUTIONS_DIR

from .conftest import CATALOG

EX = CATALOG["ex03_sgd_step"]
OTHER = next(  # a second, complete exercise, graded beside EX
    ex for ex in CATALOG if ex.id != EX.id and ex.check_file.exists() and (SOLUTIONS_DIR / ex.filename).exists()
)


def make_target(tmp_path, files: dict[str, str]) -> Path:
    target = tmp_path / "target"
    target.mkdir(exist_ok=True)
    for name, text in files.items():
        (target / name).write_text(text, encoding="utf-8")
    return target


def solution(ex) -> str:
    return (SOLUTIONS_DIR / ex.filename).read_text(encoding="utf-8")


def with_function(ex, body: str) -> str:
    """A module defining the exercise's function with `body` (any signature)."""
    return f"import os, sys, time\n\ndef {ex.function}(*args, **kwargs):\n" + "".join(
        f"    {line}\n" for line in body.splitlines()
    )
