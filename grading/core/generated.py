"""What every generator of a file of the kata does with what it generated (README.md's learning path,
.github/workflows/classroom.yml, docs/mistakes.md):

    python -m grading.X           # write the file, if it is not already what it should be
    python -m grading.X --check   # exit 1 if it is not, writing nothing
"""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, wanted: str, argv, *, stale: str, wrote: str) -> int:
    """The exit code of a generator's `main(argv)` for `path`, which must hold `wanted`. With `--check` in
    `argv`: 1 when it does not (or is missing), with `stale` (what is out of step, and the command that
    brings it back) on stderr, else 0. Without: 0, and `path` written (its folder made) when it does not
    hold `wanted`, with `wrote` on stdout."""
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if "--check" in argv:
        if current != wanted:
            print(stale, file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted, encoding="utf-8")
        print(wrote)
    return 0
