"""Processes: nothing a learner's code starts outlives the work it was started for.

A learner's code may start processes and leave them running: a `multiprocessing.Process` never
joined, a forked sleeper, one that called `os.setsid()` to leave its process group. Such a
process could hold the grader's pipes open (the grader would wait for it), write files after
the grader has finished, or use the machine's cores while other submissions are graded.

Where Linux allows it, a grading process makes itself a *child subreaper*
(`prctl(PR_SET_CHILD_SUBREAPER)`): every process started below it whose parent ends is handed to
it instead of to init, also after `setsid()`. `kill_descendants()` then kills its children that
are not its own workers, and repeats with what their deaths hand over, until none is left.
Elsewhere (macOS, Windows) a process group is killed where there are groups, and the rest is
left to the operating system.
"""

from __future__ import annotations

import os
import signal
import stat
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        return False


def become_subreaper() -> bool:
    """Orphans of every process below this one come to this one. True where that holds."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def stop_being_subreaper() -> None:
    _prctl(PR_SET_CHILD_SUBREAPER, 0)


def hide_from_siblings() -> None:
    """Other processes of the same user (a learner's code) can no longer open this process's
    files through /proc/PID/fd: its pipes to the grader stay its own."""
    _prctl(PR_SET_DUMPABLE, 0)


def children(pid: int | None = None) -> set[int]:
    """The processes whose parent is `pid` (default: this process), on Linux; empty elsewhere."""
    pid = os.getpid() if pid is None else pid
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                found.update(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            return _children_by_scan(pid)
    return found


def _children_by_scan(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[1] == str(pid):
            found.add(int(entry))
    return found


def kill_tree(pid: int) -> None:
    """Kill `pid` and its process group (a worker and whatever it started that stayed in it)."""
    for kill in (getattr(os, "killpg", None), os.kill):
        if kill is None:
            continue
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass


def kill_descendants(keep: set[int] | frozenset[int] = frozenset(), limit: float = 2.0) -> int:
    """Kill and reap every child of this process but those in `keep`, then what their deaths
    handed to this one (a subreaper), until none is left or `limit` seconds have passed.
    Returns how many were killed."""
    deadline = time.monotonic() + limit
    killed = 0
    while time.monotonic() < deadline:
        strays = children() - set(keep)
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # reaped elsewhere, or not a child any more
                pass
    return killed


def close_inherited_channels(keep: int) -> None:
    """Close every pipe, socket and terminal this (just forked) process inherited beyond standard
    input, output and error, but `keep`: a learner's code run here must find no way to write to
    the grader's own pipes, its other workers' or its terminal. Files and other descriptors
    (which libraries hold) stay open."""
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:  # not Linux: nothing is closed (the grader's own pipes are closed by their users)
        return
    for fd in fds:
        if fd <= 2 or fd == keep:
            continue
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd):
                os.close(fd)
        except OSError:
            pass
