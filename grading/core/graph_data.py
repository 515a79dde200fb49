"""The learner's autograd graph beside the reference's, as data: checked, compared, laid out.

What a grading process records for a check (`grading.engine.graph_capture`) arrives here as plain data:

    {"function": "decoder_loss",
     "moments": [{"when": "backward() #1 in train_truncated_bptt", "nodes": [...], "edges": [...],
                  "truncated": false, "error": null}, ..., {"when": "at the end of the check", ...}]}

A node is {"id", "key", "kind", "label", ...}: kind "op" (a grad_fn, label its class name:
`AddmmBackward0`), "leaf" (a tensor that requires grad and that backward fills: label its name,
`encoder.0.weight`, with "shape" and "grad"), "tensor" (a tensor the function was given or returned,
which is not such a leaf: `x`, `result`) or "stop" (an input of an op that has no history: the
graph stops there, at a detach() or a no-grad region). "key" is where the node hangs in the graph
(the same in two graphs of the same shape); an edge is {"from", "to", "kind", "input"}, kind
"grad_fn" (a tensor to the op that made it), "input" (an op to what its input came from), "cut"
(a given tensor to the history the call took from it) or "before" (to the history it had before).

`compare` puts the two side by side (`tests/schemas/graph.schema.json` is the shape of the result,
the `graph` of an exercise in the JSON report); `layers` and `fold` lay a graph out in rows, with
a long run of steps of the same shape folded, for the text (`grading.reports.graph_text`) and the picture
(`grading.reports.graph_svg`). Data coming from a grading process is untrusted: `clean` keeps only what
has the shape above.
"""

from __future__ import annotations

KINDS = ("op", "leaf", "tensor", "stop")
EDGE_KINDS = ("grad_fn", "input", "cut", "before")
COMPARED = ("kind", "label", "shape", "requires_grad", "is_leaf", "grad", "returned", "changed_in_place")
MAX_NODES, MAX_MOMENTS, MAX_TEXT = 2000, 20, 300
FOLD_AT = 4  # a run of at least this many steps of the same shape is folded (two stay in view)

_NODE_FIELDS = {"id": str, "key": str, "kind": str, "label": str, "shape": list, "requires_grad": bool,
                "is_leaf": bool, "version": int, "grad": bool, "root": bool, "returned": bool,
                "changed_in_place": bool}


# ------------------------------------------------------------------ checking what arrives


def clean(data) -> dict | None:
    """`data` as recorded, if it has the recorded shape (else None): nothing else passes."""
    if not isinstance(data, dict) or not isinstance(data.get("moments"), list):
        return None
    moments = [m for m in (_clean_moment(m) for m in data["moments"][:MAX_MOMENTS]) if m is not None]
    if not moments:
        return None
    return {"function": _text(data.get("function")) or "your function", "moments": moments}


def _text(value) -> str | None:
    return value[:MAX_TEXT] if isinstance(value, str) else None


def _clean_moment(m) -> dict | None:
    if not isinstance(m, dict) or not isinstance(m.get("nodes"), list) or not isinstance(m.get("edges"), list):
        return None
    nodes, ids = [], set()
    for raw in m["nodes"][:MAX_NODES]:
        if not isinstance(raw, dict):
            return None
        node = {}
        for name, kind in _NODE_FIELDS.items():
            value = raw.get(name)
            if value is None:
                continue
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                return None
            node[name] = _text(value) if kind is str else value
        if not {"id", "key", "kind", "label"} <= node.keys() or node["kind"] not in KINDS or node["id"] in ids:
            return None
        if "shape" in node and not all(isinstance(n, int) and not isinstance(n, bool) for n in node["shape"][:16]):
            return None
        if "shape" in node:
            node["shape"] = node["shape"][:16]
        ids.add(node["id"])
        nodes.append(node)
    edges = []
    for raw in m["edges"][:4 * MAX_NODES]:
        if not (isinstance(raw, dict) and raw.get("from") in ids and raw.get("to") in ids
                and raw.get("kind") in EDGE_KINDS and isinstance(raw.get("input", 0), int)):
            return None
        edges.append({"from": raw["from"], "to": raw["to"], "kind": raw["kind"], "input": int(raw.get("input", 0))})
    return {"when": _text(m.get("when")) or "", "nodes": nodes, "edges": edges,
            "truncated": m.get("truncated") is True, "error": _text(m.get("error"))}


# ------------------------------------------------------------------ one graph


def leaves(graph: dict) -> list[dict]:
    return [n for n in graph["nodes"] if n["kind"] == "leaf"]


