"""`python grader.py batch SUBMISSIONS --out grades.csv [--jobs N] [--feedback DIR] [--report FILE.html]`

Grades every entry of SUBMISSIONS (a folder per student, a .zip, or a notebook) with
the instructor's checks: one CSV row per submission (its name and entry, a column per
exercise, total, status, integrity), the class's known mistakes beside it (`mistakes.csv`: how
many submissions made each, see `class_mistakes`), optionally one feedback JSON per submission,
named for the submission, and optionally the class on one HTML page (`grading.reports.class_report`).
Names are unique (see `submission_names`), and cells that a spreadsheet would read as a formula
are quoted. One broken or hostile submission never stops the batch: it gets its row, with the
reason. The gradebook, the mistakes, the page and each feedback file are written whole
(`grading.core.atomic`).

The grading processes are forked from a parent that has already imported torch, and each
collects the checks once, so a submission costs only its checks; each submission's code runs in
processes of its own (see `--isolation`).
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grading.core.atomic import replacing, write_atomic
from grading.core.catalog import Catalog
from grading.reports.formats import visible
from grading.core.paths import special_kind

MAX_ZIP_BYTES = 50 * 2**20
MAX_FOLDERS = 1000  # in one submission
_EX_FILE = re.compile(r"^ex\d{2}_[a-z0-9_]+\.py$")


class SubmissionError(Exception):
    """A submission that cannot be graded at all (bad zip, nothing to grade)."""


@dataclass
class Outcome:
    name: str  # unique in the batch (see submission_names); also the feedback file's name
    status: str  # "graded" or "error: ..."
    result: dict | None  # RunResult.to_dict() (+ classroom scores), when graded
    entry: str = ""  # the entry of the submissions folder it was graded from: "alice.zip"


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


def find_target(root: Path) -> Path:
    """The folder that holds the exercise files: the shallowest one with an exNN_*.py. A tree of
    more than MAX_FOLDERS folders (a link to / or to a home folder) is no submission."""
    candidates = []
    for count, (dirpath, dirnames, filenames) in enumerate(os.walk(root), 1):
        if count > MAX_FOLDERS:
            raise SubmissionError(f"more than {MAX_FOLDERS} folders to look through (a link to / or to a home "
                                  "folder?): nothing graded")
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        if any(_EX_FILE.match(f) for f in filenames):
            candidates.append(Path(dirpath))
    if not candidates:
        notebooks = sorted(root.rglob("*.ipynb"), key=lambda p: (len(p.parts), str(p)))
        notebooks = [p for p in notebooks if ".ipynb_checkpoints" not in p.parts]
        if notebooks:
            return notebooks[0].parent  # graded from the notebooks' answer cells
        raise SubmissionError("no exercise file (exNN_name.py) or notebook found")
    candidates.sort(key=lambda p: (len(p.relative_to(root).parts), str(p)))
    return candidates[0]


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


def _report(run, catalog: Catalog, integrity, checks_sha256: str = "") -> dict:
    """One submission's feedback: its RunResult as JSON, with the classroom scores and the hash of
    the checks that graded it (see `kept_feedback`)."""
    from grading.core.integrity import attach_integrity
    from grading.reports.formats import classroom_score

    attach_integrity(run, catalog, integrity)
    data = run.to_dict()
    for e, d in zip(run.exercises, data["exercises"]):
        d["classroom_score"] = classroom_score(run, e)
    data["classroom_score"] = sum(d["classroom_score"] for d in data["exercises"])
    data["checks_sha256"] = checks_sha256
    return data


def kept_feedback(folder: Path, name: str, entry: str, checks_sha256: str, seed: int) -> dict | None:
    """What `--resume` keeps of a submission: its report from its feedback file, where that file
    holds a graded report of the same entry, graded with the same checks (their hash) and seed."""
    try:
        payload = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("entry") != entry or "exercises" not in payload \
            or payload.get("checks_sha256") != checks_sha256 or payload.get("seed") != seed:
        return None
    return {k: v for k, v in payload.items() if k not in ("submission", "entry")}


def resumed_seed(folder: Path) -> int | None:
    """The seed the feedback files in `folder` were graded with (the most common), for --resume."""
    seeds: dict[int, int] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            seed = json.loads(path.read_text(encoding="utf-8")).get("seed")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(seed, int):
            seeds[seed] = seeds.get(seed, 0) + 1
    return max(seeds, key=lambda k: (seeds[k], -k)) if seeds else None


def _write_feedback(folder: Path, outcome: Outcome) -> None:
    """`<name>.json` in `folder`: the submission's report, or its status when it was not graded."""
    about = {"submission": outcome.name, "entry": outcome.entry}
    payload = {**about, **outcome.result} if outcome.result is not None else {**about, "status": outcome.status}
    write_atomic(folder / f"{outcome.name}.json", json.dumps(payload, indent=2) + "\n")


