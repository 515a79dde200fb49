"""The grading child: runs pytest over some check files and streams events back.

Started by `grading.engine.runner` either by `fork()` from a parent that has already
imported torch (fast), or as a fresh interpreter (portable) that reads its request on
standard input and starts from the grader's copy of its own files (`grading.engine.frozen`), in
which case events go to the original standard output.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from grading.engine.process_tools import kill_descendants

if TYPE_CHECKING:
    from grading.engine.request import Request


def _silence_standard_streams() -> None:
    """The learner's prints must not reach the grader's terminal or the event stream."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    # and the Python-level streams, which a forked child inherits from whoever forked it
    sys.stdin, sys.stdout, sys.stderr = (sys.__stdin__ or sys.stdin, sys.__stdout__ or sys.stdout,
                                         sys.__stderr__ or sys.stderr)


def run(fd: int, request: "Request") -> None:
    """Run the checks of `request` and write one JSON line per event to the pipe `fd`."""
    sys.dont_write_bytecode = True  # never leave __pycache__ in a learner's folder
    from grading.engine.process_tools import collector_paused, warm_optimizers

    with collector_paused():  # already imported where this child was forked; a fresh interpreter imports them
        import pytest
        import torch

    from grading.core import paths
    from grading.engine.events import Channel, Done, ForkUnsafe
    from grading.engine.plugin import GradingPlugin
    from grading.engine.pytest_args import pytest_args
    from grading.engine.process_tools import become_subreaper, hide_from_siblings
    from grading.engine.signals import default_stop_signals

    # a learner's Ctrl-C aimed at this process (or its group) must not stop the grading: only the
    # grader's own Ctrl-C stops it, and the grader then kills this process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    default_stop_signals()  # SIGTERM or SIGHUP ends this process; the grader's own are the grader's
    become_subreaper()  # whatever a learner's code leaves running comes here, to be killed
    hide_from_siblings()  # a learner's process cannot open this one's pipe through /proc
    if request.display_base:
        paths.DISPLAY_BASE[:] = [Path(request.display_base)]
    channel = Channel(fd)
    fork = request.fork
    options = request.options
    from grading.engine import compiling

    compiling.ALLOWANCE[0] = options.compile_allowance  # for the exercise processes forked from here

    if fork and _cuda_unusable_after_fork(torch):
        channel.send(ForkUnsafe())  # the parent grades again with fresh interpreters
        return
    if request.optimizers and fork:
        try:  # paid here once, before the exercise processes fork, instead of in each that needs it
            warm_optimizers()
        except Exception:  # then each exercise process that builds one pays for it: slower, same verdicts
            pass

    torch.set_num_threads(1)  # one thread: safe after fork, and fits a small grading box
    _limit_memory(options.memory_mb)  # counted from what is held now

    plugin = GradingPlugin(channel.send, fork=fork, isolation=request.isolation, jobs=request.jobs,
                           timeout=float(options.timeout) if options.timeout else None,
                           channel=channel, scratch=request.scratch, targets=request.targets,
                           standby=request.standby_fd, graph=request.graph, sandbox=options.sandbox,
                           resident=request.resident)
    _watch_for_solutions(request.target, plugin)

    args = pytest_args(request.files, seed=request.seed, target=request.target, inifile=request.inifile)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        pytest.main(args, plugins=[plugin])
    finally:
        kill_descendants()  # nothing a learner's code started outlives this process
    if not request.resident:  # a resident one said it after each release, on that release's pipe
        channel.send(Done())


def _cuda_unusable_after_fork(torch) -> bool:
    """Whether the process that forked this one had initialized CUDA (a program that imported
    torch and asked for the GPU before it imported the grader): CUDA cannot be used after such a
    fork, so checks on a real GPU, and optimizers, which ask for it, would fail here."""
    try:
        return bool(torch.cuda._is_in_bad_fork())
    except Exception:  # a build without CUDA, or a PyTorch without the probe
        return False


AS_SLACK = 512 * 2**20  # address space reserved and not used: a thread's stack, its malloc arena


