"""Reports, gradebooks and feedback are written whole or not at all.

The text goes to a new temporary file with a unique name in the destination's own folder, which
then replaces the destination in one step (`os.replace`): a reader never sees half a report, a
grader killed half-way leaves the previous file in place, and nothing planted at a predictable
name (a file or a folder called `<output>.tmp`) can get in the way. On any failure the temporary
file is removed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _new_file_mode() -> int:
    """The mode a plain `open(path, "w")` would give a new file: 0o666 less the umask."""
    try:  # Linux says it without changing it
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def replacing(path, mode: str = "w", **open_kwargs):
    """`with replacing(path) as fh: fh.write(...)`: `path` is replaced when the block succeeds.

    `mode` is "w" (text; `encoding` defaults to UTF-8) or "wb". The new file keeps the mode of the
    file it replaces, or gets the usual one for a new file (mkstemp alone would make it private).
    """
    path = Path(path)
    if "b" not in mode:
        open_kwargs.setdefault("encoding", "utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        try:
            file_mode = os.stat(path).st_mode & 0o7777
        except OSError:
            file_mode = _new_file_mode()
        os.chmod(tmp, file_mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path, data: str | bytes, *, encoding: str = "utf-8") -> None:
    """Write `data` (text or bytes) to `path` whole, replacing what was there."""
    if isinstance(data, bytes):
        with replacing(path, "wb") as fh:
            fh.write(data)
    else:
        with replacing(path, "w", encoding=encoding) as fh:
            fh.write(data)
