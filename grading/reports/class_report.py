"""`python grader.py batch DIR --out grades.csv --report class.html`: the class on one page.

One self-contained HTML file for the instructor, a pure function of the batch's outcomes: the
score distribution (a histogram), the pass rate of each exercise (stacked bars: passed, failed,
not started, error), the known mistakes each exercise met most often, with the message the
learners read, the submissions that could not be graded or were flagged, and a table of every
student that sorts by any column.

It needs nothing but itself: no external script, stylesheet, font or image (its Content Security
Policy forbids every fetch, and allows only its own inline style and, by hash, its one inline
script). The charts are inline SVG drawn here; the script only makes the students' table
sortable, and the page reads the same without it. It prints (`@media print`: landscape, no
buttons, rows kept whole). Every text that comes from a submission (names, entries, messages,
errors) is shown through `esc` (`grading.reports.formats.html_text`): control characters as visible
escapes, then `html.escape`. The file is written whole (`grading.core.atomic`).
"""

from __future__ import annotations

import base64
import hashlib
import statistics
from datetime import datetime
from pathlib import Path

from grading.core.atomic import write_atomic
from grading.core.gradebook import ClassMistake, Outcome, class_mistakes, graded_outcomes, integrity_cell
from grading.core.catalog import Catalog
from grading.reports.class_charts import STATES, _num, _pct, esc, legend, pass_rate_bars, score_histogram
from grading.reports.class_page_assets import SCRIPT, STYLE

TOP_MISTAKES = 5  # per exercise on the page; mistakes.csv has them all
MESSAGE_LIMIT = 1500  # characters of a learner's message shown; the rest is cut


def exercise_state(e: dict) -> str:
    """The state of one exercise of a submission's report (see STATES)."""
    scored = e.get("classroom_score", e.get("score", 0))
    if e.get("status") == "passed":
        return "passed" if scored >= e.get("max_score", 0) else "flagged"
    return e.get("status") if e.get("status") in STATES else "error"


def _by_exercise(o: Outcome) -> dict[str, dict]:
    return {e["id"]: e for e in o.result["exercises"]} if o.result is not None else {}


def _total(o: Outcome) -> float:
    return o.result.get("classroom_score", o.result.get("score", 0.0))


def _rich(text: str) -> str:
    """A learner's message as HTML: escaped, with `code` in backticks shown as code."""
    text = text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT].rstrip() + " \u2026"
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: plain text
        return esc(text)
    return "".join(f"<code>{esc(p)}</code>" if i % 2 else esc(p) for i, p in enumerate(parts))


# ------------------------------------------------------------------ sections


def _mistakes_section(outcomes: list[Outcome], catalog: Catalog, mistakes: list[ClassMistake], size: int) -> str:
    by_exercise: dict[str, list[ClassMistake]] = {}
    for m in mistakes:
        by_exercise.setdefault(m.exercise, []).append(m)
    if not by_exercise:
        return '<p class="empty">No graded submission made a known mistake.</p>'
    titles = {ex.id: ex for ex in catalog}
    blocks = []
    for exercise_id, found in by_exercise.items():
        ex = titles.get(exercise_id)
        failing = unexplained = 0
        for o in graded_outcomes(outcomes):
            e = _by_exercise(o).get(exercise_id)
            if e is None or exercise_state(e) != "failed":
                continue
            failing += 1
            if not any(c.get("mistake") for c in e["checks"] if c.get("status") != "passed"):
                unexplained += 1
        head = f"{esc(ex.short)} \u00b7 {esc(ex.title)}" if ex else esc(exercise_id)
        rows = []
        for m in found[:TOP_MISTAKES]:
            share = m.count / size if size else 0
            rows.append(
                f'<tr class="mistake" data-exercise="{esc(m.exercise)}" data-mistake="{esc(m.id)}" '
                f'data-count="{m.count}"><td><strong>{_rich(m.title or m.id)}</strong> <code class="id">'
                f'{esc(m.id)}</code></td><td class="count">{m.count}</td><td class="share"><span class="meter">'
                f'<span style="width:{100 * share:.1f}%"></span></span> {_pct(m.count, size)}</td>'
                f'<td class="example">{esc(m.submissions[0])}</td></tr>'
                f'<tr class="explanation"><td colspan="4"><div class="message">{_rich(m.message)}</div></td></tr>')
        more = len(found) - TOP_MISTAKES
        notes = [f"{failing} of {size} graded submissions failed it"]
        if unexplained:
            notes.append(f"{unexplained} of them without a known mistake")
        tail = f'<p class="more">and {more} more in the mistakes CSV</p>' if more > 0 else ""
        blocks.append(
            f'<div class="exercise-mistakes" data-exercise="{esc(exercise_id)}"><h3>{head}</h3>'
            f'<p class="note">{"; ".join(notes)}.</p><table class="mistakes"><thead><tr><th>mistake</th>'
            f'<th>submissions</th><th>share</th><th>for example</th></tr></thead><tbody>{"".join(rows)}'
            f'</tbody></table>{tail}</div>')
    return "".join(blocks)