def as_report(graph: dict) -> dict:
    """One graph as the JSON report carries it: its nodes and edges, its leaves, and which leaves
    got a gradient."""
    found = leaves(graph)
    return {"when": graph["when"], "nodes": graph["nodes"], "edges": graph["edges"],
            "leaves": [n["id"] for n in found], "grads": [n["label"] for n in found if n.get("grad")],
            "truncated": graph["truncated"], "error": graph["error"]}


def backward_nodes(graph: dict) -> set[str]:
    """The distinct kinds of backward node in `graph` (AccumulateGrad for each leaf backward fills)."""
    names = {n["label"] for n in graph["nodes"] if n["kind"] == "op"}
    return names | ({"AccumulateGrad"} if any(n["kind"] == "leaf" and not n.get("root") for n in graph["nodes"]) else set())


def layers(graph: dict) -> list[list[dict]]:
    """The nodes in rows: the tensors given and returned first, then each node one row below the
    lowest node that leads to it (a longest-path layering: a step of a sequence sits below the next)."""
    by_id = {n["id"]: n for n in graph["nodes"]}
    below: dict[str, list[str]] = {n: [] for n in by_id}
    incoming = {n: 0 for n in by_id}
    for e in graph["edges"]:
        below[e["from"]].append(e["to"])
        incoming[e["to"]] += 1
    depth = {n: 0 for n in by_id}
    ready = [n["id"] for n in graph["nodes"] if incoming[n["id"]] == 0]
    order = []
    while ready:
        nid = ready.pop(0)
        order.append(nid)
        for to in below[nid]:
            depth[to] = max(depth[to], depth[nid] + 1)
            incoming[to] -= 1
            if incoming[to] == 0:
                ready.append(to)
    rows: list[list[dict]] = []
    for n in graph["nodes"]:  # in recorded (breadth-first) order within a row
        d = depth[n["id"]]
        while len(rows) <= d:
            rows.append([])
        rows[d].append(n)
    return [row for row in rows if row]


def _signature(node: dict, graph_edges: dict) -> str:
    inputs = ",".join(sorted(graph_edges.get(node["id"], ())))
    return f"{node['kind']}:{node['label'] if node['kind'] != 'leaf' else 'leaf'}<{inputs}"


