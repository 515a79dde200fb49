"""Recording the autograd graph a check sees, as plain data (`python grader.py EX --graph`).

Runs in the process that runs the learner's code (or, for the reference, the reference's): the
plugin starts a `Recorder` before a check of a graph exercise and takes its `finish()` after it.
While one records, the `learner` fixture hands the checks the learner's function wrapped
(`watch`): each call notes what the function was given (named by its parameters: `t`, `h0`, and
the parameters of a module `encoder` as `encoder.0.weight`) and what it returned; each backward
the function runs (`Tensor.backward`, `torch.autograd.backward`, `torch.autograd.grad`) is
recorded just before it runs, with the leaves it filled. At the end of the check, the graph
reachable from the given and returned tensors is recorded once more, beside the history each
given tensor had before the call (a history the call cut shows as a cut edge).

What leaves this module is plain data (`graph_data.py` says its shape); nothing is recorded, and
nothing is wrapped, unless a recorder is active.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys

MAX_NODES = 400  # a larger graph is cut here (and says so): an event must stay small
MAX_MOMENTS = 12  # backward passes recorded per check, besides the end of the check

ACTIVE: "Recorder | None" = None


def watch(fn):
    """The learner's function, recorded while a recorder is active (else `fn` itself)."""
    recorder = ACTIVE
    if recorder is None or not callable(fn):
        return fn
    return recorder.wrap(fn)


def begin() -> "Recorder":
    global ACTIVE
    ACTIVE = Recorder()
    ACTIVE.install()
    return ACTIVE


def finish() -> dict | None:
    """The active recorder's moments as plain data (None when the learner's function never ran)."""
    global ACTIVE
    recorder, ACTIVE = ACTIVE, None
    if recorder is None:
        return None
    try:
        recorder.uninstall()
        return recorder.data()
    except Exception:  # recording never costs the learner a result
        return None


def _tensor_type():
    import torch

    return torch.Tensor


