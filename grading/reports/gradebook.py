"""The gradebook and the class's mistakes as CSV files a spreadsheet opens safely."""

from __future__ import annotations

import csv
from pathlib import Path

from grading.core.atomic import replacing
from grading.core.catalog import Catalog
from grading.core.gradebook import ClassMistake, Outcome, class_mistakes, graded_outcomes, integrity_cell
from grading.reports.formats import visible


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
