"""The grading child: runs pytest over some check files and streams events back.

Started by `grading.runner` either by `fork()` from a parent that has already
imported torch (fast), or as a fresh interpreter, `python -m grading.child REQUEST`
(portable), in which case events go to the original standard output.
"""

from __future__ import annotations

import json
import os
import sys


def _silence_standard_streams() -> None:
    """The learner's prints must not reach the grader's terminal or the event stream."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    # and the Python-level streams, which a forked child inherits from whoever forked it
    sys.stdin, sys.stdout, sys.stderr = (sys.__stdin__ or sys.stdin, sys.__stdout__ or sys.stdout,
                                         sys.__stderr__ or sys.stderr)


def run(events, request: dict) -> None:
    """Run the checks of `request` and write one JSON line per event to `events`."""
    sys.dont_write_bytecode = True  # never leave __pycache__ in a learner's folder
    from .runner import _collector_paused, warm_optimizers

    with _collector_paused():  # already imported where this child was forked; a fresh interpreter imports them
        import pytest
        import torch

    from .plugin import Collector

    def emit(event: dict) -> None:
        events.write((json.dumps(event) + "\n").encode())
        events.flush()

    if request.get("isolation") in ("fork", "submission") and _cuda_unusable_after_fork(torch):
        emit({"event": "fork_unsafe"})  # the parent grades again with fresh interpreters
        return
    if request.get("optimizers") and request.get("isolation") in ("fork", "submission"):
        try:  # paid here once, before the exercise processes fork, instead of in each that needs it
            warm_optimizers()
        except Exception:  # then each exercise process that builds one pays for it: slower, same verdicts
            pass

    torch.set_num_threads(1)  # one thread: safe after fork, and fits a small grading box
    _limit_memory(request.get("memory_mb"))  # counted from what is held now

    collector = Collector(emit, isolation=request.get("isolation"), jobs=request.get("jobs"),
                          timeout=float(request["timeout"]) if request.get("timeout") else None)
    _watch_for_solutions(request["target"], collector)

    args = list(request["files"]) + [
        "--target", request["target"],
        "--seed", str(request["seed"]),
        "--assert=plain",  # the learner's message exactly as the check wrote it
        "--continue-on-collection-errors",
        "--capture=no",  # the plugin keeps each check's output itself
        "-q",
        # a controlled set of plugins: no autoloaded third-party ones, none of the clean-up
        # plugins whose gc passes over torch's heap cost most of a run, and none of those whose
        # work the plugin does itself (time limit, warnings, output)
        "-p", "no:cacheprovider",
        "-p", "no:unraisableexception",
        "-p", "no:threadexception",
        "-p", "no:logging",
        "-p", "no:warnings",
        "-p", "no:faulthandler",
        "-W", "ignore::pytest.PytestConfigWarning",  # the `timeout` ini option, without pytest-timeout
    ]
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if request.get("inifile"):
        args += ["-c", request["inifile"], "--rootdir", os.path.dirname(request["inifile"])]
    for key, value in request.get("env", {}).items():
        os.environ[key] = value
    try:
        code = pytest.main(args, plugins=[collector])
    except BaseException as exc:  # a learner's SystemExit escaping pytest, for example
        emit({"event": "abort", "message": f"{type(exc).__name__}: {exc}"})
        raise
    emit({"event": "done", "exit_code": int(code)})


def _cuda_unusable_after_fork(torch) -> bool:
    """Whether the process that forked this one had initialized CUDA (a program that imported
    torch and asked for the GPU before it imported the grader): CUDA cannot be used after such a
    fork, so checks on a real GPU, and optimizers, which ask for it, would fail here."""
    try:
        return bool(torch.cuda._is_in_bad_fork())
    except Exception:  # a build without CUDA, or a PyTorch without the probe
        return False


def _limit_memory(memory_mb) -> None:
    """Cap the child's data memory at what the grader already holds (torch, the checks) plus
    `memory_mb` for the learner's code: an allocation past it fails inside the learner's code.
    Counting from what is already held keeps the allowance the same on every machine, also
    where PyTorch's CUDA build holds much more than its CPU build."""
    if not memory_mb:
        return
    try:
        import resource

        from .restore import data_in_use

        limit = data_in_use() + int(memory_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ImportError, ValueError, OSError):  # Windows, or a platform without RLIMIT_DATA
        pass


def _watch_for_solutions(target: str, collector) -> None:
    """Flag the exercise whose code reads a file of the reference solutions."""
    from . import SOLUTIONS_DIR

    solutions = os.path.normcase(os.path.abspath(SOLUTIONS_DIR))

    def grading_the_reference() -> bool:
        current = collector.target_path or target
        return os.path.normcase(os.path.abspath(current)).startswith(solutions)

    def hook(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)) \
                and not grading_the_reference():
            try:
                path = os.path.normcase(os.path.abspath(os.fsdecode(args[0])))
            except (TypeError, ValueError):
                return
            if path.startswith(solutions + os.sep):
                collector.flag_solution_read(path)

    sys.addaudithook(hook)


def main() -> None:
    request = json.loads(sys.argv[1])
    request.setdefault("isolation", "restore")
    events = os.fdopen(os.dup(1), "wb")
    _silence_standard_streams()
    try:
        run(events, request)
    finally:
        events.close()
        os._exit(0)


if __name__ == "__main__":
    main()
