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

import functools
import json
import tempfile
import time
from pathlib import Path

from grading.core.atomic import write_atomic
from grading.core.catalog import Catalog
from grading.core.options import Options
from grading.core.gradebook import Outcome
from grading.classroom.intake import SubmissionError, prepare, shown_name, submission_entries, submission_names
from grading.reports.gradebook import mistakes_path, write_csv, write_mistakes_csv
from grading.reports.formats import visible

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


def run_batch(folder: Path, catalog: Catalog, out: Path, *, seed: int, feedback: Path | None,
              options: "Options | None" = None, progress_stream=None, report: Path | None = None,
              scheduler: str | None = None, resume: bool = False, graph: bool = False, **limits) -> list[Outcome]:
    """Grade every entry of `folder`; writes the gradebook `out`, the class's mistakes beside it
    (`mistakes_path`), the feedback files and, given `report`, the HTML class report. With
    `scheduler`, the grading is done on that Dask cluster (`grading.classroom.cluster`); with `resume`, the
    submissions whose feedback file is kept (`kept_feedback`) are not graded again. With `graph`,
    each failing graph exercise's feedback has the graph beside the reference's (`grading.engine.graph_report`).
    `options`: the grading limits (`grading.core.options.Options`; `limits`, such as jobs=2 or
    timeout=5, change some of them)."""
    from grading.core.integrity import verify
    from grading.engine.signals import signals_held, stopped_how
    from grading.engine.runner import current_sources, grade_many, run_options

    options = run_options(options, limits)

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

            grade = functools.partial(grade_on_cluster, scheduler=scheduler)
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
            runs = grade([t for _, t in gradable], list(catalog), seed=seed, options=options,
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
                                 options=options)
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
