"""What a differential check observes of a call: `Seen`, one observed field, and `observe`, everything
observable after a call (the result, every input after it, the grad mode); `_same`, whether two observed
values are the same (within a tolerance for floats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from checks.instruments import head


class Seen(NamedTuple):
    """One observed field: a value to compare (`key`) and how it reads in a message (`text`)."""

    field: str
    key: Any
    text: Any  # a str, or a function of no argument that makes it (only a differing field is shown)

    @property
    def shown(self) -> str:
        return self.text() if callable(self.text) else self.text


def _plain(t: torch.Tensor) -> torch.Tensor:
    """A CPU float64 (or bool/int) copy of `t`'s values, out of any simulated device and any graph."""
    with torch._C.DisableTorchFunctionSubclass():
        values = torch.Tensor.detach(t).clone()
    values = values.as_subclass(torch.Tensor)
    if values.device.type != "cpu":
        values = values.cpu()
    return values.double() if values.is_floating_point() else values


def _flag(value) -> str:
    return "True" if value else "False"


@dataclass
class _Before:
    """An input tensor as it was before the call."""

    obj: torch.Tensor
    storage: int
    version: int
    grad: torch.Tensor | None


def _grad_of(t: torch.Tensor):
    return t.grad if t.is_leaf else None


def _inputs(args: dict) -> list[tuple[str, Any]]:
    """Every tensor and module of the arguments, by a readable path ("x", "model", "params[1]")."""
    found = []
    for name, value in args.items():
        if isinstance(value, (list, tuple)):
            found += [(f"{name}[{i}]", v) for i, v in enumerate(value) if isinstance(v, (torch.Tensor, nn.Module))]
        elif isinstance(value, (torch.Tensor, nn.Module)):
            found.append((name, value))
    return found


def _tensors_of(args: dict) -> list[tuple[str, torch.Tensor]]:
    found = []
    for path, value in _inputs(args):
        if isinstance(value, nn.Module):
            found += [(f"{path}'s parameter {n}", p) for n, p in value.named_parameters(remove_duplicate=False)]
            found += [(f"{path}'s buffer {n}", b) for n, b in value.named_buffers(remove_duplicate=False)]
        else:
            found.append((path, value))
    return found


def _before(args: dict) -> dict[str, _Before]:
    return {path: _Before(t, t.untyped_storage().data_ptr(), t._version, _grad_of(t))
            for path, t in _tensors_of(args)}


def _tensor_fields(where: str, t: torch.Tensor) -> list[Seen]:
    values = _plain(t)
    return [
        Seen(f"{where}'s shape", tuple(t.shape), str(tuple(t.shape))),
        Seen(f"{where}'s dtype", t.dtype, str(t.dtype).removeprefix("torch.")),
        Seen(f"{where}'s device", str(t.device), str(t.device)),
        Seen(f"{where}'s values", values, lambda: head(values)),
        Seen(f"{where}'s requires_grad", t.requires_grad, _flag(t.requires_grad)),
        Seen(f"{where}'s grad_fn", t.grad_fn is not None,
             f"a grad_fn ({type(t.grad_fn).__name__})" if t.grad_fn is not None else "None (no history)"),
        Seen(f"{where}'s is_leaf", t.is_leaf, _flag(t.is_leaf)),
    ]


def _related(t: torch.Tensor, before: dict[str, _Before]) -> list[Seen]:
    """Which input `t` (a result) is, and which inputs' memory it shares."""
    same = [path for path, b in before.items() if b.obj is t]
    storage = t.untyped_storage().data_ptr()
    shared = sorted({path for path, b in before.items() if b.storage == storage and storage != 0})
    return [Seen("which object the result is", tuple(same), f"the input {same[0]}" if same else "a new object"),
            Seen("the inputs whose memory the result shares", tuple(shared),
                 ", ".join(shared) if shared else "none (its own memory)")]


