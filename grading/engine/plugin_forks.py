"""A submission graded in a process of its own for each exercise: the grading plugin's methods that
fork, confine and relay (`ExerciseProcesses`, a base of `grading.engine.plugin.GradingPlugin`), and the
spare process a submission's next exercise is forked from."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import tempfile
import time
from pathlib import Path

from grading.engine.events import FROM_EXERCISE, ExerciseExit, Graph, Lines, Result, Start, parse
from grading.engine.process_tools import describe_exit, kill_descendants
from grading.engine.targets import set_graded

DRAIN_GRACE = 1.0  # seconds to read what an ended exercise process still had in its pipe


class ExerciseProcesses:
    """The grading plugin's part that runs each exercise of a submission in a process of its own."""

    def _run_submission_forked(self, exercises: list[str], by_exercise) -> int:
        """Run `exercises` one after the other in one forked process, undoing between them what
        an exercise changed. Returns how many of them are done: all; or up to the one during which
        the process died; or, where the process must grade no other exercise (`_must_stop`), up to
        that one. The caller gives the rest a new process."""
        import mmap
        import struct

        from grading.engine.restore import Headroom

        shared = mmap.mmap(-1, 16)  # shared with the child: the exercise it is in, and whether it stopped

        def run_all() -> None:
            self._room = Headroom()
            for n, exercise in enumerate(exercises):
                shared[:8] = struct.pack("q", n)
                self._run_exercise(by_exercise[exercise])
                if n + 1 < len(exercises) and self._must_stop():
                    shared[:16] = struct.pack("qq", n + 1, 1)
                    return
            shared[:8] = struct.pack("q", len(exercises))

        def reached() -> int:  # the exercises up to this one have begun in that process
            return struct.unpack("q", shared[:8])[0]

        code = self._in_exercise_process(run_all, exercises, reached)
        n, stopped = struct.unpack("qq", shared[:16])
        shared.close()
        if from_outside(code) and n < len(exercises) and exercises[n] not in self._regraded:
            self._regraded.add(exercises[n])  # graded again from this one, once: the death may not be its own
            for exercise in exercises[:n]:
                self.emit(ExerciseExit(exercise, describe_exit(0), 0))
            return n
        for exercise in exercises[:n]:  # finished in that process
            self.emit(ExerciseExit(exercise, describe_exit(0), 0))
        if n < len(exercises) and not (stopped and code == 0):  # it died during this one, which is charged with it
            self.emit(ExerciseExit(exercises[n], describe_exit(code), code if code != 0 else 1))
            return n + 1
        return n

    def _serve_releases(self, session, by_exercise) -> bool:
        """A resident worker: grade the jobs of one release after another (see
        `grading.engine.resident`), each run's events on the pipe that came with its release, said
        done and closed when its jobs are; until the grader closes the socket. What the collection
        said is said again to each run, about each of its submissions, and after each run nothing
        the learner's code started is left running and its working folders are gone."""
        from grading.core import paths
        from grading.engine.events import Done
        from grading.engine.request import receive_release

        scratch = self.scratch
        while (release := receive_release(self.standby)) is not None:
            message, fd = release
            self._channel.move_to(fd)
            self._send = self._deliver
            jobs = message["jobs"]
            self.targets = [str(t) for t in message.get("targets") or ()]
            paths.DISPLAY_BASE[:] = [Path(message["display_base"])] if message.get("display_base") else []
            self._regraded = set()
            for index in dict.fromkeys(job[0] for job in jobs) or (0,):
                for event in self._preamble:
                    self._send(event.about(index))
            try:
                self._run_jobs(session, jobs, by_exercise)
            finally:
                kill_descendants()
                self.scratch = scratch
                for entry in os.scandir(scratch) if scratch else ():
                    shutil.rmtree(entry.path, ignore_errors=True)
            self._send(Done())
            self._channel.close()
        return True

    def _in_exercise_process(self, work, exercises: list[str], reached=None) -> int:
        """Run `work()` in a forked process of its own, which writes its events to a pipe of its
        own: this process reads them and passes on only what that process may say: events about
        its `exercises` and, where it grades them one after the other, only about those it has
        begun (`reached()`: the index of the last one begun, as that process's own loop wrote it
        before it ran the exercise's code). Returns the process's exit code, once it and whatever it
        started have ended."""
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the exercise process: never returns into the caller
            code = 0
            try:
                os.close(read_fd)
                if self.resident:  # the next submission's release is not this process's to read
                    os.close(self.standby)
                if self.scratch:
                    self._confine()
                if self._channel is not None:
                    self._channel.move_to(write_fd)
                else:  # events go where `send` sends them (a plugin used on its own)
                    os.close(write_fd)
                work()
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        os.close(write_fd)
        if reached is None:
            allowed = lambda: exercises  # noqa: E731
        else:
            allowed = lambda: exercises[:reached() + 1]  # noqa: E731
        return self._relay(read_fd, pid, allowed)

    def _confine(self) -> None:
        """Confine this process (a grading process, before any learner's code runs in it) with the
        kernel's sandbox: it writes only in a working folder of its own, made here inside the run's
        scratch folder, and reads neither the reference solutions nor the other submissions."""
        from grading import SOLUTIONS_DIR
        from grading.engine.sandbox import confine_grading_process

        own = tempfile.mkdtemp(prefix="sandbox-", dir=self.scratch)
        current = os.path.realpath(self.target_path) if self.target_path else None

        def related(path: str) -> bool:  # the submission graded here, or a folder that holds it
            real = os.path.realpath(path)
            return current is not None and (current == real or current.startswith(real.rstrip(os.sep) + os.sep))

        denied = [str(SOLUTIONS_DIR), self.scratch, *self.targets]
        self.confinement = confine_grading_process(own, [d for d in denied if not related(d)], self.sandbox)
        self.scratch = own

    def _relay(self, fd: int, pid: int, exercises) -> int:
        lines, seen = Lines(), set()
        pidfd = _pidfd(pid)
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        status = drain_until = None
        try:
            while True:
                if status is None:
                    wait = STOP_WATCH_MS
                else:
                    wait = max(0, int((drain_until - time.monotonic()) * 1000))
                ended = False
                for ready, _ in poller.poll(wait):
                    if ready == fd:
                        data = os.read(fd, 65536)
                        if not data:
                            ended = True
                            break
                        for line in lines.feed(data):
                            self._pass_on(line, exercises, seen)
                if ended:
                    break
                if status is None:
                    done, code = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
                    if done and os.WIFSTOPPED(code):  # stopped (SIGSTOP, SIGTSTP): it goes on
                        os.kill(pid, signal.SIGCONT)
                        continue
                    if done:
                        status = code
                        if pidfd is not None:
                            poller.unregister(pidfd)
                        kill_descendants()  # what it left running holds the pipe open
                        drain_until = time.monotonic() + DRAIN_GRACE
                elif time.monotonic() >= drain_until:
                    break
        finally:
            os.close(fd)
            if pidfd is not None:
                os.close(pidfd)
        if status is None:
            _, status = os.waitpid(pid, 0)
            kill_descendants()
        return os.waitstatus_to_exitcode(status)

    def _pass_on(self, line: bytes, exercises, seen: set) -> None:
        """Pass on one line of an exercise process, if it is an event that process may send:
        about its own exercises (`exercises()`: those it may speak of now), a collected check,
        each start and result once."""
        event = parse(line)
        if not isinstance(event, FROM_EXERCISE) or event.exercise not in exercises():
            return
        if isinstance(event, (Start, Result, Graph)):
            if event.check.removesuffix(" (teardown)") not in self.collected.get(event.exercise, ()):
                return
            key = (type(event), event.exercise, event.check)
            if key in seen:
                return
            seen.add(key)
        self.emit(event)


