"""Shared instruments of the checks: how a result was made, not just what it is.

- `count_saved_tensors()`: how many tensors autograd saved for backward in a block
  (zero means no graph was built, which a `.detach()` at the end cannot fake).
- `reaches(loss, tensor)`: whether a backward from `loss` would reach a leaf tensor.
- `OffCPUTensor` / `off_cpu()`: a simulated tensor on a non-CPU device for machines
  without a GPU; `devices_for_numpy()` adds a real CUDA device where there is one.
- `TinyLM`: a model with tied weights (one tensor held by two modules).
- `snapshot(model)` / `changes(before, model)` / `listed(...)`: modes, flags and grads of a
  module, and what changed, in words.
- `grad_mode_kept()`, `explain_errors()`, `expect_tensor()`: guards that turn a
  learner's mistake into a message saying what happened and what to do instead.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn


# --------------------------------------------------------------------------- graphs


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


# --------------------------------------------------------------------------- devices


class OffCPUTensor(torch.Tensor):
    """A CPU tensor that behaves, for conversion purposes, like one on a GPU.

    It reports `device` cuda:0 and `is_cuda` True, and refuses `numpy()` and
    `__array__` (with PyTorch's own message for a CUDA tensor) until it has been moved
    with `.cpu()` or `.to("cpu")`, which return a plain CPU tensor. Every other
    operation (`detach`, `clone`, arithmetic) keeps it "on the device". Built with
    `__torch_function__` only, so autograd and nn layers work on it unchanged.
    """

    REFUSAL = (
        "can't convert cuda:0 device type tensor to numpy. "
        "Use Tensor.cpu() to copy the tensor to host memory first."
    )

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.Tensor.numpy, torch.Tensor.__array__):
            if func is torch.Tensor.numpy and kwargs.get("force"):
                plain = args[0].detach().cpu()
                return plain.resolve_conj().resolve_neg().numpy()
            raise TypeError(cls.REFUSAL)
        if func is torch.Tensor.tolist:
            with torch._C.DisableTorchFunctionSubclass():
                return func(*args, **kwargs)
        owner = getattr(func, "__self__", None)  # property getters arrive as `<descriptor>.__get__`
        if owner is torch.Tensor.device:
            return torch.device("cuda", 0)
        if owner is torch.Tensor.is_cuda:
            return True
        if owner is torch.Tensor.is_cpu:
            return False
        if func is torch.Tensor.cpu or (func is torch.Tensor.to and _moves_to_cpu(args, kwargs)):
            with torch._C.DisableTorchFunctionSubclass():
                moved = torch.Tensor.clone(args[0])  # a real transfer is a copy
                if func is torch.Tensor.to:
                    dtype = next((a for a in args[1:] if isinstance(a, torch.dtype)), kwargs.get("dtype"))
                    if dtype is not None:
                        moved = moved.to(dtype)
            return moved
        return super().__torch_function__(func, types, args, kwargs)


def _moves_to_cpu(args, kwargs) -> bool:
    for value in list(args[1:]) + [kwargs.get("device")]:
        if isinstance(value, (str, torch.device)) and torch.device(value).type == "cpu":
            return True
        if isinstance(value, torch.Tensor) and not isinstance(value, OffCPUTensor) and value.device.type == "cpu":
            return True
    return False


def off_cpu(t: torch.Tensor) -> torch.Tensor:
    """`t` as a simulated non-CPU tensor; a leaf stays a leaf with its requires_grad."""
    if t.is_leaf:
        out = t.detach().as_subclass(OffCPUTensor)
        return out.requires_grad_(t.requires_grad)
    return t.as_subclass(OffCPUTensor)


def devices_for_numpy() -> list[str]:
    """Non-CPU devices to check conversions on: the simulated one, and CUDA when present."""
    devices = ["simulated-gpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    return devices


def on_device(t: torch.Tensor, device: str) -> torch.Tensor:
    """Move a CPU tensor to `device` ("cpu", "simulated-gpu" or a real one), keeping leafness."""
    if device == "cpu":
        return t
    if device == "simulated-gpu":
        return off_cpu(t)
    moved = t.detach().to(device)
    return moved.requires_grad_(t.requires_grad) if t.is_leaf else moved


# --------------------------------------------------------------------------- modules


class TinyLM(nn.Module):
    """A small language model whose decoder shares the embedding's weight (tied weights):
    one parameter tensor held by two modules."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.body = nn.Linear(dim, dim)
        self.decoder = nn.Linear(dim, vocab)
        self.decoder.weight = self.embedding.weight  # tied: one tensor, two modules

    def forward(self, tokens):
        return self.decoder(torch.tanh(self.body(self.embedding(tokens))))



@dataclass
class ModuleState:
    training: dict
    requires_grad: dict
    grads: dict
    objects: dict


def snapshot(model: nn.Module) -> ModuleState:
    """Modes, flags, grads and identities of a module's submodules and parameters."""
    params = dict(model.named_parameters(remove_duplicate=False))
    return ModuleState(
        training={name or "(the model)": m.training for name, m in model.named_modules()},
        requires_grad={n: p.requires_grad for n, p in params.items()},
        grads={n: (None if p.grad is None else p.grad.detach().clone()) for n, p in params.items()},
        objects={n: p for n, p in params.items()},
    )


def changes(before: ModuleState, model: nn.Module, *, grads: bool = True) -> list[str]:
    """What is different now from `before`, in words (empty when nothing changed)."""
    after = snapshot(model)
    found = []
    for name, was in before.training.items():
        now = after.training.get(name)
        if now is not None and now != was:
            mode = lambda flag: "train" if flag else "eval"  # noqa: E731
            found.append(f"module {name} was in {mode(was)} mode and is now in {mode(now)} mode")
    for name, was in before.requires_grad.items():
        now = after.requires_grad.get(name)
        if now is not None and now != was:
            found.append(f"parameter {name} had requires_grad={was} and now has requires_grad={now}")
    for name, obj in before.objects.items():
        if after.objects.get(name) is not obj:
            found.append(f"parameter {name} was replaced by a different object")
    if grads:
        for name, was in before.grads.items():
            now = after.grads.get(name)
            if was is None and now is not None:
                found.append(f"parameter {name} had no .grad and now has one")
            elif was is not None and (now is None or now.shape != was.shape or not torch.equal(now, was)):
                found.append(f"parameter {name}'s .grad was changed")
    return found


def listed(items: list[str], limit: int = 3) -> str:
    """The first few of a list of changes (from `changes`), in words."""
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


# --------------------------------------------------------------------------- guards


@contextmanager
def grad_mode_kept(fn_name: str):
    """Fail if the block leaves grad mode different from how it found it."""
    before = torch.is_grad_enabled()
    try:
        yield
    finally:
        after = torch.is_grad_enabled()
        if after != before:
            torch.set_grad_enabled(before)
            raise AssertionError(
                f"{fn_name} left gradient tracking switched {'on' if after else 'off'} for the caller "
                f"(torch.is_grad_enabled() was {before} before the call and {after} after). "
                "`torch.set_grad_enabled(False)` changes it for everybody until it is switched back: "
                "use `with torch.no_grad():`, which restores it when the block ends."
            )


@contextmanager
def explain_errors(fn_name: str, explanations: dict[str, str]):
    """Turn an exception whose message matches a pattern into a learner's message.

    `explanations` maps a regular expression (searched in "Type: message") to advice.
    Other exceptions pass through unchanged.
    """
    try:
        yield
    except AssertionError:
        raise
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        for pattern, advice in explanations.items():
            if re.search(pattern, text):
                first_line = text.splitlines()[0]
                raise AssertionError(f"{fn_name} raised {first_line}\n{advice}") from exc
        raise


def expect_tensor(value, fn_name: str, what: str = "the result") -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(
            f"{fn_name} returned {type(value).__name__} ({_short(value)}) as {what}; a torch.Tensor is expected."
        )
    return value


def expect_python_number(value, fn_name: str, kind=float, what: str = "the result"):
    if isinstance(value, torch.Tensor):
        raise AssertionError(
            f"{fn_name} returned a tensor ({_short(value)}) as {what}; a plain Python {kind.__name__} is expected. "
            f"A tensor kept for logging keeps its device and (if it requires grad) its whole graph alive: "
            f"convert it with `.item()`{' and `float(...)`' if kind is float else ''}."
        )
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise AssertionError(f"{fn_name} returned {type(value).__name__} ({_short(value)}); a Python {kind.__name__} is expected.")
    return value


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