def _result_fields(result, before: dict[str, _Before], where: str = "the result") -> list[Seen]:
    if isinstance(result, torch.Tensor):
        seen = [Seen(f"{where}'s kind", "tensor", "a tensor")]
        seen += _tensor_fields(where, result)
        seen += [Seen(s.field.replace("the result", where), s.key, s.text) for s in _related(result, before)]
        return seen
    if isinstance(result, np.ndarray):
        seen = [Seen(f"{where}'s kind", "array", "a numpy array"),
                Seen(f"{where}'s shape", result.shape, str(result.shape)),
                Seen(f"{where}'s dtype", str(result.dtype), str(result.dtype)),
                Seen(f"{where}'s values", torch.from_numpy(np.array(result, copy=True)).double()
                     if result.dtype.kind in "fiub" else result.tolist(), head(result))]
        start = result.__array_interface__["data"][0]
        shared = sorted(path for path, b in before.items()
                        if b.storage <= start < b.storage + b.obj.untyped_storage().nbytes() and b.storage)
        return seen + [Seen(f"the inputs whose memory {where} shares", tuple(shared),
                            ", ".join(shared) if shared else "none (a copy)")]
    if isinstance(result, (list, tuple)):
        kind = type(result).__name__
        seen = [Seen(f"{where}'s kind", kind, f"a {kind}"), Seen(f"{where}'s length", len(result), str(len(result)))]
        if all(isinstance(v, (str, int, float, bool)) or v is None for v in result):
            return seen + [Seen(f"{where}'s items", _numbers_key(result), repr(list(result))[:120])]
        for i, item in enumerate(result):
            seen += _result_fields(item, before, f"{where}[{i}]")
        return seen
    kind = type(result).__name__
    seen = [Seen(f"{where}'s kind", kind, "None" if result is None else f"a {kind}")]
    if isinstance(result, (int, float, str, bool)):
        seen.append(Seen(f"{where}'s value", _numbers_key(result), repr(result)))
    return seen


def _numbers_key(value):
    """Numbers compared with a tolerance: floats rounded, others as they are."""
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, (list, tuple)):
        return tuple(_numbers_key(v) for v in value)
    return value


def _input_fields(args: dict, before: dict[str, _Before]) -> list[Seen]:
    seen = []
    for path, value in _inputs(args):
        if isinstance(value, nn.Module):
            for name, m in value.named_modules():
                mode = "train" if m.training else "eval"
                seen.append(Seen(f"the mode of {path}{'.' + name if name else ''} after the call", mode, mode))
            now = dict(value.named_parameters(remove_duplicate=False))
            for name in [n for n in before if n.startswith(f"{path}'s parameter ")]:
                p = now.get(name.split("'s parameter ", 1)[1])
                seen.append(Seen(f"whether {name} is still the same object", p is before[name].obj,
                                 "yes" if p is before[name].obj else "no (replaced)" if p is not None else "gone"))
    for path, t in _tensors_of(args):
        b = before.get(path)
        where = path + " after the call"
        seen += _tensor_fields(where, t)
        if b is None:
            continue
        changed = t._version != b.version or t is not b.obj
        seen.append(Seen(f"whether {path} was changed in place (its version counter)", changed,
                         f"changed (version {b.version} -> {t._version})" if changed else "not changed"))
        seen.append(Seen(f"whether {path} still uses the same memory",
                         t.untyped_storage().data_ptr() == b.storage,
                         "yes" if t.untyped_storage().data_ptr() == b.storage else "no (new memory)"))
        grad = _grad_of(t)
        seen.append(Seen(f"{path}'s .grad after the call", None if grad is None else _plain(grad),
                         "None" if grad is None else lambda: head(grad)))
        if b.grad is not None and grad is not None:
            seen.append(Seen(f"whether {path}'s .grad is the object it was before the call", grad is b.grad,
                             "the same object" if grad is b.grad else "a new object"))
    return seen


def observe(args: dict, result, before: dict[str, _Before], grad_mode_before: bool) -> list[Seen]:
    """Everything observable after a call of a function on `args` that returned `result`."""
    return (_result_fields(result, before) + _input_fields(args, before)
            + [Seen("grad mode after the call (torch.is_grad_enabled())", torch.is_grad_enabled(),
                    "on" if torch.is_grad_enabled() else "off" + (" (as before)" if not grad_mode_before else ""))])


def _same(a, b, rtol: float, atol: float) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape:
            return False
        if a.dtype == b.dtype and torch.equal(a, b):  # most often: the same operations, the same values
            return True
        if a.dtype.is_floating_point or b.dtype.is_floating_point:
            return torch.allclose(a.double(), b.double(), rtol=rtol, atol=atol, equal_nan=True)  # no copy if double
        return False
    return a == b
