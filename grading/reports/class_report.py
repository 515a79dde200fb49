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
import math
import statistics
from datetime import datetime
from pathlib import Path

from grading.core.atomic import write_atomic
from grading.core.gradebook import ClassMistake, Outcome, class_mistakes, graded_outcomes, integrity_cell
from grading.core.catalog import Catalog
from grading.reports.formats import html_text

TOP_MISTAKES = 5  # per exercise on the page; mistakes.csv has them all
MESSAGE_LIMIT = 1500  # characters of a learner's message shown; the rest is cut
MAX_BINS = 12  # bars of the score histogram at most

# An exercise's state in a submission, as the page shows it: its report's status, except that an
# exercise that passed but scores 0 in the gradebook (its code read the solutions, or its checks
# were modified) is "flagged".
STATES = {  # state: (label, symbol, rank when sorting)
    "passed": ("passed", "\u2713", 4),
    "flagged": ("passed but flagged: scores 0", "\u2691", 3),
    "failed": ("failed", "\u2717", 2),
    "error": ("error", "!", 1),
    "not_started": ("not started", "\u25cb", 0),
}


esc = html_text  # every text of the page: control characters shown as escapes, then HTML-escaped


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


def _num(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.1f}"


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "\u2013"


def _rich(text: str) -> str:
    """A learner's message as HTML: escaped, with `code` in backticks shown as code."""
    text = text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT].rstrip() + " \u2026"
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: plain text
        return esc(text)
    return "".join(f"<code>{esc(p)}</code>" if i % 2 else esc(p) for i, p in enumerate(parts))


# ------------------------------------------------------------------ charts (inline SVG)


def histogram_bins(max_total: float) -> tuple[float, int]:
    """(width, number) of the histogram's bins over 0..max_total: whole points, at most MAX_BINS."""
    top = max(0, math.ceil(max_total))
    width = max(1, math.ceil((top + 1) / MAX_BINS))
    return width, math.ceil((top + 1) / width)


