"""Paths as a learner reads them, and files read safely: a FIFO or a device named like an
exercise is refused, never read."""

from __future__ import annotations

import os
import stat
from pathlib import Path


# the folder paths are shown relative to: the grader's working folder, kept here because the
# learner's code runs in a throwaway working folder of its own (see `grading.engine.plugin`)
DISPLAY_BASE: list[Path] = []


def display_path(path: Path | str) -> str:
    """A path as the learner would type it: relative to the working folder when inside it."""
    path = Path(path)
    try:
        base = DISPLAY_BASE[0] if DISPLAY_BASE else Path.cwd()
        return str(path.resolve().relative_to(base.resolve()))
    except (ValueError, OSError):
        return str(path)


def exercise_file(target: Path, exercise_id: str) -> Path:
    if target.is_file():
        return target
    return target / f"{exercise_id}.py"


class NotAFile(OSError):
    """A learner's file that is not a regular file: a FIFO, a device, a socket or a folder."""


def special_kind(mode: int) -> str | None:
    """What a file of this `st_mode` is, in words, where it is not a regular file or a folder."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (a named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device (such as a link to /dev/zero)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "not a regular file"
    return None


def read_regular(path: Path | str) -> bytes:
    """The bytes of `path`, a regular file (or a link to one). Anything else named like an exercise
    or a notebook is refused at once (`NotAFile`), never read: a FIFO would wait for a writer for
    ever, and /dev/zero never ends."""
    kind = special_kind(os.stat(path).st_mode) or ("a folder" if os.path.isdir(path) else None)
    if kind is None:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with open(fd, "rb") as fh:  # swapped for something else since the look above: looked at again
            mode = os.fstat(fh.fileno()).st_mode
            kind = special_kind(mode) or ("a folder" if stat.S_ISDIR(mode) else None)
            if kind is None:
                return fh.read()
    raise NotAFile(f"it is {kind}, not a file")
