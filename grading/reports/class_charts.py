"""The class page's charts, inline SVG: the score histogram and the pass rate of each exercise, and
the states of an exercise they show."""

from __future__ import annotations

import math

from grading.reports.formats import html_text


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


def _num(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.1f}"


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "\u2013"


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