class Recorder:
    def __init__(self):
        self.function = ""
        self.names: dict[int, tuple[str, str, object]] = {}  # id(tensor) -> (key, label, tensor)
        self.given: list[tuple[str, str, object, object]] = []  # (key, label, tensor, grad_fn before the call)
        self.results: list[tuple[str, str, object]] = []
        self.moments: list[dict] = []
        self.versions: dict[str, int] = {}  # a given tensor's version counter when it was given
        self.calls = 0
        self.depth = 0  # inside the learner's function
        self._saved: dict = {}
        self._busy = False

    # ------------------------------------------------------------ the learner's function

    def wrap(self, fn):
        recorder = self

        @functools.wraps(fn)
        def recorded(*args, **kwargs):
            first = recorder.calls == 0
            recorder.calls += 1
            if first:
                _quietly(recorder._note_given, fn, args, kwargs)
            recorder.depth += 1
            try:
                result = fn(*args, **kwargs)
            finally:
                recorder.depth -= 1
            if first:
                _quietly(recorder._note_result, result)
            return result

        return recorded

    def _note_given(self, fn, args, kwargs) -> None:
        Tensor = _tensor_type()
        from torch import nn

        self.function = getattr(fn, "__name__", "your function")
        try:
            bound = inspect.signature(fn).bind_partial(*args, **kwargs)
            named = list(bound.arguments.items())
        except (TypeError, ValueError):
            named = [(f"arg{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
        for position, (label, value) in enumerate(named):
            key = f"arg{position}"
            if isinstance(value, Tensor):
                self._name(value, key, label)
                self.given.append((key, label, value, value.grad_fn))
                self.versions[key] = int(value._version)
            elif isinstance(value, nn.Module):
                for path, p in value.named_parameters():
                    self._name(p, f"{key}.{path}", f"{label}.{path}")
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value[:64]):
                    if isinstance(item, Tensor):
                        self._name(item, f"{key}[{i}]", f"{label}[{i}]")
                        self.given.append((f"{key}[{i}]", f"{label}[{i}]", item, item.grad_fn))

    def _note_result(self, result) -> None:
        Tensor = _tensor_type()
        items = [("result", result)] if isinstance(result, Tensor) else (
            [(f"result[{i}]", r) for i, r in enumerate(result[:16])] if isinstance(result, (list, tuple)) else [])
        for label, value in items:
            if isinstance(value, Tensor):
                self.results.append((label, label, value))
                if id(value) not in self.names:
                    self._name(value, label, label)

    def _name(self, tensor, key: str, label: str) -> None:
        self.names.setdefault(id(tensor), (key, label, tensor))

    # ------------------------------------------------------------ backward passes

    def install(self) -> None:
        import torch

        self._saved = {"Tensor.backward": torch.Tensor.backward, "backward": torch.autograd.backward,
                       "grad": torch.autograd.grad}
        recorder = self

        def recording(original, kind):
            @functools.wraps(original)
            def run(*args, **kwargs):
                if recorder._busy or recorder.depth == 0 or len(recorder.moments) >= MAX_MOMENTS:
                    return original(*args, **kwargs)
                recorder._busy = True
                try:
                    return recorder._backward(original, kind, args, kwargs)
                finally:
                    recorder._busy = False
            return run

        torch.Tensor.backward = recording(self._saved["Tensor.backward"], "backward")
        torch.autograd.backward = recording(self._saved["backward"], "backward")
        torch.autograd.grad = recording(self._saved["grad"], "grad")

    def uninstall(self) -> None:
        import torch

        if self._saved:
            torch.Tensor.backward = self._saved["Tensor.backward"]
            torch.autograd.backward = self._saved["backward"]
            torch.autograd.grad = self._saved["grad"]
            self._saved = {}

    def _backward(self, original, kind, args, kwargs):
        Tensor = _tensor_type()
        try:
            first = args[0] if args else kwargs.get("tensors", kwargs.get("outputs"))
            roots = [first] if isinstance(first, Tensor) else [r for r in (first or ()) if isinstance(r, Tensor)]
            local = _local_names(roots)
            named = [("loss" if i == 0 else f"loss[{i}]", local.get(id(r), "loss" if i == 0 else f"loss[{i}]"), r)
                     for i, r in enumerate(roots)]
            graph, leaves = _walk(named, [], self.names)
        except Exception:  # a tensor the recorder cannot read: the backward runs, unrecorded
            return original(*args, **kwargs)
        number = len(self.moments) + 1
        moment = {"when": f"{kind}() #{number} in {self.function}", **graph}
        self.moments.append(moment)
        error = None
        try:
            return original(*args, **kwargs)
        except BaseException as exc:
            error = _first_sentence(str(exc)) or type(exc).__name__
            raise
        finally:
            moment["error"] = error
            _quietly(_mark_grads, moment, leaves)

    # ------------------------------------------------------------ the end

    def data(self) -> dict | None:
        if not self.calls:
            return None
        roots = [(key, label, t) for key, label, t, _ in self.given] + [
            r for r in self.results if all(r[2] is not g[2] for g in self.given)]
        cuts = [(key, t, before) for key, _, t, before in self.given if before is not None and t.grad_fn is not before]
        # (a history the call cut: `cut`; one it built over: `before`)
        graph, leaves = _walk(roots, cuts, self.names)
        end = {"when": "at the end of the check", **graph, "error": None}
        _mark_grads(end, leaves)
        returned = {id(t) for _, _, t in self.results}
        for key, _, t, _ in self.given:
            if id(t) in returned:
                node = next(n for n in end["nodes"] if n["key"] == f"tensor:{key}")
                node["returned"] = True
        for node in end["nodes"]:
            given = self.versions.get(node["key"].removeprefix("tensor:"))
            if given is not None and node["key"].startswith("tensor:"):
                node["changed_in_place"] = node["version"] > given
        return {"function": self.function, "moments": [*self.moments, end]}


def _quietly(note, *args) -> None:
    """Recording never changes what the learner's code does: what it cannot note, it leaves out."""
    try:
        note(*args)
    except Exception:
        pass


def _first_sentence(text: str, limit: int = 200) -> str:
    line = (text.strip().splitlines() or [""])[0]
    for end in (" (", ". "):
        if end in line:
            line = line[:line.index(end)]
    return line[:limit]


def _local_names(roots) -> dict[int, str]:
    """The names the learner's own code gives `roots` (its local variables), where it does."""
    from grading.engine.targets import is_learner_file

    names: dict[int, str] = {}
    frame = sys._getframe(2)
    while frame is not None:
        if is_learner_file(frame.f_code.co_filename):
            for var, value in frame.f_locals.items():
                for r in roots:
                    if value is r:
                        names.setdefault(id(r), var)
            break
        frame = frame.f_back
    return names


def _mark_grads(moment: dict, leaves: dict) -> None:
    for node in moment["nodes"]:
        tensor = leaves.get(node["id"])
        if tensor is not None:
            node["grad"] = tensor.grad is not None


def _shape(t) -> list[int] | None:
    try:
        return [int(n) for n in t.shape]
    except Exception:
        return None


def _chain(parent: str, step: str) -> str:
    """A node's key: where it hangs, from a root, input by input (the same in two graphs of the same
    shape, whichever process recorded them)."""
    return hashlib.sha1(f"{parent}/{step}".encode()).hexdigest()[:12]


def _walk(roots, cuts, names):
    """The graph reachable from `roots` [(key, label, tensor)] and from the histories the tensors of
    `cuts` [(key, tensor, grad_fn they had)] no longer have: (graph data, {node id: leaf tensor})."""
    nodes: list[dict] = []
    edges: list[dict] = []
    ids: dict = {}  # a tensor's id or a grad_fn -> node id
    leaves: dict[str, object] = {}
    queue: list[tuple[object, str]] = []
    truncated = False

    def add(node: dict) -> str:
        node["id"] = f"n{len(nodes)}"
        nodes.append(node)
        return node["id"]

    def tensor_node(t, key: str, label: str, root: bool) -> str:
        """A tensor's node: a given or returned tensor (`root`), or a leaf an AccumulateGrad fills
        (keyed by its name where it has one, else by where it hangs in the graph)."""
        known = ids.get(("t", id(t)))
        if known is not None:
            return known
        named = names.get(id(t))
        is_leaf = bool(t.is_leaf)
        node = {"key": f"tensor:{key}" if root else f"leaf:{named[0]}" if named else key,
                "kind": "leaf" if is_leaf and t.requires_grad else "tensor",
                "label": label, "shape": _shape(t),
                "requires_grad": bool(t.requires_grad), "is_leaf": is_leaf, "version": int(t._version)}
        if root:
            node["root"] = True
        nid = add(node)
        ids[("t", id(t))] = nid
        if node["kind"] == "leaf":
            leaves[nid] = t
        return nid

    def op_node(fn, key: str) -> str:
        nonlocal truncated
        known = ids.get(("f", fn))
        if known is not None:
            return known
        if len(nodes) >= MAX_NODES:
            truncated = True
            return ""
        nid = add({"key": key, "kind": "op", "label": type(fn).__name__})
        ids[("f", fn)] = nid
        queue.append((fn, key))
        return nid

    for key, label, t in roots:
        nid = tensor_node(t, key, label, root=True)
        if t.grad_fn is not None:
            to = op_node(t.grad_fn, _chain(f"tensor:{key}", f"g:{type(t.grad_fn).__name__}"))
            if to:
                edges.append({"from": nid, "to": to, "kind": "grad_fn", "input": 0})
    for key, t, before in cuts:
        to = op_node(before, _chain(f"tensor:{key}", f"g:{type(before).__name__}"))
        if to:
            edges.append({"from": ids[("t", id(t))], "to": to, "kind": "cut" if t.grad_fn is None else "before",
                          "input": 0})
    while queue:
        fn, key = queue.pop(0)
        src = ids[("f", fn)]
        for i, (child, _) in enumerate(getattr(fn, "next_functions", ())):
            if child is None:
                to = add({"key": _chain(key, f"{i}:stop"), "kind": "stop", "label": "no history"})
            elif hasattr(child, "variable"):
                variable = child.variable
                named = names.get(id(variable))
                to = tensor_node(variable, _chain(key, f"{i}:leaf"), named[1] if named else "a leaf", root=False)
            else:
                to = op_node(child, _chain(key, f"{i}:{type(child).__name__}"))
                if not to:
                    continue
            edges.append({"from": src, "to": to, "kind": "input", "input": i})
    return {"nodes": nodes, "edges": edges, "truncated": truncated}, leaves
