"""Machine-readable reports: pure functions of one RunResult.

- `json`: the kata's own shape (documented in the README).
- `gradescope`: Gradescope's results.json, one test per exercise.
- `junit`: JUnit XML, one testsuite per exercise and one testcase per check.

Classroom formats (gradescope, junit) score 0 for exercises whose integrity is in
doubt (modified checks, an import of the reference solutions).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from .results import ExerciseResult, RunResult


def classroom_score(run: RunResult, exercise: ExerciseResult) -> float:
    return 0.0 if exercise.flags or exercise.id in run.integrity_affected else exercise.score


def _exercise_report(run: RunResult, e: ExerciseResult) -> str:
    """What a student reads for one exercise on a grading platform."""
    passed, total = e.counts
    lines = []
    for flag in e.flags:
        lines.append(f"INTEGRITY: {flag} This exercise scores 0.")
    if e.id in run.integrity_affected:
        lines.append("INTEGRITY: the checks of this exercise were modified or are missing. This exercise scores 0.")
    if e.error:
        lines.append(e.error)
    if e.passed:
        lines.append("The one check passes." if total == 1 else f"All {total} checks pass.")
    elif e.status == "not_started":
        lines.append("Not started: the function still raises NotImplementedError.")
    else:
        lines.append(f"{passed} of {total} checks pass.")
        shown = set()
        for c in e.checks:
            if c.passed or c.message in shown:
                continue
            shown.add(c.message)
            lines.append(f"\n[{c.status}] {c.name}\n{c.message}")
    return "\n".join(lines)


def _integrity_lines(run: RunResult) -> list[str]:
    lines = []
    for path in run.integrity.get("modified", []):
        lines.append(f"INTEGRITY: {path} differs from the kata's original.")
    for path in run.integrity.get("missing", []):
        lines.append(f"INTEGRITY: {path} is missing.")
    return lines


def to_json(run: RunResult) -> str:
    return json.dumps(run.to_dict(), indent=2)


def to_gradescope(run: RunResult) -> dict:
    tests = []
    for e in run.exercises:
        tests.append({
            "name": f"{e.id[:4]} {e.title}",
            "number": str(int(e.id[2:4])),
            "score": float(classroom_score(run, e)),
            "max_score": float(e.max_score),
            "status": "passed" if classroom_score(run, e) == e.max_score and e.passed else "failed",
            "output": _exercise_report(run, e),
            "visibility": "visible",
        })
    passed = sum(t["status"] == "passed" for t in tests)
    summary = [f"{passed} of {len(tests)} exercises pass (random inputs drawn with seed {run.seed})."]
    summary += _integrity_lines(run)
    if not run.complete:
        summary.append("Grading did not finish: the exercises without a result score 0.")
    return {
        "score": float(sum(t["score"] for t in tests)),
        "execution_time": int(round(run.duration)),
        "output": "\n".join(summary),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def to_junit(run: RunResult) -> str:
    suites = ET.Element("testsuites", name="autograd kata", tests=str(sum(len(e.checks) for e in run.exercises)))
    for e in run.exercises:
        checks = e.checks
        failures = sum(c.status == "failed" for c in checks)
        errors = sum(c.status in ("error", "timeout", "crashed") for c in checks)
        extra = e.error or e.flags or e.id in run.integrity_affected
        suite = ET.SubElement(suites, "testsuite", name=e.id, tests=str(len(checks) + (1 if extra else 0)),
                              failures=str(failures), errors=str(errors + (1 if extra else 0)),
                              time=f"{sum(c.duration for c in checks):.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="score", value=f"{classroom_score(run, e):g}")
        ET.SubElement(props, "property", name="max_score", value=f"{e.max_score:g}")
        ET.SubElement(props, "property", name="seed", value=str(run.seed))
        if extra:
            case = ET.SubElement(suite, "testcase", classname=e.id, name="(exercise)", time="0.000")
            problems = list(e.flags) + ([e.error] if e.error else [])
            if e.id in run.integrity_affected:
                problems.append("the checks of this exercise were modified or are missing")
            node = ET.SubElement(case, "error", message=problems[0].splitlines()[0], type="integrity" if (
                e.flags or e.id in run.integrity_affected) else "grading")
            node.text = "\n".join(problems)
        for c in checks:
            case = ET.SubElement(suite, "testcase", classname=e.id, name=c.name, time=f"{c.duration:.3f}")
            if c.status == "failed":
                node = ET.SubElement(case, "failure", message=c.message.splitlines()[0] if c.message else "",
                                     type="failed")
                node.text = c.message
            elif c.status != "passed":
                node = ET.SubElement(case, "error", message=c.message.splitlines()[0] if c.message else "",
                                     type=c.status)
                node.text = c.message
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render(run: RunResult, fmt: str) -> str:
    if fmt == "json":
        return to_json(run)
    if fmt == "gradescope":
        return json.dumps(to_gradescope(run), indent=2)
    if fmt == "junit":
        return to_junit(run)
    raise ValueError(fmt)


CLASSROOM_FORMATS = ("gradescope", "junit")
MACHINE_FORMATS = ("json",) + CLASSROOM_FORMATS
