"""Grading limits, from the command line, the environment, or pyproject.toml, in that order.

    [tool.autograd-kata]
    timeout = 10        # seconds per check          (KATA_TIMEOUT,  --timeout)
    memory_mb = 1024    # MB of data memory for learner code (KATA_MEMORY_MB, --memory-mb)
    jobs = 2            # grading processes side by side (KATA_JOBS, --jobs)
    isolation = "auto"  # a process per "exercise", or per "submission"; auto: per exercise for one
                        # submission, per submission in batch (KATA_ISOLATION, --isolation)
"""

from __future__ import annotations

import os
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from . import ROOT

DEFAULTS = {"timeout": 10.0, "memory_mb": 1024, "jobs": 2, "isolation": "auto"}
ENV = {"timeout": "KATA_TIMEOUT", "memory_mb": "KATA_MEMORY_MB", "jobs": "KATA_JOBS", "isolation": "KATA_ISOLATION"}
CAST = {"timeout": float, "memory_mb": int, "jobs": int, "isolation": str}
CHOICES = {"isolation": ("auto", "exercise", "submission")}


class ConfigError(ValueError):
    pass


def _from_pyproject() -> dict:
    try:
        data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return data.get("tool", {}).get("autograd-kata", {})


def setting(name: str, cli_value=None):
    """The value of a limit, and where it came from is the first of: CLI, env, pyproject, default."""
    cast = CAST[name]
    for source, value in (("--" + name.replace("_", "-"), cli_value), (ENV[name], os.environ.get(ENV[name])),
                          ("pyproject.toml", _from_pyproject().get(name))):
        if value is None or value == "":
            continue
        if name in CHOICES:
            value = str(value).strip().lower()
            if value not in CHOICES[name]:
                raise ConfigError(f"{source}: {name} must be one of {', '.join(CHOICES[name])}, not {value!r}")
            return value
        try:
            value = cast(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: {name} must be a {'number' if cast is float else 'whole number'}, "
                              f"not {value!r}") from None
        if value <= 0:
            raise ConfigError(f"{source}: {name} must be positive")
        return value
    return DEFAULTS[name]
