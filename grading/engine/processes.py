"""The grading processes: how they start, and how nothing a learner's code starts outlives them.

Workers (a lane's child) are made by `fork()` where that is available and safe: the grader has
already imported torch, numpy and pytest (`warm_up`), so each costs a fraction of a second.
Elsewhere (Windows, macOS, or `KATA_START_METHOD=spawn`) each is a fresh interpreter that starts
from the grader's copy of its own files (`grading.engine.frozen`): slower, same verdicts.

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

A learner's code may also send SIGINT to the grader: `ctrl_c_from_outside()` lets only a Ctrl-C
from the terminal, or from a process the grader did not start, stop it. SIGTERM and SIGHUP (a
`kill`, a closed terminal, a job scheduler's time limit), where `stop_on_signals()` is in force,
stop it the same way (`Stopped`): what was graded is written, the rest marked "not graded", no
process or temporary folder is left, and the command exits with 128 + the signal's number.
"""


from __future__ import annotations

import contextlib
import gc
import json
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from grading import ROOT
from grading.engine.events import Lines, parse
from grading.engine.frozen import Sources

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


@dataclass
class Worker:
    """A lane's child process, forked (`pid`) or a fresh interpreter (`popen`); its events arrive
    on `events`, read by `reader`."""

    events: "queue.Queue[dict | None]"
    pid: int | None = None
    popen: subprocess.Popen | None = None
    reader: threading.Thread | None = None
    stream: object = None  # where its events come from
    go: int | None = None  # a worker on standby: the pipe on which it is told what to grade

    def read_into(self, events: "queue.Queue", tag) -> None:
        """Its events go to `events` as (tag, event), read by a thread the caller starts."""
        self.events = events
        self.reader = threading.Thread(target=read_events, args=(self.stream, events, tag), daemon=True)

    def release(self, jobs: list) -> None:
        """A worker on standby: grade `jobs` ([[target index, target, [exercise ids]], ...]) now.
        One that has died meanwhile is not told: its stream has ended, and its lane starts another."""
        data = json.dumps({"jobs": jobs}).encode()
        try:
            while data:
                data = data[os.write(self.go, data):]
        except OSError:
            pass
        finally:
            os.close(self.go)
            self.go = None

    @property
    def process_id(self) -> int:
        return self.popen.pid if self.popen is not None else self.pid

    def kill(self) -> None:
        """Kill the child and whatever it started (its own process group, where there are groups;
        what left the group comes to the grader, a subreaper, and is killed there)."""
        if self.popen is not None and not hasattr(os, "killpg"):
            with contextlib.suppress(OSError):
                self.popen.kill()
            return
        kill_tree(self.process_id)

    def wait(self) -> str:
        """Reap the child; describe how it ended."""
        if self.popen is not None:
            code = self.popen.wait()
        else:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        return describe_exit(code)


def read_events(stream, events: "queue.Queue", tag) -> None:
    """Put every well-formed event of one child on `events` as (tag, event), then (tag, None) at
    its end. A line that is not an event (see `grading.engine.events`) is dropped."""
    lines = Lines()
    with stream:
        while True:
            data = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not data:
                break
            for line in lines.feed(data):
                event = parse(line)
                if event is not None:
                    events.put((tag, event))
    events.put((tag, None))


def bootstrap(sources: Sources) -> str:
    """What a fresh grading interpreter runs: `grading.engine.frozen` from the grader's copy, then `boot()`."""
    return sources.texts["grading/engine/frozen.py"] + "\nboot()\n"


