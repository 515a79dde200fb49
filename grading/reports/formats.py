"""Machine-readable reports: pure functions of one RunResult.

- `json`: the kata's own shape (documented in the README).
- `gradescope`: Gradescope's results.json, one test per exercise, its text in markdown
  (`output_format: "md"`): the messages' `code` stays code, the learner's output and
  tracebacks go in fenced code blocks, everything else is escaped to read as written.
- `junit`: JUnit XML as pytest's junitxml writes it, one testsuite per exercise and one testcase
  per check (classname `checks.test_exNN_name`), valid against the Jenkins JUnit schema whatever
  the learner's code printed or raised.

Classroom formats (gradescope, junit) score 0 for exercises whose integrity is in
doubt (modified checks, an import of the reference solutions).

Whatever a learner's code can influence (messages, output, tracebacks, names) passes through
`clean_text` first: terminal colour and cursor codes are dropped, and the control characters
that XML 1.0 forbids, and that no report should carry, are shown as `\\xNN` escapes.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from grading.core.results import CheckResult, ExerciseResult, RunResult, confinement

# ------------------------------------------------------------------ text a learner's code influenced

# ANSI escape sequences: CSI (colours, cursor moves), OSC (titles, links), and two-byte ones
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~])")
# what stays: tab, newline and every character XML 1.0 allows, less the C1 controls and DEL
_UNSAFE = re.compile("[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape_char(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _show_char(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that is not UTF-8 (Python's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return _escape_char(match)


def visible(text, keep: str = "\n\t") -> str:
    """`text` as the terminal, a CSV cell or a web page shows it, never interprets it: every control
    character but those in `keep` (escape sequences, carriage returns, backspaces included), lone
    surrogates and U+FFFE / U+FFFF written as visible escapes (`\\x1b`, `\\ud83d`); a byte of a file
    name that is not UTF-8 as `\\xNN`. A Windows line end is a line end. With keep="" (a name),
    one line."""
    text = str(text)
    if "\n" in keep:
        text = text.replace("\r\n", "\n")
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _show_char(m), text)


def html_text(text) -> str:
    """Text for an HTML page (the class report, a notebook's check cell): `visible`, then escaped."""
    import html

    return html.escape(visible(text), quote=True)


def clean_text(text: str) -> str:
    """`text` safe for XML 1.0, JSON and markdown: ANSI codes dropped, line ends made `\\n`, other
    control characters (and lone surrogates, U+FFFE, U+FFFF) written as visible escapes."""
    text = _ANSI.sub("", str(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub(_escape_char, text)


# ------------------------------------------------------------------ markdown (Gradescope's "md")

_MD_ALWAYS = set("\\*[]<>|~")
_WORD = re.compile(r"[^\W_]")  # a letter or digit
_CODE_RUN = re.compile(r"`+")


def _escape_plain(text: str) -> str:
    """Markdown for plain text (no code spans): every character that could format is escaped."""
    out = []
    for i, ch in enumerate(text):
        if ch in _MD_ALWAYS or ch == "`":
            out.append("\\" + ch)
        elif ch == "_":  # an underscore inside a word (ex03_sgd_step) never formats; elsewhere it may
            inside = 0 < i < len(text) - 1 and _WORD.match(text[i - 1]) and _WORD.match(text[i + 1])
            out.append(ch if inside else "\\_")
        elif ch == "&" and re.match(r"&#?\w+;", text[i:]):  # an entity such as &lt; stays as typed
            out.append("\\&")
        else:
            out.append(ch)
    return "".join(out)


def _md_line(line: str) -> str:
    """One line of prose as markdown: `code spans` kept, the rest escaped, no block syntax."""
    out, pos = [], 0
    while pos < len(line):
        run = _CODE_RUN.search(line, pos)
        if run is None:
            out.append(_escape_plain(line[pos:]))
            break
        # a code span closes at the next run of exactly as many backticks
        close = next((m for m in _CODE_RUN.finditer(line, run.end()) if len(m.group()) == len(run.group())), None)
        if close is None:
            out.append(_escape_plain(line[pos:]))
            break
        out.append(_escape_plain(line[pos:run.start()]))
        out.append(line[run.start():close.end()])
        pos = close.end()
    text = "".join(out)
    # what would open a block at the start of a line: a heading, quote, list item, rule, setext line
    if re.match(r"[#>+=-]", text):
        text = "\\" + text
    text = re.sub(r"^(\d+)([.)])", r"\1\\\2", text)
    return text


def md_text(text: str) -> str:
    """Prose for Gradescope's markdown: `code` in backticks renders as code, everything else as
    typed; line breaks are kept, blank lines separate paragraphs, and a block of lines indented
    by four spaces (a source excerpt in a message) becomes a code block."""
    lines = clean_text(text).strip("\n").split("\n")
    out: list[str] = []
    excerpt: list[str] = []

    def flush_excerpt():
        if excerpt:
            out.append(md_block("\n".join(excerpt)))
            excerpt.clear()

    paragraph: list[str] = []

    def flush_paragraph():
        if paragraph:
            out.append("  \n".join(paragraph))  # two spaces: a line break that renders
            paragraph.clear()

    for line in lines:
        if line.startswith(("    ", "\t")):
            flush_paragraph()
            excerpt.append(line)
            continue
        flush_excerpt()
        if not line.strip():
            flush_paragraph()
            continue
        paragraph.append(_md_line(line.strip()))
    flush_paragraph()
    flush_excerpt()
    return "\n\n".join(out)


def md_code(text: str) -> str:
    """An inline code span holding `text` exactly (on one line)."""
    text = clean_text(text).replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_block(text: str) -> str:
    """A fenced code block holding `text` exactly: nothing in it is read as markdown or HTML."""
    text = clean_text(text).strip("\n")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


# ------------------------------------------------------------------ scores


def classroom_score(run: RunResult, exercise: ExerciseResult) -> float:
    return 0.0 if exercise.flags or exercise.id in run.integrity_affected else exercise.score


def _shows_traceback(c: CheckResult) -> bool:
    """The traceback helps where the learner's own code raised (not for a check's assertion about
    the result, a stub's NotImplementedError or a file that cannot be imported)."""
    return bool(c.traceback and c.location and c.status != "failed" and not c.not_implemented
                and not c.load_error)


def _exercise_report(run: RunResult, e: ExerciseResult) -> str:
    """What a student reads for one exercise on a grading platform (markdown)."""
    passed, total = e.counts
    blocks = []
    for flag in e.flags:
        blocks.append(md_text(f"INTEGRITY: {flag} This exercise scores 0."))
    if e.id in run.integrity_affected:
        blocks.append(md_text("INTEGRITY: the checks of this exercise were modified or are missing. "
                              "This exercise scores 0."))
    if e.error:
        blocks.append(md_text(e.error))
    if e.passed:
        blocks.append("The one check passes." if total == 1 else f"All {total} checks pass.")
    elif e.status == "not_started":
        blocks.append(md_text("Not started: the function still raises `NotImplementedError`."))
    else:
        blocks.append(f"{passed} of {total} checks pass.")
        shown = set()
        for c in e.checks:
            if c.passed or c.message in shown:
                continue
            shown.add(c.message)
            blocks.append(f"**{c.status}** {md_code(c.name)}")
            if c.mistake_title:
                blocks.append(f"**Mistake:** {md_text(c.mistake_title)}")
            blocks.append(md_text(c.message or "the check failed (no further explanation)"))
            if _shows_traceback(c):
                blocks.append("Traceback, from your code on:\n\n" + md_block(c.traceback))
            if c.output.strip():
                blocks.append("What your code printed:\n\n" + md_block(c.output))
        if e.graph is not None and e.graph.get("text"):
            blocks.append("Your autograd graph beside the reference's:\n\n" + md_block(e.graph["text"]))
    return "\n\n".join(blocks)


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
    """Gradescope's results.json (see tests/schemas/gradescope-results.schema.json)."""
    tests = []
    for e in run.exercises:
        score = classroom_score(run, e)
        passed, total = e.counts
        tests.append({
            "name": clean_text(f"{e.id[:4]} {e.title}"),
            "number": str(int(e.id[2:4])),
            "score": float(score),
            "max_score": float(e.max_score),
            "status": "passed" if score == e.max_score and e.passed else "failed",
            "output": _exercise_report(run, e),
            "output_format": "md",
            "visibility": "visible",
            "extra_data": {"exercise": e.id, "status": e.status, "checks_passed": passed, "checks_total": total},
        })
    passed = sum(t["status"] == "passed" for t in tests)
    summary = [f"{passed} of {len(tests)} exercises pass (random inputs drawn with seed {run.seed})."]
    summary += _integrity_lines(run)
    if run.sandbox:
        summary.append(confinement(run.sandbox))
    if not run.complete:
        summary.append("Grading did not finish: the exercises without a result score 0.")
    return {
        "score": float(sum(t["score"] for t in tests)),
        "execution_time": int(round(run.duration)),
        "output": "\n\n".join(md_text(line) for line in summary),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"seed": run.seed, "complete": run.complete, "sandbox": run.sandbox},
        "tests": tests,
    }


# ------------------------------------------------------------------ JUnit XML


def junit_classname(exercise_id: str, check: str = "") -> tuple[str, str]:
    """(classname, name) as pytest's junitxml derives them from the check's node id:
    `checks/test_ex03_sgd_step.py::test_x[a]` -> (`checks.test_ex03_sgd_step`, `test_x[a]`)."""
    path, bracket, params = f"checks/test_{exercise_id}.py::{check}".partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


# How each check status reads in JUnit, following pytest: an exception raised while the check
# runs (an assertion, the learner's own exception, a stub's NotImplementedError, pytest-timeout's
# "Timeout") is a failure; one raised while setting the check up (the learner's file cannot be
# imported) or tearing it down, or a process that died under it, is an error.
def _junit_verdict(c: CheckResult) -> tuple[str, str] | None:
    if c.status == "passed":
        return None
    if c.status == "failed":
        return "failure", "AssertionError"
    if c.status == "timeout":
        return "failure", "timeout"
    if c.status == "crashed":
        return "error", "crashed"
    if c.load_error:
        return "error", "ExerciseLoadError"
    if c.name.endswith("(teardown)"):
        return "error", "teardown"
    if c.not_implemented:
        return "failure", "NotImplementedError"
    return "failure", "error"


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def to_junit(run: RunResult) -> str:
    suites = ET.Element("testsuites", name="autograd kata")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    total_time = 0.0
    for e in run.exercises:
        cases: list[tuple[ET.Element, str | None]] = []
        problems = list(e.flags) + ([e.error] if e.error else [])
        integrity = bool(e.flags) or e.id in run.integrity_affected
        if e.id in run.integrity_affected:
            problems.append("the checks of this exercise were modified or are missing")
        if problems:  # the exercise as a whole: one testcase of its own
            classname, name = junit_classname(e.id, "(exercise)")
            case = ET.Element("testcase", classname=classname, name=name, time="0.000")
            text = clean_text("\n".join(problems))
            node = ET.SubElement(case, "error", message=_first_line(text),
                                 type="integrity" if integrity else "grading")
            node.text = text
            cases.append((case, "error"))
        for c in e.checks:
            classname, name = junit_classname(e.id, clean_text(c.name))
            case = ET.Element("testcase", classname=classname, name=name, time=f"{c.duration:.3f}")
            verdict = _junit_verdict(c)
            if verdict is not None:
                kind, kind_type = verdict
                message = clean_text(c.message)
                text = message + (f"\n\n{clean_text(c.traceback).rstrip()}" if c.traceback else "")
                node = ET.SubElement(case, kind, message=_first_line(message), type=kind_type)
                node.text = text
            if c.output:
                ET.SubElement(case, "system-out").text = clean_text(c.output)
            cases.append((case, verdict[0] if verdict else None))
        failures = sum(kind == "failure" for _, kind in cases)
        errors = sum(kind == "error" for _, kind in cases)
        duration = sum(c.duration for c in e.checks)
        suite = ET.SubElement(suites, "testsuite", name=e.id, tests=str(len(cases)), failures=str(failures),
                              errors=str(errors), skipped="0", time=f"{duration:.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="score", value=f"{classroom_score(run, e):g}")
        ET.SubElement(props, "property", name="max_score", value=f"{e.max_score:g}")
        ET.SubElement(props, "property", name="seed", value=str(run.seed))
        if run.sandbox:
            ET.SubElement(props, "property", name="sandbox", value=run.sandbox)
        suite.extend(case for case, _ in cases)
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["errors"] += errors
        total_time += duration
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{total_time:.3f}")
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