def integrity_cell(outcome: Outcome) -> str:
    if outcome.result is None:
        return ""
    notes = []
    integrity = outcome.result.get("integrity", {})
    if integrity and not integrity.get("ok", True):
        notes.append("checks modified")
    for e in outcome.result["exercises"]:
        for _ in e.get("flags", []):
            notes.append(f"{e['id'][:4]} read the solutions")
    return "; ".join(notes) or "ok"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: one that starts like a formula (`=`, `+`, `-`, `@`,
    a tab or a carriage return) gets a leading single quote (OWASP's advice on CSV injection).
    Submission names and statuses come from student-chosen file names; a control character other
    than a line end or a tab, or a lone surrogate, is shown as a visible escape (`visible`)."""
    text = visible(text, keep="\t\n\r")
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(outcomes: list[Outcome], catalog: Catalog, out: Path) -> None:
    with replacing(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["submission", "entry"] + [ex.id for ex in catalog]
                        + ["total", "max_total", "status", "integrity", "sandbox"])
        for o in outcomes:
            if o.result is None:
                scores = [0] * len(catalog)
                total = 0
            else:
                by_id = {e["id"]: e for e in o.result["exercises"]}
                scores = [by_id[ex.id]["classroom_score"] for ex in catalog]
                total = o.result["classroom_score"]
            writer.writerow([csv_cell(o.name), csv_cell(o.entry)] + [f"{s:g}" for s in scores]
                            + [f"{total:g}", f"{catalog.max_score:g}", csv_cell(o.status), csv_cell(integrity_cell(o)),
                               csv_cell((o.result or {}).get("sandbox", ""))])


@dataclass
class ClassMistake:
    """A known mistake as the class made it: in which exercise, by whom, and what they were told."""

    exercise: str  # the id of the exercise whose checks named it
    id: str  # the mistake's stable id ("ex03.rebinding")
    title: str  # the mistake in one line
    submissions: list[str]  # the names of the submissions that made it, each once, in batch order
    message: str  # the message of a failing check with this mistake, as the first of them read it

    @property
    def count(self) -> int:
        return len(self.submissions)


def graded_outcomes(outcomes: list[Outcome]) -> list[Outcome]:
    """The submissions that were graded: the class that shares are taken of."""
    return [o for o in outcomes if o.result is not None]


def class_mistakes(outcomes: list[Outcome], catalog: Catalog) -> list[ClassMistake]:
    """Every known mistake the graded submissions made (a check that did not pass and names its
    `mistake`), a submission counted once per mistake however many of its checks name it. In the
    catalog's order of exercises, then most frequent first."""
    found: dict[tuple[str, str], ClassMistake] = {}
    for o in graded_outcomes(outcomes):
        for e in o.result["exercises"]:
            for c in e["checks"]:
                mistake = c.get("mistake")
                if not mistake or c.get("status") == "passed":
                    continue
                key = (e["id"], mistake)
                if key not in found:
                    found[key] = ClassMistake(e["id"], mistake, c.get("mistake_title") or "", [], c.get("message", ""))
                if o.name not in found[key].submissions:
                    found[key].submissions.append(o.name)
    order = {ex.id: n for n, ex in enumerate(catalog)}
    return sorted(found.values(), key=lambda m: (order.get(m.exercise, len(order)), m.exercise, -m.count, m.id))


def mistakes_path(out: Path) -> Path:
    """Where the mistakes of a gradebook go: `mistakes.csv` beside `grades.csv`, and beside a
    gradebook of another name, that name with `-mistakes` (`ml101.csv`: `ml101-mistakes.csv`), so
    that two gradebooks in one folder keep their own."""
    if out.stem.casefold() == "grades":
        return out.with_name("mistakes.csv")
    return out.with_name(f"{out.stem}-mistakes.csv")


def write_mistakes_csv(outcomes: list[Outcome], catalog: Catalog, out: Path) -> list[ClassMistake]:
    """One row per known mistake of the class (see `class_mistakes`): the exercise, the mistake's id
    and title, how many graded submissions made it, their share of the graded submissions, and
    one of them by name. Cells are formula-safe, as in the gradebook."""
    mistakes = class_mistakes(outcomes, catalog)
    size = len(graded_outcomes(outcomes))
    with replacing(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["exercise", "mistake", "title", "submissions", "share", "example"])
        for m in mistakes:
            writer.writerow([csv_cell(m.exercise), csv_cell(m.id), csv_cell(m.title), m.count,
                             f"{m.count / size:.4f}" if size else "0", csv_cell(m.submissions[0])])
    return mistakes


def write_class_files(outcomes: list[Outcome], catalog: Catalog, out: Path, *, report: Path | None = None,
                      seed: int | None = None, source: Path | None = None) -> list[Path]:
    """The gradebook `out`, the class's mistakes beside it and, given `report`, the HTML class
    report (`grading.reports.class_report`); returns the paths written."""
    write_csv(outcomes, catalog, out)
    mistakes = write_mistakes_csv(outcomes, catalog, mistakes_path(out))
    written = [out, mistakes_path(out)]
    if report is not None:
        from grading.reports.class_report import write_class_report

        report.parent.mkdir(parents=True, exist_ok=True)
        write_class_report(outcomes, catalog, report, seed=seed, source=source, mistakes=mistakes)
        written.append(report)
    return written


def progress_line(done: int, total: int, errors: int, elapsed: float, width: int = 30) -> str:
    """The batch's progress bar: submissions done of all, how many had errors (not graded, or an
    exercise crashed or ran out of time), and the time left at the pace so far."""
    filled = round(width * done / max(1, total))
    left = elapsed / done * (total - done) if done else None
    eta = "" if left is None or done == total else f", about {left:.0f} s left"
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} submissions, {errors} with errors{eta}"