def fold(graph: dict, rows: list[list[dict]]) -> tuple[int, int, int] | None:
    """The longest run of steps of the same shape: (first row, rows per step, steps), with at
    least FOLD_AT steps, or None. A step is a block of rows; two blocks have the same shape when
    their rows hold the same kinds of node with the same kinds of input."""
    by_id = {n["id"]: n for n in graph["nodes"]}
    inputs: dict[str, list[str]] = {}
    for e in graph["edges"]:
        target = by_id[e["to"]]
        inputs.setdefault(e["from"], []).append(target["label"] if target["kind"] == "op" else target["kind"])
    signatures = [tuple(sorted(_signature(n, inputs) for n in row)) for row in rows]
    best = None
    count = len(signatures)
    for period in range(1, count // FOLD_AT + 1):
        start = 0
        while start + period * FOLD_AT <= count:
            steps = 1
            while start + (steps + 1) * period <= count and \
                    signatures[start + steps * period:start + (steps + 1) * period] == signatures[start:start + period]:
                steps += 1
            if steps >= FOLD_AT and (best is None or steps * period > best[1] * best[2]):
                best = (start, period, steps)
            start += max(1, (steps - 1) * period) if steps >= FOLD_AT else 1
    return best


# ------------------------------------------------------------------ two graphs


def _by_key(graph: dict) -> dict[str, dict]:
    return {n["key"]: n for n in graph["nodes"]}


def _edge_keys(graph: dict) -> set[tuple[str, str, str]]:
    key = {n["id"]: n["key"] for n in graph["nodes"]}
    return {(key[e["from"]], key[e["to"]], e["kind"]) for e in graph["edges"]}


def _shapes(graph: dict) -> dict[str, str]:
    """Each node's shape from below: what it is and, input by input, what its inputs are (two nodes
    with the same shape computed the same way from the same leaves)."""
    import hashlib

    by_id = {n["id"]: n for n in graph["nodes"]}
    inputs: dict[str, list[tuple[int, str]]] = {}
    for e in graph["edges"]:
        inputs.setdefault(e["from"], []).append((e["input"], e["to"]))
    memo: dict[str, str] = {}

    def shape(nid: str, depth: int = 0) -> str:
        if nid in memo:
            return memo[nid]
        n = by_id[nid]
        if n["kind"] == "leaf" and n["key"].startswith("leaf:"):
            text = n["key"]
        elif n["kind"] in ("leaf", "tensor", "stop"):
            text = f"{n['kind']}:{n['label']}:{n.get('shape')}"
        else:
            below = sorted(inputs.get(nid, ()))
            text = n["label"] + "(" + ",".join(shape(to, depth + 1) for _, to in below) + ")" if depth < 200 else n["label"]
        memo[nid] = hashlib.sha1(text.encode()).hexdigest()[:12]
        return memo[nid]

    for n in graph["nodes"]:
        if n["kind"] == "op":
            shape(n["id"])
    return {by_id[i]["key"]: h for i, h in memo.items() if by_id[i]["kind"] == "op"}


def _matched(yours: dict, reference: dict) -> dict:
    """`yours` with the keys of the reference's nodes where a node hangs elsewhere but has the same
    shape from below (a sum written another way above the same steps): only what differs differs."""
    theirs_keys = {n["key"] for n in reference["nodes"]}
    mine_keys = {n["key"] for n in yours["nodes"]}
    free: dict[str, list[str]] = {}
    for key, shape in _shapes(reference).items():
        if key not in mine_keys:
            free.setdefault(shape, []).append(key)
    renamed = {}
    for key, shape in _shapes(yours).items():
        if key not in theirs_keys and free.get(shape):
            renamed[key] = free[shape].pop(0)
    if not renamed:
        return yours
    # what hangs from a matched op (a stop, a leaf without a name) follows it: input by input
    by_id, their_ids = {n["id"]: n for n in yours["nodes"]}, {n["id"]: n for n in reference["nodes"]}
    below = {(their_ids[e["from"]]["key"], e["input"]): their_ids[e["to"]] for e in reference["edges"]}
    for e in yours["edges"]:
        child, parent = by_id[e["to"]], by_id[e["from"]]
        if child["kind"] in ("stop", "leaf") and not child["key"].startswith("leaf:") and child["key"] not in theirs_keys:
            theirs = below.get((renamed.get(parent["key"], parent["key"]), e["input"]))
            if theirs is not None and theirs["kind"] == child["kind"] and theirs["key"] not in mine_keys:
                renamed.setdefault(child["key"], theirs["key"])
    return {**yours, "nodes": [{**n, "key": renamed.get(n["key"], n["key"])} for n in yours["nodes"]]}


def differences(yours: dict, reference: dict) -> dict:
    """What differs between two graphs, node by node (matched by where they hang, else by their
    shape from below), edge by edge, and in which leaves got a gradient."""
    yours = _matched(yours, reference)
    mine, theirs = _by_key(yours), _by_key(reference)
    changed = []
    for key in mine.keys() & theirs.keys():
        a, b = mine[key], theirs[key]
        for field in COMPARED:
            if _value(a, field) != _value(b, field):
                changed.append({"key": key, "label": a["label"], "what": field,
                                "yours": a.get(field), "reference": b.get(field)})
    my_edges, their_edges = _edge_keys(yours), _edge_keys(reference)
    grads_mine = {n["label"] for n in leaves(yours) if n.get("grad")}
    grads_theirs = {n["label"] for n in leaves(reference) if n.get("grad")}
    return {
        "nodes_only_yours": sorted(mine.keys() - theirs.keys(), key=lambda k: _order(yours, k)),
        "nodes_only_reference": sorted(theirs.keys() - mine.keys(), key=lambda k: _order(reference, k)),
        "edges_only_yours": [list(e) for e in sorted(my_edges - their_edges)],
        "edges_only_reference": [list(e) for e in sorted(their_edges - my_edges)],
        "changed": sorted(changed, key=lambda c: (_order(yours, c["key"]), c["what"])),
        "grads_only_yours": sorted(grads_mine - grads_theirs),
        "grads_only_reference": sorted(grads_theirs - grads_mine),
        "error": None if yours.get("error") == reference.get("error") else
        {"yours": yours.get("error"), "reference": reference.get("error")},
    }


def _value(node: dict, field: str):
    value = node.get(field)
    return bool(value) if field in ("requires_grad", "is_leaf", "grad", "returned", "changed_in_place") else value


def _order(graph: dict, key: str) -> int:
    return next((i for i, n in enumerate(graph["nodes"]) if n["key"] == key), 0)


def same(diff: dict) -> bool:
    return not any(diff[k] for k in diff)


def _empty(when: str) -> dict:
    return {"when": when, "nodes": [], "edges": [], "truncated": False, "error": None}


def _pairs(yours: dict, reference: dict) -> list[tuple[dict, dict]]:
    """The moments of two recordings, paired: the n-th backward with the n-th, the end with the end."""
    mine, theirs = yours["moments"][:-1], reference["moments"][:-1]
    pairs = []
    for i in range(max(len(mine), len(theirs))):
        a = mine[i] if i < len(mine) else _empty(f"(your code ran no backward #{i + 1})")
        b = theirs[i] if i < len(theirs) else _empty(f"(the reference ran no backward #{i + 1})")
        pairs.append((a, b))
    return pairs + [(yours["moments"][-1], reference["moments"][-1])]


def shown_moment(yours: dict, reference: dict) -> tuple[dict, dict, dict]:
    """The moment to show: the first at which the graphs differ, else the end of the check;
    (your graph, the reference's, their differences)."""
    pairs = [(_matched(a, b), b) for a, b in _pairs(yours, reference)]
    for a, b in pairs:
        diff = differences(a, b)
        if not same(diff):
            return a, b, diff
    a, b = pairs[-1]
    return a, b, differences(a, b)


# in a differential check's name (`checks/structures/`): its inputs are shrunk for each function on
# its own, so the learner's graph and the reference's may come from different inputs: never shown
DIFFERENTIAL = "_on_generated_"


def choose(result, reference) -> str | None:
    """The check whose graphs are shown: the first failing case whose graphs differ, preferring one
    whose graphs hold at least two kinds of backward node each (the first failing case where none
    differs); where every case passes, the first case, preferring such a graph the same way. Only
    cases recorded in both runs count."""
    both = [c for c in result.checks if c.name in result.graphs and c.name in reference.graphs
            and result.graphs[c.name] and reference.graphs[c.name] and DIFFERENTIAL not in c.name]
    failing = [c for c in both if not c.passed] or both
    ranked = []
    for c in failing:
        a, b, diff = shown_moment(result.graphs[c.name], reference.graphs[c.name])
        rich = len(backward_nodes(a)) >= 2 and len(backward_nodes(b)) >= 2
        ranked.append((same(diff), not rich, c.name))
    return min(ranked, key=lambda r: (r[0], r[1]))[2] if ranked else None


def _first_sentences(text: str, limit: int = 320) -> str:
    text = " ".join(text.split())
    end = 0
    for i, ch in enumerate(text):
        if ch == "." and (i + 1 == len(text) or text[i + 1] == " ") and i > 20:
            end = i + 1
            if end > 120:
                break
    text = text[:end] if end else text
    return text if len(text) <= limit else text[:limit - 3] + "..."


def meaning_of(check, yours: dict, theirs: dict, diff: dict) -> str:
    """One sentence of what the difference means: the mistake's own explanation where the check
    recognised one, else what the graphs themselves say."""
    if not check.passed and check.mistake_title and check.message:
        return f"{check.mistake_title}: {_first_sentences(check.message)}"
    if not check.passed and check.message and not check.not_implemented:
        return _first_sentences(check.message)
    if check.passed:
        return ("every check passes: your graph is built differently from the reference's, and gives the "
                "result the checks ask for.")
    if diff["grads_only_yours"]:
        return (f"a backward through your graph fills .grad of {', '.join(diff['grads_only_yours'][:4])}, "
                "which the reference's graph never reaches: the graph must stop before them.")
    if diff["grads_only_reference"]:
        return (f"the reference's backward fills .grad of {', '.join(diff['grads_only_reference'][:4])}; "
                "your graph stops before it reaches them.")
    if diff["nodes_only_yours"]:
        return "your graph records operations the reference's does not: something is tracked that should not be."
    if diff["nodes_only_reference"]:
        return "the reference's graph goes further than yours: something of yours stops the graph too early."
    return "the graphs hold the same nodes, but the tensors around them are not the same."


def compare(result, reference, meaning: str | None = None) -> dict | None:
    """`result` (an ExerciseResult, the learner's) beside `reference` (the reference's, graded on
    the same inputs): the comparison the report carries, or None where nothing was recorded."""
    name = choose(result, reference)
    if name is None:
        return None
    check = next(c for c in result.checks if c.name == name)
    yours, theirs, diff = shown_moment(result.graphs[name], reference.graphs[name])
    return {
        "check": name,
        "passed": check.passed,
        "function": result.graphs[name]["function"],
        "when": yours["when"] if yours["nodes"] or not theirs["nodes"] else theirs["when"],
        "same": same(diff),
        "yours": as_report(yours),
        "reference": as_report(theirs),
        "differences": diff,
        "meaning": meaning if meaning is not None else meaning_of(check, yours, theirs, diff),
    }


def attach(run, reference_run, exercises, text=None) -> None:
    """Give each exercise of `run` in `exercises` its comparison with `reference_run`'s, and let
    go of the graphs recorded for the other checks. `text(comparison)`, where given, is the
    comparison's text form, for the reports that carry it (`grading.reports.graph_text.plain`)."""
    for e in run.exercises:
        if e.id in exercises:
            other = reference_run.exercise(e.id) if reference_run is not None else None
            e.graph = compare(e, other) if other is not None else None
            if e.graph is not None and text is not None:
                e.graph["text"] = text(e.graph)
        e.graphs = {}
