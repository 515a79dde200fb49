"""The learner's graph beside the reference's, in words (`python grader.py EX --graph`).

A pure function of the comparison `grading.core.graph_data.compare` makes. Every difference has a
character of its own at the start of its line (+ only in your graph, - only in the reference's,
~ in both but not the same), so the text reads the same without colour, piped or in a screen
reader; colour only repeats it.
"""

from __future__ import annotations

from grading.core.graph_data import fold, layers
from grading.reports.style import Style

FIELDS = {
    "requires_grad": "requires grad", "is_leaf": "is a leaf", "grad": "gets a gradient",
    "changed_in_place": "was changed in place (its version counter went up)",
}


def shape_text(shape) -> str:
    if shape is None:
        return ""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


class _Names:
    """`#n` for each op, the same number for the same node in both graphs."""

    def __init__(self, *graphs):
        self.numbers: dict[str, int] = {}
        for graph in graphs:
            for row in layers(graph):
                for n in row:
                    if n["kind"] == "op" and n["key"] not in self.numbers:
                        self.numbers[n["key"]] = len(self.numbers) + 1

    def __call__(self, node: dict, s: Style) -> str:
        kind = node["kind"]
        if kind == "op":
            return f"#{self.numbers.get(node['key'], 0)} {node['label']}"
        if kind == "stop":
            return stop_mark(s)
        text = f"{node['label']} {shape_text(node.get('shape'))}".rstrip()
        if kind == "leaf" and node.get("grad"):
            text += " [gets .grad]"
        return text


def stop_mark(s: Style) -> str:
    return "⊣" if s.unicode else "-|"


def _mark(s: Style, marker: str) -> str:
    colour = {"+": "red", "-": "green", "~": "yellow"}.get(marker)
    return s(marker, colour, "bold") if colour else marker


def _tensor_notes(node: dict, function: str) -> str:
    notes = []
    if node.get("returned"):
        notes.append(f"returned by {function}")
    if node["kind"] == "leaf":
        notes.append("a leaf that requires grad")
    elif node.get("requires_grad"):
        notes.append("requires grad")
    if node.get("changed_in_place"):
        notes.append("changed in place")
    return f" ({', '.join(notes)})" if notes else ""


def graph_lines(graph: dict, other: dict, diff: dict, names: _Names, s: Style, mine: bool,
                function: str, indent: int = 4) -> list[str]:
    """One graph, a line per tensor and per op with what it came from; what the other graph has
    not is marked (+ in yours, - in the reference's), a long run of steps of the same shape folded."""
    only = set(diff["nodes_only_yours" if mine else "nodes_only_reference"])
    edges_only = {tuple(e) for e in diff["edges_only_yours" if mine else "edges_only_reference"]}
    changed = {c["key"] for c in diff["changed"]}
    sign = "+" if mine else "-"
    by_id = {n["id"]: n for n in graph["nodes"]}
    outgoing: dict[str, list[dict]] = {}
    for e in sorted(graph["edges"], key=lambda e: e["input"]):
        outgoing.setdefault(e["from"], []).append(e)
    rows = layers(graph)
    folded = fold(graph, rows)
    pad = " " * indent
    lines = []

    def node_line(n: dict) -> str | None:
        edges = outgoing.get(n["id"], [])
        if n["kind"] in ("stop", "leaf") and not n.get("root") and not edges:
            return None  # shown where it is an input
        marker = sign if n["key"] in only else "~" if n["key"] in changed else " "
        head = names(n, s) + (_tensor_notes(n, function) if n["kind"] != "op" else "")
        items = []
        for e in edges:
            to = by_id[e["to"]]
            item = names(to, s)
            if e["kind"] == "cut":
                item = ("✂ " if s.unicode else "x ") + item + " (history cut by the call)"
            elif e["kind"] == "before":
                item = item + " (its history before the call)"
            if (n["key"], to["key"], e["kind"]) in edges_only:
                item = _mark(s, sign) + item
            items.append(item)
        arrow = "←" if s.unicode else "<-"
        body = f"{head} {arrow} {', '.join(items)}" if items else (
            f"{head}: no history" if n["kind"] == "tensor" else head)
        return f"{pad}{_mark(s, marker)} {body}"

    for index, row in enumerate(rows):
        if folded and folded[0] + 2 * folded[1] <= index < folded[0] + folded[2] * folded[1]:
            if index == folded[0] + 2 * folded[1]:
                dots = "…" if s.unicode else "..."
                lines.append(f"{pad}  {s(f'{dots} {folded[2] - 2} more steps of the same shape', 'dim')}")
            continue
        for n in row:
            line = node_line(n)
            if line is not None:
                lines.append(line)
    if not graph["nodes"]:
        lines.append(f"{pad}  {graph['when'] or 'nothing recorded'}")
    if graph.get("truncated"):
        lines.append(f"{pad}  {s('(the graph is larger: only its first nodes were recorded)', 'dim')}")
    if graph.get("error"):
        lines.append(f"{pad}  backward raised: {graph['error']}")
    return lines