def run_batch(folder: Path, catalog: Catalog, out: Path, *, jobs: int, seed: int, timeout: float,
              memory_mb: int, feedback: Path | None, progress_stream=None,
              isolation: str = "auto", exercise_timeout: float | None = None,
              submission_timeout: float | None = None, report: Path | None = None,
              scheduler: str | None = None, resume: bool = False, graph: bool = False) -> list[Outcome]:
    """Grade every entry of `folder`; writes the gradebook `out`, the class's mistakes beside it
    (`mistakes_path`), the feedback files and, given `report`, the HTML class report. With
    `scheduler`, the grading is done on that Dask cluster (`grading.classroom.cluster`); with `resume`, the
    submissions whose feedback file is kept (`kept_feedback`) are not graded again. With `graph`,
    each failing graph exercise's feedback has the graph beside the reference's (`grading.engine.graph_report`)."""
    from grading.core.integrity import verify
    from grading.engine.processes import signals_held, stopped_how
    from grading.engine.runner import current_sources, grade_many

    entries = submission_entries(folder)
    started = time.perf_counter()
    show = progress_stream is not None and progress_stream.isatty()
    with tempfile.TemporaryDirectory(prefix="kata-batch-") as tmp:
        outcomes = [Outcome(name, "graded", None, shown_name(path.name))
                    for path, name in zip(entries, submission_names(entries))]
        gradable: list[tuple[int, Path]] = []
        recorded: set[int] = set()
        errors: list[int] = []
        integrity = None
        checks_sha256 = ""
        began = time.perf_counter()
        from grading.engine.graph_report import batch_graphs

        graphs = batch_graphs(catalog) if graph else []

        def record(index: int, run) -> None:
            """Each submission's feedback is written as soon as it is graded: a batch that is
            stopped half-way keeps what it had done."""
            n = gradable[index][0]
            recorded.add(n)
            if isinstance(run, str):  # not graded (on a cluster: see grading.classroom.cluster)
                outcomes[n].status, outcomes[n].result = run, None
            else:
                outcomes[n].result = _report(run, catalog, integrity, checks_sha256)
                outcomes[n].result["target"] = shown_name(str(entries[n]))
            if isinstance(run, str) or any(e.status == "error" for e in run.exercises):
                errors.append(n)
            if feedback is not None:
                _write_feedback(feedback, outcomes[n])
            if show:
                progress_stream.write("\r" + progress_line(len(recorded), len(gradable), len(errors),
                                                           time.perf_counter() - began))
                progress_stream.flush()

        grade = grade_many
        if scheduler is not None:
            from grading.classroom.cluster import grade_on_cluster

            grade = functools.partial(grade_on_cluster, scheduler=scheduler, jobs=jobs)
        try:
            for n, path in enumerate(entries):
                workdir = Path(tmp) / f"{n:05d}"
                workdir.mkdir()
                try:
                    # absolute and resolved: the grading processes run in working folders of their own
                    gradable.append((n, prepare(path, workdir).resolve()))
                except SubmissionError as exc:
                    outcomes[n].status = "error: " + visible(exc, keep="")
            # one grading run for all of them: each of the `jobs` grading processes collects the checks
            # once and grades whole submissions, one after the other
            integrity = verify()
            checks_sha256 = current_sources().digest()
            if feedback is not None:
                feedback.mkdir(parents=True, exist_ok=True)
            if resume and feedback is not None:
                for item in list(gradable):
                    kept = kept_feedback(feedback, outcomes[item[0]].name, outcomes[item[0]].entry, checks_sha256, seed)
                    if kept is not None:
                        outcomes[item[0]].result = kept
                        gradable.remove(item)
                if progress_stream is not None:
                    progress_stream.write(f"resuming: {len(entries) - len(gradable)} submissions kept from "
                                          f"{shown_name(str(feedback))}, {len(gradable)} to grade\n")
            began = time.perf_counter()
            runs = grade([t for _, t in gradable], list(catalog), seed=seed, timeout=timeout,
                         memory_mb=memory_mb, lanes=jobs, isolation=isolation,
                         exercise_timeout=exercise_timeout, submission_timeout=submission_timeout,
                         on_complete=record, graph=graphs) if gradable else []
        except BaseException as stop:  # Ctrl-C, SIGTERM, SIGHUP: the gradebook still gets a row for every submission
            how = stopped_how(stop)
            for n, o in enumerate(outcomes):
                if o.status == "graded" and o.result is None and n not in recorded:
                    o.status, o.result = f"error: not graded (the batch was stopped{' ' + how if how else ''})", None
                    if feedback is not None and feedback.is_dir():
                        _write_feedback(feedback, o)
            with signals_held():  # a second signal waits until the gradebook is written
                written = write_class_files(outcomes, catalog, out, report=report, seed=seed, source=folder)
            if progress_stream is not None:
                progress_stream.write(f"\nstopped: wrote {', '.join(shown_name(str(p)) for p in written)}\n")
            raise
        if graphs:  # the reference's graphs, graded once the submissions are (never in their processes' memory)
            from grading.engine.graph_report import beside_the_reference
            from grading.reports.graph_text import plain

            beside_the_reference([r for r in runs if not isinstance(r, str)], catalog, seed=seed, text=plain,
                                 timeout=timeout, memory_mb=memory_mb)
        for (n, _), run in zip(gradable, runs):  # the final word on each (written early, it is written again)
            if isinstance(run, str):
                outcomes[n].status, outcomes[n].result = run, None
                continue
            outcomes[n].result = _report(run, catalog, integrity, checks_sha256)
            outcomes[n].result["target"] = shown_name(str(entries[n]))
    with signals_held():  # the class is graded: a signal that comes now waits until its files are written
        if show:
            progress_stream.write("\n")
        written = write_class_files(outcomes, catalog, out, report=report, seed=seed, source=folder)
        if feedback is not None:
            for o in outcomes:
                _write_feedback(feedback, o)
    elapsed = time.perf_counter() - started
    if progress_stream is not None:
        per = elapsed / max(1, len(entries))
        progress_stream.write(f"graded {len(entries)} submissions in {elapsed:.1f} s ({per:.2f} s each) "
                              f"with seed {seed}; reproduce with --seed {seed}\n")
        progress_stream.write(f"wrote {', '.join(shown_name(str(p)) for p in written)}\n")
    return outcomes
