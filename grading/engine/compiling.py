"""Compiling is the grader's cost, not the learner's: the time torch.compile spends compiling
(importing Dynamo and Inductor, Dynamo's tracing, AOTAutograd, Inductor's code generation and
its C++ compiler, on a cold cache: every grading process has a cache folder of its own, in its
working folder, empty at first) is not charged to the time limits, up to an allowance per exercise
(`allowance()`: the run's `compile_allowance` option, 120 s unless the command line, the
environment or pyproject.toml says otherwise).

In the process that runs the learner's code, while Dynamo compiles in the main thread (its
compile callbacks, `torch._dynamo.callback_handler`, registered as soon as it is imported) or
`torch._dynamo` or `torch._inductor` are being imported, the running check's alarm is paused,
and `Compiling` and `Compiled` (`grading.engine.events`) tell the lane, so that its limits (per check,
per exercise, per submission: `grading.engine.lane`) stop counting too.

A learner's code can pretend to compile (call the callbacks itself, forge the events, or compile
a function whose backend never returns): the allowance bounds what that gains. In the process,
compiling past what is left of the allowance ends the check as out of time; in the lane,
which is out of the learner's reach, the events buy at most the allowance per exercise
however many are sent, and a process that still runs after its limit plus that is stopped.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import signal
import sys
import threading
import time

from grading.core.config import DEFAULTS
from grading.engine.events import Compiled, Compiling


# seconds of compiling per exercise that no time limit charges: the run's `compile_allowance`
# option, set by the worker from its request before any exercise process forks
ALLOWANCE = [float(DEFAULTS["compile_allowance"])]


def allowance() -> float:
    """Seconds of compiling per exercise that no time limit charges."""
    return ALLOWANCE[0]


class _Watch:
    """The check running in this process, and the compilation going on in it (one instance, whose
    attributes change: what `grading.engine.restore` puts back is the module's attributes)."""

    def __init__(self):
        self.exercise = self.check = self.emit = None
        self.used: dict[str, float] = {}  # exercise -> seconds of compilation not charged
        self.since: float | None = None  # when the compilation going on now began
        self.allowance = self.left = 0.0  # the allowance, and what was left of it when it began
        self.alarm = 0.0  # what was left of the check's alarm then (0: none was set)
        self.handler = None  # the check's SIGALRM handler, while the allowance's holds


_WATCH = _Watch()


def _compiling(_args=None) -> bool:
    """Compiling begins: the check's clock stops. False where it was stopped already, or stays running."""
    w = _WATCH
    if w.exercise is None or w.since is not None or threading.current_thread() is not threading.main_thread():
        return False
    total = allowance()
    left = total - w.used.get(w.exercise, 0.0)
    if left <= 0:  # the allowance is spent: compiling now counts as any other work
        return False
    w.since, w.allowance, w.left, w.alarm = time.monotonic(), total, left, 0.0
    if hasattr(signal, "setitimer"):
        remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        if remaining > 0:  # the check's time limit: paused, and the allowance's alarm instead
            w.alarm = remaining
            w.handler = signal.signal(signal.SIGALRM, _out_of_allowance)
            signal.setitimer(signal.ITIMER_REAL, left)
    w.emit(Compiling(w.exercise, w.check))
    return True


def _compiled(_args=None, *, check_over: bool = False) -> None:
    w = _WATCH
    if w.since is None or threading.current_thread() is not threading.main_thread():
        return
    w.used[w.exercise] = w.used.get(w.exercise, 0.0) + min(time.monotonic() - w.since, w.left)
    w.since = None
    if w.alarm > 0:
        if check_over:  # the check's own time limit ends now: it only needs its handler back
            signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, w.handler)
        if not check_over:
            signal.setitimer(signal.ITIMER_REAL, w.alarm)  # the check's clock runs on from where it stopped
        w.handler, w.alarm = None, 0.0
    w.emit(Compiled(w.exercise, w.check))


def _out_of_allowance(signum, frame):
    from grading.engine.outcomes import CheckTimeout  # (the grader's own process needs none of it)

    timeout = CheckTimeout(_WATCH.allowance)
    timeout.msg = (f"torch.compile was compiling for more than {_WATCH.allowance:g} s during this exercise, the most "
                   "compiling the grader allows on top of the time limits")
    raise timeout


class _WhenImported(importlib.abc.MetaPathFinder):
    """Imports of Dynamo and Inductor are compiling's too (`torch.compile` imports them, seconds of
    work that the grader does not import up front: most exercises never need them); and Dynamo's
    callback module gets the callbacks as soon as it is imported."""

    PACKAGES = ("torch._dynamo", "torch._inductor")
    CALLBACKS = "torch._dynamo.callback"

    def find_spec(self, name, path=None, target=None):
        if not any(name == p or name.startswith(p + ".") for p in self.PACKAGES):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is None:
                continue
            if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _Timed(spec.loader)
            return spec
        return None


class _Timed:
    """A loader whose module's import is compiling's time; everything else is the loader's own."""

    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):  # get_source, get_resource_reader, ...: the loader's
        if name == "loader":
            raise AttributeError(name)
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        began = _compiling()  # (not when this import is part of a compilation or of another such import)
        try:
            self.loader.exec_module(module)
        finally:
            if began:
                _compiled()
        if module.__name__ == _WhenImported.CALLBACKS:
            _register(module.callback_handler)


_FINDER = _WhenImported()


def _register(handler) -> None:
    if _compiling not in handler.start_callbacks:
        handler.register_start_callback(_compiling)
    if _compiled not in handler.end_callbacks:
        handler.register_end_callback(_compiled)


def _install() -> None:
    """The callbacks registered where Dynamo is imported (again on every check: a learner's code
    may have removed them, which would cost only its own time), and the finder in place."""
    module = sys.modules.get(_WhenImported.CALLBACKS)
    handler = getattr(module, "callback_handler", None)
    if handler is not None and hasattr(handler, "start_callbacks"):
        _register(handler)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


@contextlib.contextmanager
def uncharged(exercise: str, check: str, emit):
    """Around a check's time limit: while Dynamo compiles, the check's clock stops (up to what is
    left of the exercise's allowance), and `emit` tells the lane."""
    _install()
    w = _WATCH
    w.exercise, w.check, w.emit, w.since = exercise, check, emit, None
    try:
        yield
    finally:
        _compiled(check_over=True)  # a compilation the check's code began and never ended
        w.exercise = w.check = w.emit = None
