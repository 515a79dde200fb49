"""The checks' reference computations (oracles), and the guard that sees the learner's code call one."""

from __future__ import annotations

import functools


ORACLE_WATCHERS: list = []  # called with the oracle's name when the learner's code calls one (grading.engine.child)


def oracle(fn):
    """Mark a check's reference computation (an oracle: what the right answer is, computed by the
    checks). The checks call it; the learner's code must not: a call whose caller is the learner's
    file (reached, say, through `sys._getframe().f_globals`) is reported to `ORACLE_WATCHERS`,
    which the grader sets to flag the exercise."""
    import sys

    from grading.engine.targets import is_learner_file

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        caller = sys._getframe(1).f_code.co_filename
        if ORACLE_WATCHERS and is_learner_file(caller):
            for watcher in ORACLE_WATCHERS:
                watcher(fn.__qualname__)
        return fn(*args, **kwargs)

    guarded.__kata_oracle__ = True
    return guarded
