"""The grading processes: how they start (the tools they use on themselves are in
`grading.engine.process_tools`, the signals that stop the grader in `grading.engine.signals`).

Workers (a lane's child) are made by `fork()` where that is available and safe: the grader has
already imported torch, numpy and pytest (`warm_up`), so each costs a fraction of a second.
Elsewhere (Windows, macOS, or `KATA_START_METHOD=spawn`) each is a fresh interpreter that starts
from the grader's copy of its own files (`grading.engine.frozen`): slower, same verdicts.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grading import ROOT
from grading.engine.events import Lines, parse
from grading.engine.frozen import Sources
from grading.engine.process_tools import close_inherited_channels, describe_exit, kill_tree

if TYPE_CHECKING:
    from grading.engine.request import Request

@dataclass
class Worker:
    """A lane's child process, forked (`pid`) or a fresh interpreter (`popen`); its events arrive
    on `events`, read by `reader`."""

    events: "queue.Queue[dict | None]"
    pid: int | None = None
    popen: subprocess.Popen | None = None
    reader: threading.Thread | None = None
    stream: object = None  # where its events come from
    go: int | None = None  # a worker on standby: the pipe on which it is told what to grade

    def read_into(self, events: "queue.Queue", tag) -> None:
        """Its events go to `events` as (tag, event), read by a thread the caller starts."""
        self.events = events
        self.reader = threading.Thread(target=read_events, args=(self.stream, events, tag), daemon=True)

    def release(self, request: "Request") -> None:
        """A worker on standby: grade the jobs of `request` ([[target index, target, [exercise
        ids]], ...]) now. One that has died meanwhile is not told: its stream has ended, and its
        lane starts another."""
        data = json.dumps({"jobs": request.jobs}).encode()
        try:
            while data:
                data = data[os.write(self.go, data):]
        except OSError:
            pass
        finally:
            os.close(self.go)
            self.go = None

    @property
    def process_id(self) -> int:
        return self.popen.pid if self.popen is not None else self.pid

    def kill(self) -> None:
        """Kill the child and whatever it started (its own process group, where there are groups;
        what left the group comes to the grader, a subreaper, and is killed there)."""
        if self.popen is not None and not hasattr(os, "killpg"):
            with contextlib.suppress(OSError):
                self.popen.kill()
            return
        kill_tree(self.process_id)

    def end(self, clean: bool) -> str:
        """Its stream has ended (`clean`: after it said it was done): reap it; how it ended."""
        return self.wait()

    def wait(self) -> str:
        """Reap the child; describe how it ended."""
        if self.popen is not None:
            code = self.popen.wait()
        else:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        return describe_exit(code)


def read_events(stream, events: "queue.Queue", tag) -> None:
    """Put every well-formed event of one child on `events` as (tag, event), then (tag, None) at
    its end. A line that is not an event (see `grading.engine.events`) is dropped."""
    lines = Lines()
    with stream:
        while True:
            data = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not data:
                break
            for line in lines.feed(data):
                event = parse(line)
                if event is not None:
                    events.put((tag, event))
    events.put((tag, None))


def bootstrap(sources: Sources) -> str:
    """What a fresh grading interpreter runs: `grading.engine.frozen` from the grader's copy, then `boot()`."""
    return sources.texts["grading/engine/frozen.py"] + "\nboot()\n"


def start_worker(request: "Request", method: str, events: "queue.Queue | None" = None, tag=None,
                 read: bool = True, *, sources: Sources, standby: bool = False, resident: bool = False) -> Worker:
    """Start a lane's child for `request`, importing the kata's files from `sources`; its events
    arrive on `events` (a new queue if None) as (tag, event). With read=False the thread that reads
    them is left for the caller to start. With `standby`, the child starts pytest and collects
    the checks, then waits until `Worker.release()` tells it which of the request's exercises to
    grade (not on Windows, where a fresh interpreter cannot be handed the pipe). With `resident`
    (forked only), `go` is a socket on which one release after another comes
    (`grading.engine.request.send_release`; see `grading.engine.resident`)."""
    events = queue.Queue() if events is None else events
    go_read = go_write = None
    if resident:
        ends = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        go_read, go_write = (end.detach() for end in ends)
        request = request.but(standby_fd=go_read, resident=True)
    elif standby:
        go_read, go_write = os.pipe()
        request = request.but(standby_fd=go_read)
    if method == "fork":
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the parent's code
            try:
                os.setpgid(0, 0)  # its own group: a timeout kills the exercise processes it forks too
                os.close(read_fd)
                if go_write is not None:
                    os.close(go_write)
                # the grader's own pipes and terminal are not the learner's
                close_inherited_channels(keep={write_fd, go_read})
                from grading.engine import child, frozen

                frozen.install(sources)  # the checks and catalog from the copy read when grading began
                child._silence_standard_streams()
                child.run(write_fd, request)
            finally:
                os._exit(0)
        os.close(write_fd)
        handle = Worker(events, pid=pid)
        stream = os.fdopen(read_fd, "rb")
    else:
        popen = subprocess.Popen(
            [sys.executable, "-c", bootstrap(sources)],
            cwd=str(ROOT),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=hasattr(os, "killpg"),
            pass_fds=() if go_read is None else (go_read,),
        )
        try:
            popen.stdin.write(json.dumps({**request.to_json(), "sources": {"root": sources.root, "texts": sources.texts}}).encode())
            popen.stdin.close()
        except OSError:  # it died at once: its stream ends, and the lane says so
            pass
        handle = Worker(events, popen=popen)
        stream = popen.stdout
    if go_read is not None:
        os.close(go_read)
    handle.stream, handle.go = stream, go_write
    handle.read_into(events, tag)
    if read:
        handle.reader.start()
    return handle
