"""The autograd kata's grading engine.

`grader.py` is a thin command line over this package: the catalog (exercise order,
points, hints), the target loader the checks use, the runner (pytest in a child
process, with a plugin object streaming results back), the results model and the
reporters that turn one results model into every output format.
"""

import os
import sys
from pathlib import Path

# Asking whether CUDA is there (the checks do, to add a real GPU to the conversion checks, and
# so do optimizers) must not initialize CUDA: the grader forks a process per exercise after
# collecting the checks, and CUDA initialized before a fork cannot be used after it. With this
# set, PyTorch answers from NVML and each exercise's process initializes CUDA for itself.
os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")

ROOT = Path(__file__).resolve().parent.parent
EXERCISES_DIR = ROOT / "exercises"
SOLUTIONS_DIR = ROOT / "solutions"
CHECKS_DIR = ROOT / "checks"
CATALOG_PATH = EXERCISES_DIR / "catalog.toml"


def _kata_folder_last() -> None:
    """The kata's folder goes after the standard library and the installed packages on `sys.path`
    (`python grader.py` puts it first): a file a learner's code leaves there (`resource.py`, say)
    can then never stand in for a module the grader imports."""
    root = str(ROOT)
    here = []
    for entry in sys.path:
        try:
            if os.path.realpath(entry or os.curdir) == root:
                here.append(entry)
        except (TypeError, ValueError, OSError):
            pass
    if here:
        sys.path[:] = [entry for entry in sys.path if entry not in here] + here


_kata_folder_last()
