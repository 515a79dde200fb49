"""A learner's code may also send SIGINT to the grader: `ctrl_c_from_outside()` lets only a Ctrl-C
from the terminal, or from a process the grader did not start, stop it. SIGTERM and SIGHUP (a
`kill`, a closed terminal, a job scheduler's time limit), where `stop_on_signals()` is in force,
stop it the same way (`Stopped`): what was graded is written, the rest marked "not graded", no
process or temporary folder is left, and the command exits with 128 + the signal's number.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading


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
