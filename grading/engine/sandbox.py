"""Confinement by the kernel: a process that runs a learner's code sandboxes itself with Landlock.

Linux (5.13 and later) lets an unprivileged process restrict itself, and everything it starts,
for good: `landlock_create_ruleset`, `landlock_add_rule`, `landlock_restrict_self` (three system
calls, made here through ctypes). A grading process calls `confine()` after it is forked and
before the learner's code runs. From then on, at the highest Landlock ABI the kernel offers:

- it writes only in its own working folder (and `/dev/null`): nothing of the kata, the
  submissions, the reports being written or anywhere else;
- it reads what it needs to run (Python, its libraries, the kata's checks and engine, its own
  submission) but not the reference solutions, nor the other submissions of a batch, nor the
  working folders of other grading processes;
- it opens no TCP connection and binds no TCP port (ABI 4);
- it cannot signal, ptrace or open `/proc/PID/fd` of any process outside its sandbox: the grader,
  the lanes, another submission's processes (signals scoped from ABI 6; ptrace always).

Where Landlock is missing (another system, an older kernel, a container that blocks it) nothing
is confined and grading keeps its other defences; `status(mode)` says which confinement holds,
and the run's `sandbox` option (auto, require, off: `--sandbox`, KATA_SANDBOX, pyproject.toml;
`grading.core.options`) chooses.
"""

from __future__ import annotations

import os
import sys

# system call numbers: the same on x86-64 and on the generic table (arm64, riscv64)
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3, 5
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the rights a rule on a file may hold
READ = EXECUTE | READ_FILE | READ_DIR


def _fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


_LIBC: list = []


def _libc():
    if not _LIBC:
        import ctypes

        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


def abi() -> int:
    """The Landlock ABI the kernel offers (0: none, or not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def status(mode: str) -> str:
    """Which confinement a grading process gets here under the `sandbox` option `mode` (auto,
    require or off), in words (for the reports)."""
    if mode == "off":
        return "off (learner code is not confined by the kernel)"
    level = abi()
    if level <= 0:
        return "none (the kernel offers no Landlock: detection only)"
    return f"landlock ABI {level}"


class SandboxUnavailable(RuntimeError):
    pass


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def read_roots(denied: list[str], top: str = "/") -> list[str]:
    """The fewest paths whose hierarchies hold everything under `top` but the `denied` paths: the
    ancestors of a denied path are split into their entries (a Landlock rule on a folder holds
    for all beneath it, and no rule can take a part of it back). Symbolic links are not followed:
    what they point to is reached through its own place."""
    denied = sorted({os.path.realpath(d) for d in denied})
    roots: list[str] = []

    def visit(path: str) -> None:
        if any(_under(path, d) for d in denied):
            return
        if not any(_under(d, path) for d in denied):
            roots.append(path)
            return
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            if not entry.is_symlink():
                visit(entry.path)

    visit(os.path.realpath(top))
    return roots


def confine(writable: list[str], denied: list[str]) -> int:
    """Confine this process (and all it starts) for good: read all but `denied`, write only in
    `writable` (and /dev/null), no TCP, no signal or ptrace outside. Returns the ABI used.
    Raises SandboxUnavailable where the kernel cannot."""
    import ctypes

    level = abi()
    if level <= 0:
        raise SandboxUnavailable("the kernel offers no Landlock")
    libc = _libc()
    handled_fs = _fs_rights(level)

    class RulesetAttr(ctypes.Structure):
        _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                    ("scoped", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    attr = RulesetAttr(handled_fs, NET_BIND_TCP | NET_CONNECT_TCP if level >= 4 else 0,
                       SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET if level >= 6 else 0)
    size = ctypes.sizeof(RulesetAttr) if level >= 6 else (16 if level >= 4 else 8)
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        raise SandboxUnavailable(f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
    try:
        def allow(path: str, rights: int) -> None:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC | os.O_NOFOLLOW)
            except OSError:
                return
            try:
                if not _is_dir_fd(fd):
                    rights &= FILE_ONLY
                rule = PathBeneath(rights & handled_fs, fd)
                if libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
                    raise SandboxUnavailable(f"landlock_add_rule {path}: {os.strerror(ctypes.get_errno())}")
            finally:
                os.close(fd)

        for root in read_roots(list(denied) + list(writable)):
            allow(root, READ)
        for folder in writable:
            allow(folder, handled_fs)
        allow("/dev/null", READ_FILE | WRITE_FILE | TRUNCATE)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise SandboxUnavailable(f"prctl(NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
        if libc.syscall(_RESTRICT_SELF, ruleset, 0) != 0:
            raise SandboxUnavailable(f"landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)
    return level


def _is_dir_fd(fd: int) -> bool:
    import stat

    try:
        return stat.S_ISDIR(os.fstat(fd).st_mode)
    except OSError:
        return False


def confine_grading_process(scratch: str, denied: list[str], mode: str) -> str:
    """What a grading process does before the learner's code runs: confine itself where it can
    (per the `sandbox` option `mode`: auto, require or off; any other word is `require`, so that a
    typo never lowers the confinement), writing only in `scratch`. Returns the confinement in
    force, in words."""
    if mode == "off":
        return status(mode)
    try:
        level = confine([scratch], denied)
    except SandboxUnavailable as exc:
        if mode != "auto":
            raise
        return f"none ({exc}: detection only)"
    return f"landlock ABI {level}"
