"""Target selection, fresh loading of the learner's module, and isolation for every check.

    python -m pytest checks                       # the learner's exercises/
    python -m pytest checks --target solutions    # the reference solutions
    python -m pytest checks --target path/to/submission --seed 1234

Each check file `test_exNN_name.py` gets the function of `exNN_name.py` in the target
through the `learner` fixture, loaded afresh from its source for every check. A module
that cannot be loaded (missing, syntax error, exception at import, function missing)
fails that exercise's checks with its file and line, and nothing else.
"""

from __future__ import annotations

import random
import zlib

import numpy as np
import pytest
import torch

from checks import structures
from checks.instruments import only_real_objects
from grading import EXERCISES_DIR
from grading.core.catalog import load_catalog
from grading.engine.graph_capture import watch
from grading.engine.targets import TargetError, load_function, resolve_target, set_graded

_CATALOG = load_catalog()  # read once, when the checks are collected


def pytest_addoption(parser):
    group = parser.getgroup("kata", "autograd kata")
    group.addoption(
        "--target",
        default=None,
        help="folder of exNN_*.py modules (or one such file) to check; default: exercises/",
    )
    group.addoption(
        "--seed",
        type=int,
        default=0,
        help="base seed of the random inputs; every check derives its own from it (default 0)",
    )


def pytest_configure(config):
    try:
        config.kata_target = resolve_target(config.getoption("--target"), EXERCISES_DIR)
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    set_graded(config.kata_target)  # a learner's `import exercises.exNN_name` finds the target's file


def exercise_id_of(module) -> str:
    """`checks/test_ex03_sgd_step.py` checks `ex03_sgd_step`."""
    name = module.__name__.rsplit(".", 1)[-1]
    return name.removeprefix("test_")


@pytest.fixture
def learner(request):
    """The learner's function for this check file's exercise, loaded afresh from the target (and
    recorded, where the grader records this check's graph: `--graph`)."""
    if structures.is_preparing():  # the reference's side of the differential checks, before any learner's code
        return structures.not_called
    exercise = _CATALOG[exercise_id_of(request.module)]
    namespace = getattr(request.config, "kata_namespace", None)  # grading inside a Jupyter kernel
    if namespace is not None:
        fn = watch(namespace.function(exercise))
    else:
        fn = watch(load_function(request.config.kata_target, exercise.id, exercise.function))
    return only_real_objects(fn, exercise.function)  # what the checks inspect is what the code did


@pytest.fixture(autouse=True)
def _kata_isolation(request):
    """Every check starts from the same global torch state, with its own reproducible
    random stream, and leaves torch's modes as it found them: one broken exercise cannot
    poison the next. (The random generators need no restoring: every check seeds them.)"""
    grad_enabled = torch.is_grad_enabled()
    dtype = torch.get_default_dtype()
    anomaly = torch.is_anomaly_enabled()

    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    torch.set_anomaly_enabled(False)
    test_name = request.node.nodeid.split("::", 1)[-1]
    seed = zlib.crc32(f"{request.config.getoption('--seed')}:{exercise_id_of(request.module)}:{test_name}".encode())
    # the CPU generator only: inputs are drawn on the CPU (and moved where a check needs a device);
    # torch.manual_seed would also seed every accelerator backend, at a cost per check
    torch.default_generator.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield seed
    finally:
        torch.set_grad_enabled(grad_enabled)
        torch.set_default_dtype(dtype)
        torch.set_anomaly_enabled(anomaly)