def _limit_memory(memory_mb) -> None:
    """Cap the child's data memory at what the grader already holds (torch, the checks) plus
    `memory_mb` for the learner's code: an allocation past it fails inside the learner's code.
    Counting from what is already held keeps the allowance the same on every machine, also
    where PyTorch's CUDA build holds much more than its CPU build."""
    if not memory_mb:
        return
    try:
        import resource

        from grading.engine.restore import address_space_in_use, data_in_use

        limit = data_in_use() + int(memory_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        # shared mappings are not data: the address space counts them, with room for what torch's
        # threads reserve (stacks, malloc arenas) and never uses
        room = address_space_in_use() + int(memory_mb) * 2**20 + AS_SLACK
        resource.setrlimit(resource.RLIMIT_AS, (room, room))
    except (ImportError, ValueError, OSError):  # Windows, or a platform without RLIMIT_DATA
        pass


def _watch_for_solutions(target: str, plugin) -> None:
    """Flag the exercise whose code reads a file of the reference solutions (opened by any path
    to it: a symbolic link, /proc/self/root/..., a hard link), runs a command that names one
    (`cat .../solutions/ex03_sgd_step.py`), or imports the kata's checks (which hold reference
    answers, their oracles)."""
    import builtins
    import importlib
    import shlex

    from grading import SOLUTIONS_DIR
    from grading.engine.targets import is_learner_file

    solutions = os.path.normcase(os.path.realpath(SOLUTIONS_DIR))
    try:
        files = {(st.st_dev, st.st_ino): entry.name for entry in os.scandir(solutions)
                 if entry.is_file() and (st := entry.stat())}
    except OSError:
        files = {}

    def grading_the_reference() -> bool:
        current = plugin.target_path or target
        return _inside(os.path.normcase(os.path.realpath(current)), solutions)

    def solution_file(name, cwd=None) -> str | None:
        """The solution file that `name` (a path) is, if it is one."""
        try:
            name = os.fsdecode(name)
            path = os.path.normcase(os.path.realpath(os.path.join(cwd or os.getcwd(), name)))
        except (TypeError, ValueError, OSError):
            return None
        if _inside(path, solutions):
            return path
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        found = files.get((st.st_dev, st.st_ino))
        return os.path.join(solutions, found) if found else None

    def words(value):
        if isinstance(value, (str, bytes, os.PathLike)):
            text = os.fsdecode(value)
            try:
                yield from shlex.split(text)
            except ValueError:
                yield from text.split()
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from words(item)

    def hook(event, args):
        if event == "object.__setattr__":
            if len(args) > 1 and args[1] in _FUNCTION_PARTS and _foreign_function(args[0]):
                raise RuntimeError(f"{args[1]} of the grader's or a library's function {args[0].__qualname__} "
                                   "cannot be replaced while grading")
            return
        if event == "sys.addaudithook":  # no other hook: one would outlive its exercise (none can be removed)
            raise RuntimeError("no audit hook can be added while grading")
        if event == "open":
            if args and isinstance(args[0], (str, bytes, os.PathLike)) and not grading_the_reference():
                found = solution_file(args[0])
                if found:
                    plugin.flag_solution_read(found)
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn") \
                and not grading_the_reference():
            cwd = args[2] if event == "subprocess.Popen" and len(args) > 2 and isinstance(args[2], (str, bytes)) else None
            for word in words(list(args[:2])):
                found = solution_file(word, cwd) if ("solutions" in word or os.sep in word) else None
                if found:
                    plugin.flag_solution_read(found, how="ran a command that reads")
                    return

    sys.addaudithook(hook)

    # an import of the kata's checks from a learner's module: their oracles are reference answers
    original_import, original_import_module = builtins.__import__, importlib.import_module

    def imports_checks(name, level, filename) -> None:
        if level == 0 and isinstance(name, str) and name.partition(".")[0] == "checks" \
                and isinstance(filename, str) and is_learner_file(filename):
            plugin.flag(f"the code of this exercise imports the kata's checks ({name}), which hold the "
                           "reference answers.")

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        imports_checks(name, level, (globals or {}).get("__file__"))
        return original_import(name, globals, locals, fromlist, level)

    def guarded_import_module(name, package=None):
        imports_checks(name, 0, sys._getframe(1).f_code.co_filename)
        return original_import_module(name, package)

    builtins.__import__ = guarded_import
    importlib.import_module = guarded_import_module

    # a call of the checks' own reference computations (`checks.instruments.oracle`) from the learner's code
    try:
        from checks.instruments import ORACLE_WATCHERS
    except ImportError:  # checks of another shape: nothing to watch
        return
    ORACLE_WATCHERS[:] = [lambda name: plugin.flag(
        f"the code of this exercise called the checks' reference computation {name}(), which computes the answer.")]


_FUNCTION_PARTS = ("__code__",)  # defaults are set after the fact by the standard library (namedtuple)


def _foreign_function(obj) -> bool:
    """Whether `obj` is a function that is not the learner's own: the checks', the engine's, a
    library's, defined in a file. Their code stays what it is while grading (a replaced `__code__`
    would outlive the exercise in a process that grades several)."""
    from grading.engine.targets import is_learner_file

    code = getattr(obj, "__code__", None) if callable(obj) else None
    filename = getattr(code, "co_filename", "")
    return isinstance(filename, str) and os.path.isabs(filename) and not is_learner_file(filename)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + os.sep)


def main(request: dict) -> None:
    """A fresh interpreter (started through `grading.engine.frozen.boot`), with its request as JSON:
    the events leave on standard output."""
    from grading.engine.request import Request

    fd = os.dup(1)
    _silence_standard_streams()
    try:
        run(fd, Request.from_json(request))
    finally:
        os._exit(0)

