"""A batch's intake: the entries of a submissions folder (folders, zips, notebooks, files), their
names in the gradebook, and each one unpacked safely into the folder that is graded."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

from grading.core.paths import special_kind
from grading.reports.formats import visible


MAX_ZIP_BYTES = 50 * 2**20
MAX_FOLDERS = 1000  # in one submission
_EX_FILE = re.compile(r"^ex\d{2}_[a-z0-9_]+\.py$")


class SubmissionError(Exception):
    """A submission that cannot be graded at all (bad zip, nothing to grade)."""


def submission_entries(folder: Path) -> list[Path]:
    """The entries of `folder` to grade: folders, zips, notebooks and .py files, and anything that
    is neither a file nor a folder (a FIFO, a device), which gets an error row of its own; hidden
    entries and other files are left alone."""
    entries = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir() or path.suffix.lower() in (".zip", ".ipynb", ".py") or _special(path):
            entries.append(path)
    return entries


def _special(path: Path) -> bool:
    try:
        return special_kind(path.stat().st_mode) is not None
    except OSError:  # a link to nothing
        return False


def shown_name(name: str) -> str:
    """A file name as the gradebook, the feedback files, the page and the terminal show it: on one
    line, a control character (an escape sequence, a carriage return) or a byte that is not UTF-8
    (`b"Jos\\xe9"`) written as a visible escape (`Jos\\xe9`), the same everywhere."""
    return visible(name, keep="")


def submission_names(entries: list[Path]) -> list[str]:
    """A name per entry, unique and the same on every run: the entry's stem (`alice` for
    `alice.zip`, `alice.ipynb`, `alice.py` or a folder `alice/`) where no other entry would get the
    same one, else its full file name (`alice.zip` beside a folder `alice/`). Names are compared
    without regard to case, since the feedback files named for them may land on a file system
    that ignores it; the rare entries still alike after that get `~2`, `~3`, ... in order. A name is
    shown as every report shows it (`shown_name`)."""
    full = [shown_name(path.name) for path in entries]
    names = [shown_name(path.name if path.is_dir() else path.stem) for path in entries]
    changed = True
    while changed:  # a full name can meet another entry's stem: `alice.zip` beside `alice.zip.py`
        changed = False
        seen: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            seen.setdefault(name.casefold(), []).append(i)
        for group in seen.values():
            for i in group if len(group) > 1 else ():
                if names[i] != full[i]:
                    names[i], changed = full[i], True
    taken: dict[str, int] = {}
    for i, name in enumerate(names):
        count = taken.get(name.casefold(), 0) + 1
        taken[name.casefold()] = count
        if count > 1:  # full names differing only in case, on a case-sensitive file system
            names[i] = f"{name}~{count}"
    return names


def _safe_extract(archive: Path, dest: Path) -> None:
    shown = shown_name(archive.name)
    try:
        with zipfile.ZipFile(archive) as zf:
            total = 0
            for info in zf.infolist():
                name = info.filename
                if name.startswith(("/", "\\")) or ".." in Path(name).parts or ":" in name:
                    raise SubmissionError(f"{shown}: unsafe path inside the zip ({shown_name(name)})")
                total += info.file_size
                if total > MAX_ZIP_BYTES:
                    raise SubmissionError(f"{shown}: more than {MAX_ZIP_BYTES // 2**20} MB once unpacked")
            zf.extractall(dest)
    except zipfile.BadZipFile:
        raise SubmissionError(f"{shown}: not a valid zip file") from None


# never looked in: caches, version control, macOS zip debris, and a learner's copy of the engine
# (its grading/pristine/ holds the original stubs)
SKIP_FOLDERS = frozenset({"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git", "grading", "checks",
                          "node_modules"})


def find_target(root: Path) -> Path:
    """What to grade in a submission folder, for batch and for the Gradescope helper alike: the
    folder itself if it holds an exNN_*.py, else the shallowest `exercises/` folder holding some,
    else the shallowest folder holding some, else the only notebook, else the shallowest folder of
    notebooks. Hidden folders, `__dunder__` ones and
    `SKIP_FOLDERS` are never looked in; a tree of more than MAX_FOLDERS folders (a link to / or to
    a home folder) is no submission. Raises SubmissionError, with a message for the learner."""
    if not root.is_dir():
        raise SubmissionError("the submission folder is missing")
    with_exercises, notebooks = [], []
    for count, (dirpath, dirnames, filenames) in enumerate(os.walk(root), 1):
        if count > MAX_FOLDERS:
            raise SubmissionError(f"more than {MAX_FOLDERS} folders to look through (a link to / or to a home "
                                  "folder?): nothing graded")
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")) and d not in SKIP_FOLDERS)
        folder = Path(dirpath)
        if any(_EX_FILE.match(f) for f in filenames):
            with_exercises.append(folder)
        notebooks += [folder / f for f in sorted(filenames) if f.lower().endswith(".ipynb")]

    def depth(path: Path) -> int:
        return len(path.relative_to(root).parts)

    if with_exercises:
        return min(with_exercises, key=lambda d: (d != root, d.name != "exercises", depth(d), str(d)))
    if len(notebooks) == 1:
        return notebooks[0]
    if notebooks:
        return min((n.parent for n in notebooks), key=lambda d: (depth(d), str(d)))
    raise SubmissionError("no exercise file (exNN_name.py, e.g. ex03_sgd_step.py), exercises/ folder or notebook "
                          "(.ipynb) was found in the submission")


def prepare(path: Path, workdir: Path) -> Path:
    """The folder (or notebook) to grade for one submission entry; zips are unpacked in `workdir`.
    A folder is graded as a folder, whatever its name (`alice.zip/`); a FIFO, a device (a link to
    /dev/zero) or a link to nothing is an error of its own, never opened."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise SubmissionError(f"{shown_name(path.name)} cannot be read: {exc.strerror}") from None
    kind = special_kind(mode)
    if kind is not None:
        raise SubmissionError(f"{shown_name(path.name)} is {kind}, not a file or a folder: nothing to grade")
    if path.is_dir():
        return find_target(path)
    if path.suffix.lower() == ".zip":
        _safe_extract(path, workdir)
        return find_target(workdir)
    if path.suffix.lower() == ".ipynb":
        return path
    if not _EX_FILE.match(path.name):
        raise SubmissionError(f"{shown_name(path.name)} is not an exercise file (exNN_name.py)")
    shutil.copy2(path, workdir / path.name)
    return workdir
