"""The grading limits of one run, as one object: resolved once (the command line, the environment,
pyproject.toml, the defaults: see `grading.core.config`) and passed down to every process that
grades, which never reads the settings itself.

    options = Options.resolve(timeout=args.timeout, strict=True)   # the command line
    grade_many(targets, exercises, options=options)                 # the engine, and its children
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from grading.core.config import CAST, CHOICES, DEFAULTS, ConfigError, setting


@dataclass(frozen=True)
class Options:
    timeout: float = DEFAULTS["timeout"]  # seconds per check
    memory_mb: int | None = DEFAULTS["memory_mb"]  # MB of data memory for learner code (None: no cap)
    jobs: int = DEFAULTS["jobs"]  # grading processes side by side (at most one per core)
    isolation: str = DEFAULTS["isolation"]  # a process per "exercise" or per "submission"; "auto"
    exercise_timeout: float = DEFAULTS["exercise_timeout"]  # seconds for all the checks of one exercise
    submission_timeout: float = DEFAULTS["submission_timeout"]  # seconds for a whole submission
    compile_allowance: float = DEFAULTS["compile_allowance"]  # seconds of compiling per exercise not charged
    sandbox: str = DEFAULTS["sandbox"]  # auto, require or off (see grading.engine.sandbox)

    @classmethod
    def resolve(cls, *, strict: bool = False, **given) -> "Options":
        """Each limit from `given` (the command line's values; None: not given), else the
        environment, pyproject.toml, the default. A bad value raises ConfigError with `strict`
        (the command line says it); else the default holds, except for the sandbox, where a value
        that is none of its words means `require`: a typo must never lower the confinement."""
        unknown = set(given) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"no such grading option: {', '.join(sorted(unknown))}")
        values = {}
        for name in DEFAULTS:
            try:
                values[name] = setting(name, given.get(name))
            except ConfigError:
                if strict:
                    raise
                values[name] = "require" if name == "sandbox" else DEFAULTS[name]
        return cls(**values)

    def but(self, **changes) -> "Options":
        """These options with some limits changed; a change of None changes nothing."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def lanes(self, cpus: int | None) -> int:
        """Grading processes to run side by side: `jobs`, at most one per core."""
        return max(1, min(int(self.jobs), cpus or 1))

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Options":
        """The options another process sent; a field of the wrong kind or word is a ValueError."""
        if not isinstance(data, dict) or set(data) != set(DEFAULTS):
            raise ValueError("grading options: not the fields of Options")
        values = {}
        for name, value in data.items():
            if name == "memory_mb" and value is None:
                values[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, (str,) if CAST[name] is str else (int, float)):
                raise ValueError(f"grading options: {name} is {value!r}")
            if name in CHOICES and value not in CHOICES[name]:
                raise ValueError(f"grading options: {name} is {value!r}")
            values[name] = CAST[name](value)
        return cls(**values)
