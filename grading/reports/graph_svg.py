"""The learner's graph beside the reference's, as a picture: one self-contained SVG file.

A pure function of the comparison `grading.core.graph_data.compare` makes: no graphviz or other
program, no script, no link to anything outside the file; plain SVG 1.1 elements with inline
attributes, text escaped for XML. The layout is `grading.core.graph_data.layers`: the tensors given and
returned at the top, each node a row below the lowest node that leads to it, a long run of steps
of the same shape folded into one box. What only your graph has is drawn in red with a "+", what
only the reference's has in green with a "−", what both have but differently in amber with a "~";
where the graph stops (an input without history) a bar.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from grading.core.graph_data import fold, layers
from grading.reports.graph_text import _Names, shape_text
from grading.reports.style import Style

BOX_H, ROW_GAP, COL_GAP, CHAR_W, PAD = 34, 30, 14, 7.2, 20
COLOURS = {"+": "#cf222e", "-": "#1a7f37", "~": "#9a6700", " ": "#57606a"}
FILL = {"op": "#ffffff", "leaf": "#ddf4ff", "tensor": "#f6f8fa", "stop": "#eaeef2"}


def _attr(value) -> str:
    return escape(str(value), {'"': "&quot;"})


def _box_text(node: dict, names: _Names, plain: Style) -> str:
    if node["kind"] == "stop":
        return "no history"
    text = names(node, plain)
    if node["kind"] == "tensor" and node.get("returned"):
        text += " = result"
    return text


def _panel(graph: dict, diff: dict, mine: bool, names: _Names, x0: float, y0: float, plain: Style):
    """The elements of one graph's panel and its (width, height)."""
    only = set(diff["nodes_only_yours" if mine else "nodes_only_reference"])
    edges_only = {tuple(e) for e in diff["edges_only_yours" if mine else "edges_only_reference"]}
    changed = {c["key"] for c in diff["changed"]}
    sign = "+" if mine else "-"
    rows = layers(graph)
    folded = fold(graph, rows)
    placed: dict[str, tuple[float, float, float]] = {}  # id -> (x, y, width)
    shapes, width, y = [], 0.0, y0
    for index, row in enumerate(rows):
        if folded and folded[0] + 2 * folded[1] <= index < folded[0] + folded[2] * folded[1]:
            if index == folded[0] + 2 * folded[1]:
                label = f"… {folded[2] - 2} more steps of the same shape"
                w = len(label) * CHAR_W + 24
                shapes.append(f'<rect x="{x0:.1f}" y="{y:.1f}" width="{w:.1f}" height="{BOX_H}" rx="6" '
                              f'fill="#f6f8fa" stroke="#8c959f" stroke-dasharray="4 3"/>')
                shapes.append(f'<text x="{x0 + 12:.1f}" y="{y + 21:.1f}" fill="#57606a">{escape(label)}</text>')
                width = max(width, w)
                y += BOX_H + ROW_GAP
            continue
        x = x0
        for n in row:
            text = _box_text(n, names, plain)
            marker = sign if n["key"] in only else "~" if n["key"] in changed else " "
            w = (len(text) + (2 if marker != " " else 0)) * CHAR_W + 20
            if n["kind"] == "stop":
                w = (len(text) + (2 if marker != " " else 0)) * CHAR_W + 30
            placed[n["id"]] = (x, y, w)
            stroke = COLOURS[marker]
            dash = ' stroke-dasharray="5 3"' if n["kind"] == "tensor" else ""
            shapes.append(f'<g><title>{escape(n["kind"] + ": " + text)}</title>'
                          f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{BOX_H}" rx="6" '
                          f'fill="{FILL[n["kind"]]}" stroke="{stroke}" stroke-width="{2.5 if marker != " " else 1}"{dash}/>')
            if n["kind"] == "stop":
                shapes.append(f'<line x1="{x + 8:.1f}" y1="{y + 4:.1f}" x2="{x + 8:.1f}" y2="{y + BOX_H - 4:.1f}" '
                              f'stroke="#24292f" stroke-width="3"/>')
            label = (f"{'−' if marker == '-' else marker} " if marker != " " else "") + text
            shapes.append(f'<text x="{x + (18 if n["kind"] == "stop" else 10):.1f}" y="{y + 21:.1f}" '
                          f'fill="{COLOURS[marker] if marker != " " else "#24292f"}">{escape(label)}</text></g>')
            x += w + COL_GAP
        width = max(width, x - x0 - COL_GAP)
        y += BOX_H + ROW_GAP
    by_id = {n["id"]: n for n in graph["nodes"]}
    lines = []
    for e in graph["edges"]:
        if e["from"] not in placed or e["to"] not in placed:
            continue
        (x1, y1, w1), (x2, y2, w2) = placed[e["from"]], placed[e["to"]]
        a, b = (x1 + w1 / 2, y1 + BOX_H), (x2 + w2 / 2, y2)
        key = (by_id[e["from"]]["key"], by_id[e["to"]]["key"], e["kind"])
        colour = COLOURS[sign] if key in edges_only else "#8c959f"
        dash = ' stroke-dasharray="6 4"' if e["kind"] in ("cut", "before") else ""
        mid = (a[1] + b[1]) / 2
        lines.append(f'<path d="M{a[0]:.1f},{a[1]:.1f} C{a[0]:.1f},{mid:.1f} {b[0]:.1f},{mid:.1f} {b[0]:.1f},{b[1]:.1f}" '
                     f'fill="none" stroke="{colour}" stroke-width="{2 if key in edges_only else 1.2}"{dash} '
                     f'marker-end="url(#arrow)"/>')
        if e["kind"] == "cut":
            lines.append(f'<text x="{(a[0] + b[0]) / 2 + 4:.1f}" y="{mid + 4:.1f}" fill="#57606a">cut</text>')
    if not graph["nodes"]:
        shapes.append(f'<text x="{x0:.1f}" y="{y0 + 20:.1f}" fill="#57606a">{escape(graph["when"] or "nothing recorded")}</text>')
        y += BOX_H
        width = max(width, len(graph["when"] or "") * CHAR_W)
    return lines + shapes, max(width, 220.0), y - y0