def start_worker(request: dict, method: str, events: "queue.Queue | None" = None, tag=None,
                 read: bool = True, *, sources: Sources, standby: bool = False) -> Worker:
    """Start a lane's child for `request`, importing the kata's files from `sources`; its events
    arrive on `events` (a new queue if None) as (tag, event). With read=False the thread that reads
    them is left for the caller to start. With `standby`, the child starts pytest and collects
    the checks, then waits until `Worker.release()` tells it which of the request's exercises to
    grade (not on Windows, where a fresh interpreter cannot be handed the pipe)."""
    events = queue.Queue() if events is None else events
    go_read = go_write = None
    if standby:
        go_read, go_write = os.pipe()
        request = {**request, "standby_fd": go_read}
    if method == "fork":
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the parent's code
            try:
                os.setpgid(0, 0)  # its own group: a timeout kills the exercise processes it forks too
                os.close(read_fd)
                if go_write is not None:
                    os.close(go_write)
                # the grader's own pipes and terminal are not the learner's
                close_inherited_channels(keep={write_fd, go_read})
                from grading.engine import child, frozen

                frozen.install(sources)  # the checks and catalog from the copy read when grading began
                child._silence_standard_streams()
                child.run(write_fd, request)
            finally:
                os._exit(0)
        os.close(write_fd)
        handle = Worker(events, pid=pid)
        stream = os.fdopen(read_fd, "rb")
    else:
        popen = subprocess.Popen(
            [sys.executable, "-c", bootstrap(sources)],
            cwd=str(ROOT),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=hasattr(os, "killpg"),
            pass_fds=() if go_read is None else (go_read,),
        )
        try:
            popen.stdin.write(json.dumps({**request, "sources": {"root": sources.root, "texts": sources.texts}}).encode())
            popen.stdin.close()
        except OSError:  # it died at once: its stream ends, and the lane says so
            pass
        handle = Worker(events, popen=popen)
        stream = popen.stdout
    if go_read is not None:
        os.close(go_read)
    handle.stream, handle.go = stream, go_write
    handle.read_into(events, tag)
    if read:
        handle.reader.start()
    return handle


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP told the grader to stop. Handled as a Ctrl-C is (it is one, to every
    `except KeyboardInterrupt`), but the command exits with 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise_stopped(signum, frame):
    raise Stopped(signum)


def _stopping(sig: int) -> bool:
    """Whether `sig` stops the grader through `Stopped` now (see `stop_on_signals`)."""
    return signal.getsignal(sig) is _raise_stopped


def stopped_how(exc: BaseException) -> str:
    """How grading was stopped, for a "not graded" note: "by SIGTERM", or "" for a Ctrl-C."""
    return f"by {exc.name}" if isinstance(exc, Stopped) else ""


@contextlib.contextmanager
def stop_on_signals():
    """While in force (in the main thread), SIGTERM and SIGHUP raise `Stopped`; a signal that was
    ignored when the grader started (`nohup`) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) != signal.SIG_IGN:
            previous[sig] = signal.signal(sig, _raise_stopped)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def signals_held():
    """A Ctrl-C, SIGTERM or SIGHUP that comes during the block waits for its end (then acts as
    usual): the gradebook or report being written is written first."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, *STOP_SIGNALS})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def default_stop_signals() -> None:
    """A grading child: SIGTERM and SIGHUP end it, as they end any process (its parent, not the
    signal, decides what its death costs)."""
    for sig in STOP_SIGNALS:
        if _stopping(sig):
            signal.signal(sig, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))


@contextlib.contextmanager
def ctrl_c_from_outside():
    """Ctrl-C stops grading only when it comes from outside: the terminal, or a process that is
    not one the grader started. A learner's code that sends SIGINT to the grader (its parent's
    parent) is ignored. Yields a function to call regularly: it raises KeyboardInterrupt for a
    Ctrl-C from outside, and `Stopped` for SIGTERM or SIGHUP from outside where `stop_on_signals`
    is in force. (Where signals cannot be examined this way, they work as usual.)"""
    usable = (threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
              and hasattr(signal, "sigtimedwait"))
    if not usable or signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []):
        yield lambda: None
        return
    watched = {signal.SIGINT} | {sig for sig in STOP_SIGNALS if _stopping(sig)}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, watched)

    def check() -> None:
        while True:
            info = signal.sigtimedwait(watched, 0)
            if info is None:
                return
            if not sent_from_below(info.si_pid):
                raise KeyboardInterrupt if info.si_signo == signal.SIGINT else Stopped(info.si_signo)

    try:
        yield check
        check()  # one that came at the very end still counts
    finally:
        with contextlib.suppress(KeyboardInterrupt):  # nothing left pending to arrive once unblocked
            check()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def sent_from_below(pid: int) -> bool:
    """Whether process `pid` (the sender of a signal) is one this process started, or one they
    started: a learner's code. A sender that has already ended is taken to be one (a terminal's
    Ctrl-C has no sending process, pid 0)."""
    if pid <= 0:
        return False
    me = os.getpid()
    for _ in range(64):
        if pid == me:
            return True
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return os.path.isdir("/proc/self")  # gone (where /proc can tell): a learner's that sent it and ended
        if pid <= 1:
            return False
    return False
