"""A resident worker (`grading.engine.resident`): its checks collected once, it grades run after run
with the verdicts a worker started for each run gives; a run that kills it or runs out of time costs
only that run, and no learner's code can reach what comes for the next one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

import grading.engine.lane as lane_module
from grading.engine.request import receive_release, send_release
from grading.engine.resident import Resident
from grading.engine.runner import grade_many

from .support import EX, OTHER, make_target, solution, with_function

pytestmark = pytest.mark.usefixtures("private_state")


def verdicts(run) -> list:
    return [(e.id, e.status, e.score, e.error, e.notes, e.flags,
             [(c.name, c.status, c.message) for c in e.checks]) for e in run.exercises]


def folder(tmp_path, name: str, files: dict[str, str]):
    (tmp_path / name).mkdir()
    return make_target(tmp_path / name, files)


@pytest.fixture
def started(monkeypatch):
    """The workers the lanes start (a resident's runs start none)."""
    calls = []
    real = lane_module.start_worker

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(lane_module, "start_worker", counting)
    return calls


@pytest.mark.parametrize("isolation", ["exercise", "submission"])
def test_run_after_run_gives_the_verdicts_of_a_worker_of_its_own(tmp_path, started, isolation):
    targets = [
        folder(tmp_path, "right", {EX.filename: solution(EX), OTHER.filename: solution(OTHER)}),
        folder(tmp_path, "wrong", {EX.filename: with_function(EX, "return None"), OTHER.filename: solution(OTHER)}),
        folder(tmp_path, "empty", {}),
        folder(tmp_path, "again", {EX.filename: solution(EX), OTHER.filename: solution(OTHER)}),
    ]
    own = [grade_many([t], [EX, OTHER], seed=3, lanes=1, isolation=isolation)[0] for t in targets]
    del started[:]
    resident = Resident([EX, OTHER], seed=3, isolation=isolation)
    try:
        shared = [grade_many([t], [EX, OTHER], seed=3, lanes=1, isolation=isolation, standby=resident)[0]
                  for t in targets]
        assert resident.alive()  # the same process graded them all ...
        assert started == []  # ... and no run started another
        assert os.listdir(resident.scratch) == []  # each run's working folders are gone after it
    finally:
        resident.close()
    assert not os.path.exists(resident.scratch)
    assert [verdicts(r) for r in shared] == [verdicts(r) for r in own]
    assert shared[0].exercise(EX.id).passed and not shared[1].exercise(EX.id).passed


def test_a_run_that_does_not_fit_leaves_it_as_it_was(tmp_path, started):
    target = folder(tmp_path, "right", {EX.filename: solution(EX)})
    resident = Resident([EX], seed=3, isolation="exercise")
    try:
        other_seed = grade_many([target], [EX], seed=4, lanes=1, isolation="exercise", standby=resident)[0]
        assert other_seed.exercise(EX.id).passed and len(started) == 1  # a worker of its own
        assert resident.alive()
        run = grade_many([target], [EX], seed=3, lanes=1, isolation="exercise", standby=resident)[0]
        assert run.exercise(EX.id).passed and len(started) == 1
    finally:
        resident.close()


def test_a_crash_or_a_hang_costs_its_run_and_the_resident_only_when_stopped(tmp_path):
    right = folder(tmp_path, "right", {EX.filename: solution(EX), OTHER.filename: solution(OTHER)})
    crash = folder(tmp_path, "crash", {EX.filename: with_function(EX, "os._exit(3)"), OTHER.filename: solution(OTHER)})
    loop = folder(tmp_path, "loop", {EX.filename: with_function(EX, "while True: pass"), OTHER.filename: solution(OTHER)})
    deaf = folder(tmp_path, "deaf", {EX.filename: with_function(  # deaf to the check's own time limit
        EX, "import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\nwhile True: pass"),
        OTHER.filename: solution(OTHER)})
    resident = Resident([EX, OTHER], seed=0, isolation="exercise", timeout=0.5)
    try:
        def run(target):
            return grade_many([target], [EX, OTHER], lanes=1, isolation="exercise", timeout=0.5, standby=resident)[0]

        crashed = run(crash)  # in the exercise's own process: the resident grades on
        assert any(c.status == "crashed" and "exited with code 3" in c.message for c in crashed.exercise(EX.id).checks)
        assert crashed.exercise(OTHER.id).passed and resident.alive()
        looped = run(loop)  # stopped by the check's own time limit, in the exercise's process
        assert any(c.status == "timeout" for c in looped.exercise(EX.id).checks), verdicts(looped)
        assert looped.exercise(OTHER.id).passed and resident.alive()
        stopped = run(deaf)  # the lane stops the resident with the check ...
        assert any(c.status == "timeout" for c in stopped.exercise(EX.id).checks), verdicts(stopped)
        assert stopped.exercise(OTHER.id).passed, verdicts(stopped)  # ... and a new worker grades the rest
        assert not resident.alive()
        after = run(right)  # the runs after it get workers of their own
        assert after.exercise(EX.id).passed and after.exercise(OTHER.id).passed
    finally:
        resident.close()


SNOOP = """
import os, socket

def _grader_sockets():
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            probe = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue
        with probe:
            if probe.type == socket.SOCK_SEQPACKET:
                found.append(int(name))
    return found

REACHED = _grader_sockets()
"""


def test_the_learner_code_holds_no_way_to_the_next_release(tmp_path):
    """The socket the runs come on is closed in every process that runs a learner's code: a
    submission that finds it would grade wrong (and could read the next submission's release)."""
    probe = subprocess.run([sys.executable, "-c", SNOOP + "import socket\n"
                            "a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
                            "print(bool(_grader_sockets()))"], capture_output=True, text=True)
    assert probe.stdout.strip() == "True"  # the probe finds such a socket where there is one
    snooping = SNOOP + solution(EX) + (f"\n_right = {EX.function}\n"
                                       f"def {EX.function}(*args, **kwargs):\n"
                                       "    return None if REACHED else _right(*args, **kwargs)\n")
    target = folder(tmp_path, "snoop", {EX.filename: snooping})
    for isolation in ("exercise", "submission"):
        resident = Resident([EX], seed=0, isolation=isolation)
        try:
            run = grade_many([target], [EX], lanes=1, isolation=isolation, standby=resident)[0]
            assert resident.alive()
        finally:
            resident.close()
        assert run.exercise(EX.id).passed, verdicts(run)


def test_a_release_that_is_not_one_is_refused():
    ours, theirs = (end.detach() for end in socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET))
    read_fd, write_fd = os.pipe()
    try:
        send_release(ours, {"jobs": [[0, "/x", ["ex01"]]], "targets": ["/x"], "display_base": None}, write_fd)
        release, fd = receive_release(theirs)
        assert release["jobs"] == [[0, "/x", ["ex01"]]] and fd not in (read_fd, write_fd)
        os.close(fd)
        for data in (b"not json", b'{"jobs": "no"}', b"[]"):
            with socket.socket(fileno=os.dup(ours)) as channel:
                socket.send_fds(channel, [data], [write_fd])
            assert receive_release(theirs) is None
        with socket.socket(fileno=os.dup(ours)) as channel:  # no pipe with it
            channel.send(b'{"jobs": []}')
        assert receive_release(theirs) is None
        os.close(ours)
        ours = None
        assert receive_release(theirs) is None  # the grader closed its end
    finally:
        for fd in (ours, theirs, read_fd, write_fd):
            if fd is not None:
                os.close(fd)