def render(comparison: dict, title: str = "") -> str:
    """The SVG document of one comparison (a string)."""
    plain = Style(color=False)
    plain.unicode = True
    yours, theirs, diff = comparison["yours"], comparison["reference"], comparison["differences"]
    names = _Names(yours, theirs)
    top = PAD + 64
    left = _panel(yours, diff, True, names, PAD, top, plain)
    right_x = PAD + left[1] + 60
    right = _panel(theirs, diff, False, names, right_x, top, plain)
    width = right_x + right[1] + PAD
    height = top + max(left[2], right[2]) + PAD + 20
    verdict = ("Your graph matches the reference." if comparison["same"] else
               "+ red: only in your graph   − green: only in the reference's   ~ amber: in both, not the same")
    heading = f"{title}: {comparison['check']}, {comparison['when']}" if title else comparison["check"]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        'font-size="12">',
        f'<title>{escape(heading)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8c959f"/></marker></defs>',
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        f'<text x="{PAD}" y="{PAD + 6}" font-size="14" font-weight="bold" fill="#24292f">{escape(heading)}</text>',
        f'<text x="{PAD}" y="{PAD + 26}" fill="{COLOURS["-"] if comparison["same"] else "#57606a"}">{escape(verdict)}</text>',
        f'<text x="{PAD}" y="{top - 12}" font-weight="bold" fill="#24292f">Your graph</text>',
        f'<text x="{right_x:.1f}" y="{top - 12}" font-weight="bold" fill="#24292f">The reference\'s graph</text>',
        *left[0], *right[0],
        '</svg>',
    ]
    return "\n".join(parts) + "\n"
