"""The one pytest command line of a grading run: in a grading worker and in a notebook's kernel."""

from __future__ import annotations

import os

from grading import CHECKS_DIR

# a controlled set of plugins: no autoloaded third-party ones, none of the clean-up plugins whose gc
# passes over torch's heap cost most of a run, and none of those whose work the grading plugin does
# itself (time limit, warnings, output)
PLUGINS_OFF = ("cacheprovider", "unraisableexception", "threadexception", "logging", "warnings", "faulthandler")


def pytest_args(files, *, seed: int, target: str | None = None, inifile: str | None = None) -> list[str]:
    """pytest's arguments for the check files `files`: the learner's `target` (none where a plugin
    gives the learner's code), the seed, and pytest's settings from `inifile`. Third-party plugins
    are not autoloaded: the caller sets PYTEST_DISABLE_PLUGIN_AUTOLOAD."""
    args = [str(f) for f in files]
    if target is not None:
        args += ["--target", str(target)]
    args += [
        "--seed", str(seed),
        "--assert=plain",  # the learner's message exactly as the check wrote it
        "--continue-on-collection-errors",
        "--capture=no",  # the plugin keeps each check's output itself
        # only the checks' own conftest.py, never one left in the kata's folder; and the kata's
        # folder after the installed packages on sys.path (see grading/__init__.py)
        "--confcutdir", str(CHECKS_DIR),
        "--import-mode=append",
        "-q",
    ]
    for name in PLUGINS_OFF:
        args += ["-p", f"no:{name}"]
    args += ["-W", "ignore::pytest.PytestConfigWarning"]  # the `timeout` ini option, without pytest-timeout
    if inifile:
        args += ["-c", str(inifile), "--rootdir", os.path.dirname(str(inifile))]
    return args
