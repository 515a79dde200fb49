"""What a lane's worker is asked to do: one `Request`, the only message from the grader to a worker
(`grading.engine.events` holds the ones back). A forked worker is handed the object; a fresh
interpreter reads it as JSON on its standard input (`to_json`, `from_json`), with the copy of the
kata's files it grades with."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from grading.core.options import Options


@dataclass
class Request:
    files: list[str]  # the check files to collect
    target: str  # the submission graded first (the one pytest is configured with)
    jobs: list[list]  # [[index of the target, its path, [exercise ids]], ...], in order
    seed: int
    options: Options  # the run's limits: per check, memory, isolation, compiling, the sandbox
    isolation: str  # "exercise" or "submission" ("auto" decided by the grader)
    fork: bool  # exercise processes forked from the worker; else it grades one submission itself
    optimizers: bool = False  # warm torch's optimizers before the exercise processes fork
    inifile: str | None = None  # pytest's settings
    scratch: str | None = None  # where the learner's code gets working folders
    targets: list[str] = field(default_factory=list)  # every submission of the run (the sandbox denies the others)
    display_base: str | None = None  # paths in messages are shown relative to it
    graph: list[str] = field(default_factory=list)  # exercises whose checks' graphs are recorded (`--graph`)
    standby_fd: int | None = None  # a pipe: the jobs come on it once the checks are collected

    def but(self, **changes) -> "Request":
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["options"] = self.options.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Request":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"a worker's request: unknown fields {', '.join(sorted(unknown))}")
        return cls(**{**data, "options": Options.from_json(data["options"])})
