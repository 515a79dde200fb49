"""What a grading process does to itself and below it: becoming a subreaper, killing what a
learner's code left running, closing inherited channels, warming up the imports its forks share.

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

import contextlib
import gc
import os
import signal
import stat
import sys
import time


PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4


_LIBC: list = []


def _prctl(option: int, value: int) -> bool:
    try:
        if not _LIBC:
            import ctypes

            _LIBC.append(ctypes.CDLL(None, use_errno=True))
        return _LIBC[0].prctl(option, value, 0, 0, 0) == 0
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


def close_inherited_channels(keep: set[int]) -> None:
    """Close every pipe, socket and terminal this (just forked) process inherited beyond standard
    input, output and error, but those in `keep`: a learner's code run here must find no way to
    write to the grader's own pipes, its other workers' or its terminal. Files and other
    descriptors (which libraries hold) stay open."""
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:  # not Linux: nothing is closed (the grader's own pipes are closed by their users)
        return
    for fd in fds:
        if fd <= 2 or fd in keep:
            continue
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd):
                os.close(fd)
        except OSError:
            pass


def describe_exit(code: int) -> str:
    """How a process with exit code `code` (negative: the signal) ended, in words."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def start_method() -> str:
    forced = os.environ.get("KATA_START_METHOD", "").strip().lower()
    if forced in ("fork", "spawn"):
        return forced
    if hasattr(os, "fork") and sys.platform.startswith("linux"):
        return "fork"
    return "spawn"


def warm_up(optimizer: bool = True) -> None:
    """Import what every child needs, once, in the parent (fork mode); with `optimizer`, also
    build one optimizer, whose lazy import of torch._dynamo (half a second) the checks of some
    exercises need.

    The imports create about a million objects, all of which live as long as the process.
    The cyclic garbage collector would walk them several times while they are being
    created (a third of a second spent finding nothing), so it waits until the imports are
    done; then they are frozen out of its reach, so that a collection in a forked child
    neither walks them nor writes to (and so copies) the memory pages they share with the
    parent."""
    with collector_paused():
        import numpy  # noqa: F401
        import pytest  # noqa: F401
        import torch  # noqa: F401

        if optimizer:
            warm_optimizers()
    gc.freeze()


def warm_optimizers() -> None:
    """Build one optimizer: the first one in a process imports torch._dynamo (half a second),
    which every process forked from this one then inherits."""
    import torch

    with collector_paused():
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


@contextlib.contextmanager
def collector_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