STOP_WATCH_MS = 50  # how often the relay looks whether the exercise's process was stopped
# deaths a learner's code causes itself by what it computes are charged at once; a death by any other
# signal (SIGKILL, SIGTERM, ...) may come from outside, where no sandbox scopes signals: graded again once
_OWN_DEATHS = frozenset(int(s) for s in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT,
                                         signal.SIGXCPU, signal.SIGXFSZ, signal.SIGSYS))


def from_outside(code: int) -> bool:
    """Whether an exit code (negative: the signal) is a death that may not be the learner's own doing."""
    return code < 0 and -code not in _OWN_DEATHS


class _Spare:
    """An exercise process forked and confined ahead of time by a worker on standby: it waits to
    be told which exercise of `target` to run, so that grading a save pays for neither the fork
    nor the sandbox. Told nothing (`dismiss()`), it ends without running anything."""

    def __init__(self, plugin: ExerciseProcesses, session, target: str | None, by_exercise: dict):
        self.plugin, self.target = plugin, target
        go_read, self.go = os.pipe()
        self.fd, write_fd = os.pipe()
        plugin.target_path = target
        self.pid = os.fork()
        if self.pid == 0:  # the exercise process: never returns into the caller
            code = 0
            try:
                os.close(self.fd)
                os.close(self.go)
                if plugin.scratch:
                    plugin._confine()
                plugin._channel.move_to(write_fd)
                told = _read_all(go_read)
                if told:
                    plugin.target, exercise = json.loads(told)
                    session.config.kata_target = Path(target)
                    set_graded(session.config.kata_target)
                    plugin._run_exercise(by_exercise[exercise])
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        os.close(go_read)
        os.close(write_fd)

    def run(self, index: int, exercise: str) -> int:
        """Run `exercise` (of submission `index`) there; its exit code, as `_in_exercise_process`."""
        self._tell(json.dumps([index, exercise]).encode())
        return self.plugin._relay(self.fd, self.pid, lambda: (exercise,))

    def dismiss(self) -> None:
        self._tell(b"")
        os.close(self.fd)
        os.waitpid(self.pid, 0)

    def _tell(self, data: bytes) -> None:
        try:
            while data:
                data = data[os.write(self.go, data):]
        except OSError:  # it has ended already: its exit code says how
            pass
        finally:
            os.close(self.go)


def _read_all(fd: int) -> bytes:
    """All that comes on the pipe `fd` until it is closed at the other end; `fd` is closed."""
    data = b""
    try:
        while chunk := os.read(fd, 65536):
            data += chunk
    finally:
        os.close(fd)
    return data


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux, or an older kernel
        return None
