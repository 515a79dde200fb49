#!/usr/bin/env python3
"""The autograd kata's grader. Run `python grader.py --help`."""

from grading.cli import main, run  # noqa: F401
from grading.learner.kernel import check  # noqa: F401  (`from grader import check` in notebooks)

if __name__ == "__main__":
    run()
