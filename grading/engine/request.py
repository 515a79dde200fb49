"""What a lane's worker is asked to do: one `Request`, the only message from the grader to a worker
(`grading.engine.events` holds the ones back). A forked worker is handed the object; a fresh
interpreter reads it as JSON on its standard input (`to_json`, `from_json`), with the copy of the
kata's files it grades with."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
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
    resident: bool = False  # standby_fd is a socket on which one release after another comes (`send_release`)

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


# ------------------------------------------------------------------ a resident worker's releases
# A resident worker (`grading.engine.resident`) collects its checks once and then grades one run's
# jobs after another: each release is one message on a Unix socket of sequenced packets, its jobs
# with the run's targets and the folder paths are shown from, and the write end of a pipe of its
# own for that run's events (the worker closes it when the run's jobs are done).

RELEASE_LIMIT = 1 << 20  # bytes of one release's message


def send_release(sock: int, release: dict, events_fd: int) -> None:
    """Send `release` ({"jobs", "targets", "display_base"}) and the pipe `events_fd` to a resident
    worker on the socket `sock`; raises OSError where it has ended."""
    data = json.dumps(release).encode("utf-8")
    if len(data) > RELEASE_LIMIT:
        raise ValueError(f"a release of {len(data)} bytes: at most {RELEASE_LIMIT}")
    with socket.socket(fileno=os.dup(sock)) as channel:
        socket.send_fds(channel, [data], [events_fd])


def receive_release(sock: int) -> tuple[dict, int] | None:
    """The next release on the socket `sock` and the pipe its events go to; None once the grader
    has closed its end (or sent something that is not a release: nothing more is trusted)."""
    with socket.socket(fileno=os.dup(sock)) as channel:
        try:
            data, fds, flags, _ = socket.recv_fds(channel, RELEASE_LIMIT + 1, 1)
        except OSError:
            return None
    if len(fds) != 1 or not data or len(data) > RELEASE_LIMIT or flags & socket.MSG_CTRUNC:
        for fd in fds:
            os.close(fd)
        return None
    try:
        release = json.loads(data)
        assert isinstance(release, dict) and isinstance(release.get("jobs"), list)
    except (ValueError, AssertionError):
        os.close(fds[0])
        return None
    return release, fds[0]
