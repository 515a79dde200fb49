"""Grading limits, from the command line, the environment, or pyproject.toml, in that order.

    [tool.autograd-kata]
    timeout = 10        # seconds per check          (KATA_TIMEOUT,  --timeout)
    memory_mb = 1024    # MB of data memory for learner code (KATA_MEMORY_MB, --memory-mb)
    jobs = 2            # grading processes side by side (KATA_JOBS, --jobs)
    isolation = "auto"  # a process per "exercise", or per "submission"; auto: per exercise for one
                        # submission, per submission in batch (KATA_ISOLATION, --isolation)
    exercise_timeout = 60     # seconds for all the checks of one exercise (KATA_EXERCISE_TIMEOUT)
    submission_timeout = 600  # seconds for a whole submission (KATA_SUBMISSION_TIMEOUT)
    compile_allowance = 120   # seconds of torch.compile's compiling per exercise that no time limit
                              # counts (KATA_COMPILE_ALLOWANCE; see grading/engine/compiling.py)
    sandbox = "auto"    # confine learner code with the kernel's Landlock: "auto" where the kernel can,
                        # "require" (no grading without it), "off" (debugging) (KATA_SANDBOX, --sandbox)
"""

from __future__ import annotations

import functools
import os
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from grading import ROOT

DEFAULTS = {"timeout": 10.0, "memory_mb": 1024, "jobs": 2, "isolation": "auto",
            "exercise_timeout": 60.0, "submission_timeout": 600.0, "compile_allowance": 120.0, "sandbox": "auto"}
ENV = {"timeout": "KATA_TIMEOUT", "memory_mb": "KATA_MEMORY_MB", "jobs": "KATA_JOBS", "isolation": "KATA_ISOLATION",
       "exercise_timeout": "KATA_EXERCISE_TIMEOUT", "submission_timeout": "KATA_SUBMISSION_TIMEOUT",
       "compile_allowance": "KATA_COMPILE_ALLOWANCE", "sandbox": "KATA_SANDBOX"}
CAST = {"timeout": float, "memory_mb": int, "jobs": int, "isolation": str,
        "exercise_timeout": float, "submission_timeout": float, "compile_allowance": float, "sandbox": str}
CHOICES = {"isolation": ("auto", "exercise", "submission"), "sandbox": ("auto", "require", "off")}


class ConfigError(ValueError):
    pass


class UsageError(Exception):
    """Bad command line or input: one line on stderr, exit code 2."""


@functools.lru_cache(maxsize=1)
def _from_pyproject() -> dict:
    """[tool.autograd-kata] of pyproject.toml, read once per process."""
    try:
        data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return data.get("tool", {}).get("autograd-kata", {})


def setting(name: str, cli_value=None):
    """The value of a limit: the first of the command line, the environment, pyproject.toml, the default."""
    return setting_source(name, cli_value)[0]


def setting_source(name: str, cli_value=None) -> tuple:
    """(value, where it came from) of a limit; where is None for the built-in default."""
    cast = CAST[name]
    for source, value in (("--" + name.replace("_", "-"), cli_value), (ENV[name], os.environ.get(ENV[name])),
                          ("pyproject.toml", _from_pyproject().get(name))):
        if value is None or value == "":
            continue
        if name in CHOICES:
            value = str(value).strip().lower()
            if value not in CHOICES[name]:
                raise ConfigError(f"{source}: {name} must be one of {', '.join(CHOICES[name])}, not {value!r}")
            return value, source
        try:
            value = cast(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: {name} must be a {'number' if cast is float else 'whole number'}, "
                              f"not {value!r}") from None
        if value <= 0:
            raise ConfigError(f"{source}: {name} must be positive")
        return value, source
    return DEFAULTS[name], None


UNITS = {"timeout": "s", "memory_mb": "MB", "exercise_timeout": "s", "submission_timeout": "s",
         "compile_allowance": "s"}


def describe(name: str) -> str:
    """A limit's default as the command line's help says it: the built-in value, its environment
    variable, and the value in force now where the environment or pyproject.toml changes it."""
    def shown(value):
        unit = UNITS.get(name)
        return f"{value:g} {unit}" if unit else (f"{value:g}" if isinstance(value, (int, float)) else str(value))

    default = f"default: {shown(DEFAULTS[name])}"
    try:
        value, source = setting_source(name)
    except ConfigError as exc:
        return f"{default}; {exc}"
    if source is None or value == DEFAULTS[name]:
        return f"{default}; {ENV[name]} or pyproject.toml changes it"
    return f"now {shown(value)}, from {source}; {default}"


# ------------------------------------------------------------------ the command line's other defaults

SEED = 0  # base seed of the random inputs: the same inputs on every run of a learner's grade
SEED_ENV = "KATA_SEED"  # overrides it (and the fresh seed of classroom runs); --seed overrides both
FORMAT = "text"  # --format
NOTEBOOKS_DIR = "notebooks"  # `python grader.py notebooks` writes here, in the kata's folder
GRADESCOPE_BUNDLE = "autograder.zip"  # `python grader.py export gradescope`
WATCH_POLL = 0.1  # seconds between two looks at the exercise files in watch mode (idle cost: ~0.4% of a core)


def seed(cli_value: int | None = None, *, fresh: bool = False) -> int:
    """The base seed: --seed, else KATA_SEED, else a fresh one per run (`fresh`: classroom
    formats and batch, so that hard-coded answers fail) or SEED."""
    if cli_value is not None:
        return cli_value
    value = os.environ.get(SEED_ENV)
    if value:
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{SEED_ENV} must be a whole number, not {value!r}") from None
    if fresh:
        import secrets

        return secrets.randbelow(2**31)
    return SEED


# the command line: its name, and each command with (its arguments, what it does), in the order the help lists them
PROG = "python grader.py"
COMMANDS = {
    "list": ("", "the exercises in order, with points and concept, without grading them "
                 f"(`{PROG}` shows where you stand)"),
    "hint": ("EX", "the next hint for EX: one more each time (--all: every hint)"),
    "reset": ("EX", "the original stub of EX back; your file is first copied to .kata/backups/"),
    "solution": ("EX", "the reference solution of EX, once your version passes"),
    "watch": ("", "re-grade an exercise each time you save it (Ctrl-C to stop)"),
    "notebooks": ("", f"one Jupyter notebook per exercise, in {NOTEBOOKS_DIR}/"),
    "export": ("gradescope|classroom", "a Gradescope autograder bundle, or a repository for learners"),
    "batch": ("DIR", "grade every submission in DIR (folders, .zip, notebooks) into a CSV of grades"),
}