KIND_WORDS = {"op": "an operation", "leaf": "a leaf that requires grad", "tensor": "not a leaf that requires grad",
              "stop": "where the graph stops"}


def _edge_lines(comparison: dict, names: _Names, s: Style, pad: str) -> list[str]:
    """Edges between nodes both graphs have: a history kept in one and cut in the other, else a count."""
    diff, yours, theirs = comparison["differences"], comparison["yours"], comparison["reference"]
    mine = {tuple(e[:2]): e[2] for e in diff["edges_only_yours"]}
    ref = {tuple(e[:2]): e[2] for e in diff["edges_only_reference"]}
    by_key = {n["key"]: n for n in yours["nodes"]} | {n["key"]: n for n in theirs["nodes"]}
    lines, said = [], set()
    for ends in mine.keys() & ref.keys():
        kinds = (mine[ends], ref[ends])
        tensor, history = by_key[ends[0]]["label"], names(by_key[ends[1]], s)
        if kinds == ("grad_fn", "cut"):
            lines.append(f"{pad}{_mark(s, '~')} {tensor} keeps its history ({history}) in yours; "
                         f"{comparison['function']} cut it in the reference's")
        elif kinds == ("cut", "grad_fn"):
            lines.append(f"{pad}{_mark(s, '~')} {comparison['function']} cut {tensor}'s history ({history}) in "
                         "yours; the reference's keeps it")
        else:
            continue
        said.add(ends)
    nodes = set(diff["nodes_only_yours"]) | set(diff["nodes_only_reference"])
    rest = [e for e in diff["edges_only_yours"] + diff["edges_only_reference"]
            if tuple(e[:2]) not in said and e[0] not in nodes and e[1] not in nodes]
    if rest:
        lines.append(f"{pad}{_mark(s, '~')} {len(rest)} edge(s) between nodes both graphs have differ")
    return lines


def _labels(graph: dict, keys, names: _Names, s: Style, limit: int = 6) -> str:
    by_key = {n["key"]: n for n in graph["nodes"]}
    by_id = {n["id"]: n for n in graph["nodes"]}
    parent = {e["to"]: by_id[e["from"]] for e in graph["edges"]}

    def label(node):
        if node["kind"] == "stop" and node["id"] in parent:
            return f"{names(node, s)} (the graph stops at an input of {names(parent[node['id']], s)})"
        return names(node, s)

    shown = [label(by_key[k]) for k in keys if k in by_key]
    return ", ".join(shown[:limit]) + (f" and {len(shown) - limit} more" if len(shown) > limit else "")


def _yes(value) -> str:
    return "yes" if value else "no"


