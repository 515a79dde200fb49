"""The gradebook model: each submission's outcome in a batch, and the known mistakes the class made."""

from __future__ import annotations

from dataclasses import dataclass

from grading.core.catalog import Catalog


@dataclass
class Outcome:
    name: str  # unique in the batch (see submission_names); also the feedback file's name
    status: str  # "graded" or "error: ..."
    result: dict | None  # RunResult.to_dict() (+ classroom scores), when graded
    entry: str = ""  # the entry of the submissions folder it was graded from: "alice.zip"


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