def bin_counts(totals: list[float], max_total: float) -> list[int]:
    width, n = histogram_bins(max_total)
    counts = [0] * n
    for t in totals:
        counts[min(n - 1, max(0, int(t // width)))] += 1
    return counts


def score_histogram(totals: list[float], max_total: float) -> str:
    width, n = histogram_bins(max_total)
    counts = bin_counts(totals, max_total)
    top = max(counts, default=0) or 1
    w, h, left, bottom, pad = 560, 300, 36, 44, 22
    plot_h = h - bottom - pad
    step = (w - left - 10) / n
    parts = [f'<svg class="chart histogram" viewBox="0 0 {w} {h}" role="img" '
             f'aria-labelledby="hist-title" xmlns="http://www.w3.org/2000/svg">',
             '<title id="hist-title">Number of submissions by total score</title>']
    for k in range(0, top + 1, max(1, math.ceil(top / 5))):  # a few horizontal grid lines
        y = pad + plot_h - plot_h * k / top
        parts.append(f'<line class="grid" x1="{left}" x2="{w - 10}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{k}</text>')
    for i, count in enumerate(counts):
        lo, hi = i * width, min(i * width + width - 1, math.ceil(max_total))
        label = f"{lo}" if lo == hi else f"{lo}\u2013{hi}"
        bar_h = plot_h * count / top
        x = left + i * step + 2
        y = pad + plot_h - bar_h
        parts.append(
            f'<rect class="bin" data-from="{lo}" data-to="{hi}" data-count="{count}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{step - 4:.1f}" height="{bar_h:.1f}"><title>{label} points: {count} '
            f'submission{"" if count == 1 else "s"}</title></rect>')
        if count:
            parts.append(f'<text class="value" x="{x + (step - 4) / 2:.1f}" y="{y - 5:.1f}" '
                         f'text-anchor="middle">{count}</text>')
        parts.append(f'<text class="axis" x="{x + (step - 4) / 2:.1f}" y="{h - bottom + 16}" '
                     f'text-anchor="middle">{label}</text>')
    parts.append(f'<line class="baseline" x1="{left}" x2="{w - 10}" y1="{pad + plot_h}" y2="{pad + plot_h}"/>'
                 f'<text class="axis" x="{(w + left) / 2:.0f}" y="{h - 6}" text-anchor="middle">'
                 f'total score (of {_num(max_total)})</text></svg>')
    return "".join(parts)


def pass_rate_bars(rows: list[tuple[object, dict[str, int]]]) -> str:
    """One stacked bar per exercise: how many graded submissions are in each state."""
    w, row_h, gap, left, right = 560, 16, 5, 42, 112
    h = len(rows) * (row_h + gap) + 8
    bar_w = w - left - right
    parts = [f'<svg class="chart pass-rates" viewBox="0 0 {w} {h}" role="img" aria-labelledby="rate-title" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="rate-title">Pass rate per exercise</title>']
    for n, (ex, counts) in enumerate(rows):
        size = sum(counts.values())
        y = 4 + n * (row_h + gap)
        parts.append(f'<g class="exercise-bar" data-exercise="{esc(ex.id)}" data-passed="{counts["passed"]}" '
                     f'data-graded="{size}"><text class="axis" x="{left - 8}" y="{y + row_h - 5}" '
                     f'text-anchor="end">{esc(ex.short)}</text>'
                     f'<rect class="track" x="{left}" y="{y}" width="{bar_w}" height="{row_h}"/>')
        x = float(left)
        for state, count in counts.items():
            if not count:
                continue
            seg = bar_w * count / size
            parts.append(f'<rect class="seg {state}" x="{x:.1f}" y="{y}" width="{seg:.1f}" height="{row_h}">'
                         f'<title>{esc(ex.short)} {esc(ex.title)}: {count} {STATES[state][0]}</title></rect>')
            x += seg
        parts.append(f'<text class="value" x="{left + bar_w + 8}" y="{y + row_h - 5}">'
                     f'{_pct(counts["passed"], size)} ({counts["passed"]}/{size})</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def legend() -> str:
    return '<p class="legend">' + "".join(
        f'<span><i class="swatch {state}"></i>{esc(label)}</span>' for state, (label, _, _) in STATES.items()) + "</p>"


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

STYLE = """
:root { --passed:#2e7d32; --flagged:#7b1fa2; --failed:#e65100; --error:#c62828; --not_started:#b0b7c3;
  --ink:#1d2330; --muted:#5b6474; --line:#dde1e8; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px 28px 48px; color: var(--ink); background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1 { font-size: 26px; margin: 0 0 2px; } h2 { font-size: 19px; margin: 32px 0 8px;
  border-bottom: 2px solid var(--line); padding-bottom: 4px; } h3 { font-size: 16px; margin: 18px 0 2px; }
.sub, .note, .more, .empty, .legend { color: var(--muted); } .note { margin: 0 0 6px; font-size: 14px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 4px; padding: 0; list-style: none; }
.cards li { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
  min-width: 150px; } .cards b { display: block; font-size: 24px; } .cards span { color: var(--muted); font-size: 13px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 28px; align-items: start; }
@media (max-width: 1000px) { .charts { grid-template-columns: 1fr; } }
.chart { width: 100%; max-width: 640px; height: auto; display: block; font-size: 12.5px; }
.chart .bin { fill: #3d6fb6; } .chart .grid { stroke: var(--line); } .chart .baseline { stroke: var(--muted); }
.chart .axis { fill: var(--muted); } .chart .value { fill: var(--ink); font-weight: 600; }
.chart .track { fill: var(--bg); stroke: var(--line); }
.seg.passed, .swatch.passed { fill: var(--passed); background: var(--passed); }
.seg.flagged, .swatch.flagged { fill: var(--flagged); background: var(--flagged); }
.seg.failed, .swatch.failed { fill: var(--failed); background: var(--failed); }
.seg.error, .swatch.error { fill: var(--error); background: var(--error); }
.seg.not_started, .swatch.not_started { fill: var(--not_started); background: var(--not_started); }
.legend { font-size: 13px; display: flex; flex-wrap: wrap; gap: 14px; margin: 6px 0 0; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
table.mistakes td.count { font-weight: 700; font-variant-numeric: tabular-nums; width: 6em; }
table.mistakes td.share { width: 11em; white-space: nowrap; } table.mistakes td.example { width: 12em; }
tr.mistake td { border-bottom: 0; padding-top: 8px; }
.meter { display: inline-block; width: 70px; height: 8px; background: var(--bg); border: 1px solid var(--line);
  border-radius: 4px; vertical-align: 0; overflow: hidden; } .meter span { display: block; height: 100%; background: var(--failed); }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: var(--bg); padding: 0 3px; border-radius: 3px; }
code.id { color: var(--muted); font-size: 12px; background: none; }
.message { white-space: pre-wrap; overflow-wrap: anywhere; background: #fbfbfc; border-left: 3px solid var(--failed);
  padding: 6px 10px; font-size: 13.5px; color: #2b3240; }
tr.attention.error td:nth-child(3) { color: var(--error); font-weight: 600; }
tr.attention.flagged td:nth-child(3) { color: var(--flagged); font-weight: 600; }
.scroll { overflow-x: auto; }
table.students { font-size: 13px; } table.students th, table.students td { padding: 3px 4px; white-space: nowrap; }
table.students thead th { text-transform: none; font-size: 12px; letter-spacing: 0; }
table.students tbody th { font-weight: 600; max-width: 16em; overflow: hidden; text-overflow: ellipsis; }
table.students td.total { font-weight: 700; text-align: right; font-variant-numeric: tabular-nums; }
table.students td.st { text-align: center; font-weight: 700; width: 2.2em; }
td.st.passed { color: var(--passed); } td.st.flagged { color: var(--flagged); } td.st.failed { color: var(--failed); }
td.st.error { color: var(--error); } td.st.not_started, td.st.none { color: var(--not_started); }
table.students td.notes { color: var(--muted); white-space: normal; min-width: 12em; }
table.students tbody tr:nth-child(even) { background: #fafbfc; }
th button { all: unset; cursor: pointer; } th button::after { content: " \\2195"; opacity: .35; }
th[aria-sort=ascending] button::after { content: " \\25b2"; opacity: 1; }
th[aria-sort=descending] button::after { content: " \\25bc"; opacity: 1; }
th button:focus-visible { outline: 2px solid #3d6fb6; }
footer { margin-top: 36px; font-size: 12px; color: var(--muted); }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; } .charts > div, .exercise-mistakes, .cards, tr { break-inside: avoid; }
  .charts { grid-template-columns: 1fr 1fr; } .scroll { overflow: visible; }
  thead { display: table-header-group; } th button::after { content: none; }
  table.students { font-size: 8pt; } table.students td.notes { min-width: 0; }
}
"""

SCRIPT = """(function () {
  var table = document.getElementById("student-table");
  if (!table) return;
  var heads = table.tHead.rows[0].cells, body = table.tBodies[0];
  function key(row, i) {
    var cell = row.cells[i], value = cell.getAttribute("data-sort");
    return value === null ? cell.textContent.trim().toLowerCase() : value;
  }
  function sort(i, desc) {
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.every(function (r) { var k = key(r, i); return k !== "" && !isNaN(k); });
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      var d = numeric ? x - y : (x < y ? -1 : x > y ? 1 : 0);
      if (d === 0) { x = key(a, 0); y = key(b, 0); return x < y ? -1 : x > y ? 1 : 0; }
      return desc ? -d : d;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var j = 0; j < heads.length; j++) heads[j].removeAttribute("aria-sort");
    heads[i].setAttribute("aria-sort", desc ? "descending" : "ascending");
  }
  function byKey(name) {
    for (var i = 0; i < heads.length; i++) if (heads[i].getAttribute("data-key") === name) return i;
    return -1;
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    var button = document.createElement("button");
    button.type = "button";
    button.title = "sort by this column";
    while (th.firstChild) button.appendChild(th.firstChild);
    th.appendChild(button);
    button.addEventListener("click", function () {
      var now = th.getAttribute("aria-sort");
      sort(i, now ? now === "ascending" : th.getAttribute("data-order") === "desc");
    });
  });
  var wanted = /^#sort=([\\w-]+?)(?:-(asc|desc))?$/.exec(location.hash);
  if (wanted && byKey(wanted[1]) >= 0) {
    var i = byKey(wanted[1]);
    sort(i, wanted[2] ? wanted[2] === "desc" : heads[i].getAttribute("data-order") === "desc");
  }
  table.setAttribute("data-sortable", "ready");
})();"""


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