def _attention_section(outcomes: list[Outcome]) -> str:
    rows = []
    for o in outcomes:
        if o.result is None:
            kind, what = "error", o.status
        elif integrity_cell(o) != "ok":
            kind, what = "flagged", integrity_cell(o)
        else:
            continue
        rows.append(f'<tr class="attention {kind}" data-name="{esc(o.name)}"><td>{esc(o.name)}</td>'
                    f'<td>{esc(o.entry)}</td><td>{kind}</td><td>{esc(what)}</td></tr>')
    if not rows:
        return '<p class="empty">Every submission was graded, and none was flagged.</p>'
    return ('<table class="attention-list"><thead><tr><th>submission</th><th>entry</th><th>what</th>'
            f'<th>details</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _students_table(outcomes: list[Outcome], catalog: Catalog) -> str:
    head = ['<th data-key="name" scope="col">student</th>',
            '<th data-key="total" data-order="desc" scope="col">total</th>']
    head += [f'<th data-key="{esc(ex.short)}" data-order="desc" scope="col" title="{esc(ex.title)}">'
             f'{esc(ex.short)}</th>' for ex in catalog]
    head.append('<th data-key="notes" scope="col">notes</th>')
    rows = []
    for o in outcomes:
        by_id = _by_exercise(o)
        total = f"{_num(_total(o))}" if o.result is not None else "\u2013"
        cells = [f'<th scope="row" data-sort="{esc(o.name.casefold())}"'
                 + (f' title="{esc(o.entry)}"' if o.entry and o.entry != o.name else "") + f">{esc(o.name)}</th>",
                 f'<td class="total" data-sort="{_total(o) if o.result is not None else -1}">{total}</td>']
        for ex in catalog:
            e = by_id.get(ex.id)
            if e is None:
                cells.append('<td class="st none" data-sort="-1">\u2013</td>')
                continue
            state = exercise_state(e)
            label, symbol, rank = STATES[state]
            passed = sum(c.get("status") == "passed" for c in e["checks"])
            cells.append(f'<td class="st {state}" data-sort="{rank}" title="{esc(ex.short)}: {esc(label)}, '
                         f'{passed} of {len(e["checks"])} checks pass">{symbol}</td>')
        notes = o.status if o.result is None else ("" if integrity_cell(o) == "ok" else integrity_cell(o))
        cells.append(f'<td class="notes">{esc(notes)}</td>')
        rows.append(f'<tr class="student" data-name="{esc(o.name)}">{"".join(cells)}</tr>')
    return (f'<div class="scroll"><table id="student-table" class="students"><thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


# ------------------------------------------------------------------ the page


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"


def render_class_report(outcomes: list[Outcome], catalog: Catalog, *, seed: int | None = None,
                        source: Path | None = None, mistakes: list[ClassMistake] | None = None,
                        generated: datetime | None = None) -> str:
    """The page, as text (see the module's docstring)."""
    mistakes = class_mistakes(outcomes, catalog) if mistakes is None else mistakes
    graded = graded_outcomes(outcomes)
    size = len(graded)
    totals = [_total(o) for o in graded]
    max_total = catalog.max_score
    rates = []
    for ex in catalog:
        counts = dict.fromkeys(STATES, 0)
        for o in graded:
            e = _by_exercise(o).get(ex.id)
            if e is not None:
                counts[exercise_state(e)] += 1
        rates.append((ex, counts))
    complete = sum(bool(o.result["exercises"]) and all(exercise_state(e) == "passed" for e in o.result["exercises"])
                   for o in graded)
    attention = sum(o.result is None or integrity_cell(o) != "ok" for o in outcomes)
    median = _num(statistics.median(totals)) if totals else "\u2013"
    mean = _num(round(statistics.fmean(totals), 1)) if totals else "\u2013"
    when = (generated or datetime.now()).strftime("%Y-%m-%d %H:%M")
    about = [f"{len(outcomes)} submission{'' if len(outcomes) == 1 else 's'}"]
    if source is not None:
        about.append(f"from {esc(Path(source).name)}/")
    if seed is not None:
        about.append(f"seed {seed}")
    sandboxes = sorted({o.result.get("sandbox", "") for o in graded} - {""})
    if sandboxes:
        about.append("sandbox: " + ", ".join(esc(sandbox) for sandbox in sandboxes))
    about.append(f"generated {when}")
    cards = [(len(outcomes), "submissions"), (size, "graded"), (f"{median} / {_num(max_total)}", "median total"),
             (mean, "mean total"), (complete, "passed every exercise"), (attention, "need attention")]
    about = " \u00b7 ".join(about)
    key = " ".join(f"{symbol} {esc(label)}" for label, symbol, _ in STATES.values())
    cards_html = "".join(f'<li class="card"><b>{esc(v)}</b><span>{esc(k)}</span></li>' for v, k in cards)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_csp()}">
<title>Class report: the autograd kata</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Class report</h1>
<p class="sub">The autograd kata \u00b7 {about}</p>
<ul class="cards">{cards_html}</ul>
</header>
<div class="charts">
<div><h2 id="distribution">Score distribution</h2>
<p class="note">Total scores of the {size} graded submissions, as in the gradebook.</p>
{score_histogram(totals, max_total)}</div>
<div><h2 id="pass-rates">Pass rate per exercise</h2>
<p class="note">Each bar is the graded submissions; the figure is the share that passed.</p>
{pass_rate_bars(rates)}{legend()}</div>
</div>
<section><h2 id="mistakes">Common mistakes</h2>
<p class="note">The known mistakes each exercise met most often (at most {TOP_MISTAKES}; the mistakes CSV lists
them all), how many submissions made them, and what the learners were told.</p>
{_mistakes_section(outcomes, catalog, mistakes, size)}</section>
<section><h2 id="attention">Needs attention</h2>
<p class="note">Submissions that could not be graded, or whose checks were modified or whose code read the
reference solutions (those exercises score 0).</p>
{_attention_section(outcomes)}</section>
<section><h2 id="students">Students</h2>
<p class="note">One row per submission: the total and each exercise ({key}).
Click a heading to sort.</p>
{_students_table(outcomes, catalog)}</section>
<footer>Written by <code>python grader.py batch</code>. This page needs no network and stays as it is.</footer>
<script>{SCRIPT}</script>
</body>
</html>
"""


def write_class_report(outcomes: list[Outcome], catalog: Catalog, path: Path, **kwargs) -> None:
    """The page, written whole to `path` (see `render_class_report` for the options)."""
    write_atomic(path, render_class_report(outcomes, catalog, **kwargs))
