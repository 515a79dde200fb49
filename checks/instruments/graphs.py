"""How a result was made: saved tensors, graph nodes, reachability, shared storage."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch


@dataclass
class SavedTensors:
    count: int = 0


@contextmanager
def count_saved_tensors():
    """Count the tensors autograd saves for backward inside the block."""
    counter = SavedTensors()

    def pack(t):
        counter.count += 1
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        yield counter


def graph_nodes(root):
    """Every autograd node reachable from `root` (a tensor or a grad_fn)."""
    start = root.grad_fn if isinstance(root, torch.Tensor) else root
    seen, stack = set(), [start] if start is not None else []
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(fn for fn, _ in node.next_functions)
    return seen


def reaches(output: torch.Tensor, leaf: torch.Tensor) -> bool:
    """Would `output.backward()` accumulate a gradient into `leaf`?"""
    if output is leaf:
        return leaf.requires_grad
    for node in graph_nodes(output):
        if getattr(node, "variable", None) is leaf:
            return True
    return False


def shares_storage(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