def difference_lines(comparison: dict, names: _Names, s: Style, indent: int = 4) -> list[str]:
    diff, yours, theirs = comparison["differences"], comparison["yours"], comparison["reference"]
    pad = " " * indent
    lines = []
    if diff["nodes_only_yours"]:
        lines.append(f"{pad}{_mark(s, '+')} only in yours: {_labels(yours, diff['nodes_only_yours'], names, s)}")
    if diff["nodes_only_reference"]:
        lines.append(f"{pad}{_mark(s, '-')} only in the reference's: "
                     f"{_labels(theirs, diff['nodes_only_reference'], names, s)}")
    lines += _edge_lines(comparison, names, s, pad)
    for c in diff["changed"]:
        if c["what"] == "grad" and c["label"] in diff["grads_only_yours"] + diff["grads_only_reference"]:
            continue  # said below, with the others
        if c["what"] in FIELDS:
            lines.append(f"{pad}{_mark(s, '~')} {c['label']} {FIELDS[c['what']]}: {_yes(c['yours'])} in yours, "
                         f"{_yes(c['reference'])} in the reference's")
        elif c["what"] == "returned":
            lines.append(f"{pad}{_mark(s, '~')} {c['label']} is what {comparison['function']} returns: "
                         f"{_yes(c['yours'])} in yours, {_yes(c['reference'])} in the reference's")
        elif c["what"] == "kind":
            lines.append(f"{pad}{_mark(s, '~')} {c['label']} is {KIND_WORDS[c['yours']]} in yours, "
                         f"{KIND_WORDS[c['reference']]} in the reference's")
        else:
            lines.append(f"{pad}{_mark(s, '~')} {c['label']}: {c['what']} {c['yours']} in yours, "
                         f"{c['reference']} in the reference's")
    if diff["grads_only_yours"]:
        lines.append(f"{pad}{_mark(s, '+')} gets a gradient in yours, not in the reference's: "
                     + ", ".join(diff["grads_only_yours"]))
    if diff["grads_only_reference"]:
        lines.append(f"{pad}{_mark(s, '-')} gets a gradient in the reference's, not in yours: "
                     + ", ".join(diff["grads_only_reference"]))
    if diff["error"]:
        mine, ref = diff["error"]["yours"], diff["error"]["reference"]
        lines.append(f"{pad}{_mark(s, '~')} backward raised in yours: {mine}" if mine else
                     f"{pad}{_mark(s, '~')} backward ran in yours; in the reference's it raised: {ref}")
    return lines


def render(comparison: dict, style: Style, svg: str | None = None) -> str:
    """The comparison of one exercise, for the terminal (and any plain-text report)."""
    s = style
    yours, theirs = comparison["yours"], comparison["reference"]
    names = _Names(yours, theirs)
    head = f"Your graph beside the reference's {s.dash} {comparison['check']}, {comparison['when']}"
    lines = [s(head, "bold")]
    if comparison["same"]:
        lines.append(s("  Your graph matches the reference.", "green") + (
            "" if comparison["passed"] else " What this check finds wrong is not in the graph: its message says what."))
    else:
        lines.append(s(f"  + only in your graph   - only in the reference's   ~ in both, not the same   "
                       f"{stop_mark(s)} the graph stops: an input without history", "dim"))
    lines.append("  Your graph:")
    lines += graph_lines(yours, theirs, comparison["differences"], names, s, True, comparison["function"])
    if not comparison["same"]:
        lines.append("  The reference's graph:")
        lines += graph_lines(theirs, yours, comparison["differences"], names, s, False, comparison["function"])
        lines.append("  What differs:")
        lines += difference_lines(comparison, names, s)
        lines.append(s.wrap("What it means: " + comparison["meaning"], 2))
    if svg:
        lines.append(f"  Picture: {svg}")
    return "\n".join(lines)


def plain(comparison: dict) -> str:
    """The comparison's text form that the reports carry: the same on every terminal."""
    style = Style(color=False)
    style.unicode, style.width = True, 100
    return render(comparison, style)
