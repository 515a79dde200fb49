"""The guard that lets only real tensors, modules and arrays through to and from the learner's function."""

from __future__ import annotations

import functools
import sys

import numpy as np
import torch
from torch import nn
from .mistakes import Mistake


NOT_REAL = Mistake(
    "any.not_real", "a tensor subclass, a mock or a tensor-like object where a real tensor belongs",
    "{fn_name} {did}: the checks accept only real objects here, exactly {expected}. A subclass (or an object "
    "that only looks like a tensor) can redefine what `==`, `grad_fn`, `requires_grad`, `.data` or `data_ptr()` "
    "report, so what the checks would see is not what your code did. {advice}"
)
_RETURN_ADVICE = "Return the tensor (or array) PyTorch gives you, without a class of your own around it."
_LEAVE_ADVICE = "Leave the caller's tensors, parameters and gradients the classes they are."
_DEPTH = 3  # how far into lists, tuples and dicts of the arguments and the result the guard looks


def _held_tensors(value, where: str, depth: int = 0):
    """(description, tensor) for every tensor an argument holds: itself, a module's parameters
    and buffers, an optimizer's parameters, their gradients; inside lists, tuples and dicts."""
    if isinstance(value, torch.Tensor):
        yield where, value
        if value.is_leaf and value.grad is not None:
            yield f"{where}.grad", value.grad
    elif isinstance(value, nn.Module):
        for name, p in value.named_parameters(remove_duplicate=False):
            yield from _held_tensors(p, f"parameter {name}", _DEPTH)
        for name, b in value.named_buffers(remove_duplicate=False):
            yield f"buffer {name}", b
    elif isinstance(value, torch.optim.Optimizer):
        for group in value.param_groups:
            for p in group["params"]:
                yield from _held_tensors(p, "a parameter of the optimizer", _DEPTH)
    elif depth < _DEPTH and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _held_tensors(item, f"{where}[{i}]", depth + 1)
    elif depth < _DEPTH and isinstance(value, dict):
        for key, item in value.items():
            yield from _held_tensors(item, f"{where}[{key!r}]", depth + 1)


def _fake(value, kinds: frozenset) -> str | None:
    """Why `value`, a result, is not a real object (None when it is): a tensor of a class other
    than `kinds` (torch.Tensor, nn.Parameter and the classes of the tensors the checks passed in),
    an array of a subclass, a mock, or an object that claims to be a tensor or array without being one."""
    mock = sys.modules.get("unittest.mock")
    if mock is not None and isinstance(value, mock.NonCallableMock):
        return f"a {type(value).__name__} (a mock)"
    kind = type(value)
    if isinstance(value, torch.Tensor) and kind not in kinds:
        return f"a {kind.__qualname__} (a subclass of torch.Tensor)"
    if isinstance(value, np.ndarray) and kind is not np.ndarray:
        return f"a {kind.__qualname__} (a subclass of numpy.ndarray)"
    if not isinstance(value, (torch.Tensor, np.ndarray, np.generic)) and (  # numpy numbers: expect_python_number
            hasattr(kind, "__torch_function__") or hasattr(kind, "__array_interface__")):
        return f"a {kind.__qualname__} (an object that poses as a tensor or an array)"
    return None


def _fake_in(value, kinds: frozenset, depth: int = 0) -> str | None:
    """The first fake object in a result (its lists, tuples and dicts included), said as `_fake`."""
    why = _fake(value, kinds)
    if why or depth >= _DEPTH:
        return why
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    for item in items:
        why = _fake_in(item, kinds, depth + 1)
        if why:
            return why
    return None


def only_real_objects(fn, fn_name: str):
    """`fn` (the learner's function), guarded: after each call, every tensor its arguments held
    (a tensor, a module's parameters, buffers and gradients, an optimizer's parameters) is still
    of its class, no gradient became another class, and what it returned is made of real tensors
    and arrays, not subclasses, mocks or look-alikes. A failure is `NOT_REAL`."""
    if getattr(fn, "__kata_guarded__", False) or not callable(fn):
        return fn

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        held = [(where, t, type(t)) for arg in (*args, *kwargs.values()) for where, t in _held_tensors(arg, "an argument")]
        kinds = frozenset({torch.Tensor, nn.Parameter, *(kind for _, _, kind in held)})
        result = fn(*args, **kwargs)
        for where, t, kind in held:
            if type(t) is not kind:
                raise AssertionError(NOT_REAL.says(
                    fn_name=fn_name, did=f"changed the class of {where} from {kind.__qualname__} to "
                                         f"{type(t).__qualname__}", expected=kind.__qualname__, advice=_LEAVE_ADVICE))
        for arg in (*args, *kwargs.values()):
            for where, t in _held_tensors(arg, "an argument"):
                # a gradient is a plain tensor, or of a class the checks passed in (a simulated device's)
                if where.endswith(".grad") and type(t) not in kinds - {nn.Parameter}:
                    raise AssertionError(NOT_REAL.says(
                        fn_name=fn_name, did=f"left {where} as a {type(t).__qualname__}", expected="torch.Tensor",
                        advice=_LEAVE_ADVICE))
        why = _fake_in(result, kinds)
        if why:
            raise AssertionError(NOT_REAL.says(fn_name=fn_name, did=f"returned {why}",
                                               expected="torch.Tensor (or numpy.ndarray)", advice=_RETURN_ADVICE))
        return result

    guarded.__kata_guarded__ = True
    return guarded
