"""What a module, a tensor or a list of tensors was before the learner's function ran, and what
changed since, in words."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from .advice import RaisedByTheCheck
from .mistakes import Mistake


@dataclass
class TensorState:
    """A tensor as it was: the object itself, its values, dtype, flags, history, gradient, version counter
    and memory (`snapshot(t)`)."""

    obj: torch.Tensor
    values: torch.Tensor
    dtype: torch.dtype
    requires_grad: bool
    grad_fn: object
    is_leaf: bool
    grad: torch.Tensor | None
    version: int
    storage: int  # untyped_storage().data_ptr(): where its memory is
    data_ptr: int  # where its first element is

    def changes(self, t: torch.Tensor, what: str = "requires_grad grad_fn is_leaf", name: str = "t") -> list[str]:
        """Which of the flags in `what` (requires_grad, grad_fn, is_leaf) `t` no longer has, in words."""
        found = []
        for flag in what.split():
            was, now = getattr(self, flag), getattr(t, flag)
            if flag == "grad_fn" and now is not was:
                found.append(f"{name}.grad_fn was {grad_fn_name(was)} and is now {grad_fn_name(now)}")
            elif flag != "grad_fn" and now != was:
                found.append(f"{name}.{flag} was {was} and is now {now}")
        return found


@dataclass
class ModuleState:
    """A module as it was (`snapshot(model)`): the mode of every submodule, and the state of every parameter
    (under each name a module holds it by: a tied one under each) and every buffer."""

    training: dict[str, bool]  # "(the model)" for the module itself
    params: dict[str, TensorState]
    buffers: dict[str, TensorState]

    @property
    def requires_grad(self) -> dict[str, bool]:
        return {n: s.requires_grad for n, s in self.params.items()}

    @property
    def grads(self) -> dict[str, torch.Tensor | None]:
        return {n: s.grad for n, s in self.params.items()}

    @property
    def objects(self) -> dict[str, torch.Tensor]:
        return {n: s.obj for n, s in self.params.items()}

    @property
    def values(self) -> dict[str, torch.Tensor]:
        """The values of the parameters and of the buffers, by name."""
        return {n: s.values for n, s in [*self.params.items(), *self.buffers.items()]}

    def replaced(self, model: nn.Module) -> list[str]:
        """The parameters that `model` now holds as a different object (or no longer holds)."""
        now = _parameters(model)
        return [n for n, s in self.params.items() if now.get(n) is not s.obj]

    def moved(self, model: nn.Module, buffers: bool = False) -> list[str]:
        """The parameters (and buffers) whose values are not what they were."""
        states = [*self.params.items(), *(self.buffers.items() if buffers else ())]
        now = {**_parameters(model), **(_buffers(model) if buffers else {})}
        return [n for n, s in states if n in now and not torch.equal(now[n].detach(), s.values)]

    def regraded(self, model: nn.Module) -> list[str]:
        """The parameters whose `.grad` is not what it was: one appeared, went away, or holds other values."""
        now = _parameters(model)
        return [n for n, s in self.params.items() if n in now and not _same_grad(s.grad, now[n].grad)]

    def switched(self, model: nn.Module) -> list[str]:
        """The modules whose train/eval mode is not what it was (or that are gone)."""
        now = _modes(model)
        return [n for n, was in self.training.items() if now.get(n) != was]


def _parameters(model: nn.Module) -> dict[str, torch.Tensor]:
    return dict(model.named_parameters(remove_duplicate=False))


def _buffers(model: nn.Module) -> dict[str, torch.Tensor]:
    return dict(model.named_buffers(remove_duplicate=False))


def _modes(model: nn.Module) -> dict[str, bool]:
    return {name or "(the model)": m.training for name, m in model.named_modules()}


def _same_grad(was: torch.Tensor | None, now: torch.Tensor | None) -> bool:
    return (was is None) == (now is None) and (was is None or torch.equal(now, was))


def _tensor_state(t: torch.Tensor) -> TensorState:
    if t.is_leaf:
        grad = t.grad
    else:
        with warnings.catch_warnings():  # the .grad of a non-leaf warns (autograd normally never fills it)
            warnings.simplefilter("ignore")
            grad = t.grad
    return TensorState(t, t.detach().clone(), t.dtype, t.requires_grad, t.grad_fn, t.is_leaf,
                       None if grad is None else grad.detach().clone(), t._version,
                       t.untyped_storage().data_ptr(), t.data_ptr())


def snapshot(obj):
    """What `obj` is now, to compare with what it is after the learner's function ran: a module's modes,
    parameters and buffers (a `ModuleState`), a tensor's values, flags, history, gradient, version counter
    and memory (a `TensorState`), or each tensor's of a list (a list of `TensorState`)."""
    if isinstance(obj, nn.Module):
        return ModuleState(
            training=_modes(obj),
            params={n: _tensor_state(p) for n, p in _parameters(obj).items()},
            buffers={n: _tensor_state(b) for n, b in _buffers(obj).items()},
        )
    if isinstance(obj, torch.Tensor):
        return _tensor_state(obj)
    return [_tensor_state(t) for t in obj]


CHANGES = ("modes", "flags", "grads", "buffers")


def changes(before: ModuleState, model: nn.Module, what: str = "modes flags grads") -> list[str]:
    """What is different now from `before`, in words (empty when nothing changed), of the kinds in `what`:
    "modes" (train/eval), "flags" (requires_grad, and parameters replaced), "grads", "buffers" (values)."""
    kinds = what.split()
    unknown = set(kinds) - set(CHANGES)
    if unknown:
        raise ValueError(f"changes of {sorted(unknown)}: only {CHANGES} are known")
    after = snapshot(model)
    found = []
    if "modes" in kinds:
        for name, was in before.training.items():
            now = after.training.get(name)
            if now is not None and now != was:
                found.append(f"module {name} was in {_mode(was)} mode and is now in {_mode(now)} mode")
    if "flags" in kinds:
        for name, was in before.requires_grad.items():
            now = after.params.get(name)
            if now is not None and now.requires_grad != was:
                found.append(f"parameter {name} had requires_grad={was} and now has requires_grad={now.requires_grad}")
        found += [f"parameter {name} was replaced by a different object" for name in before.replaced(model)]
    if "grads" in kinds:
        grads = after.grads
        for name, state in before.params.items():
            was, now = state.grad, grads.get(name)
            if was is None and now is not None:
                found.append(f"parameter {name} had no .grad and now has one")
            elif was is not None and (now is None or now.shape != was.shape or not torch.equal(now, was)):
                found.append(f"parameter {name}'s .grad was changed")
    if "buffers" in kinds:
        now = _buffers(model)
        found += [f"buffer {n} was changed" for n, s in before.buffers.items()
                  if n in now and not torch.equal(now[n], s.values)]
    return found


def _mode(training: bool) -> str:
    return "train" if training else "eval"


def what_changed(modules, run, what: str = "modes flags grads") -> list[str]:
    """Run `run()` (the learner's function, called by the check) and say what it changed of `modules`, of
    the kinds in `what` (see `changes`): of one module, or of each of a dict of named modules, whose
    changes then begin with the name ("encoder: module 0 was in ...")."""
    named = modules if isinstance(modules, dict) else {"": modules}
    before = {name: snapshot(m) for name, m in named.items()}
    run()
    return [f"{name}: {c}" if name else c for name, m in named.items() for c in changes(before[name], m, what)]


def assert_left_alone(modules, run, what: str, mistake: "Mistake"):
    """Run `run()` (the learner's function, called by the check): it must change nothing of `modules` of the
    kinds in `what` (see `what_changed`), or `mistake` is the message, its "{changes}" filled in."""
    changed = what_changed(modules, run, what)
    assert not changed, mistake.says(changes=listed(changed))


def assert_restored_when_it_raises(module: nn.Module, run, *, grad_mode: "Mistake", changed: "Mistake"):
    """Run `run()`, a call of the learner's function with `module` (a `FailsOnPurpose`) that ends in
    `RaisedByTheCheck`: grad mode must still be on when the exception comes out (`grad_mode` is the message
    otherwise; it is switched back on either way), and `module`'s modes, flags and grads as they were
    (`changed`, its "{changes}" filled in, otherwise)."""
    before = snapshot(module)
    try:
        run()
    except RaisedByTheCheck:
        pass
    kept = torch.is_grad_enabled()
    torch.set_grad_enabled(True)
    assert kept, grad_mode
    found = changes(before, module)
    assert not found, changed.says(changes=listed(found))


def listed(items: list[str], limit: int = 3) -> str:
    """The first few of a list of changes (from `changes`), in words."""
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def head(values, digits: int = 5, n: int = 4) -> str:
    """The first `n` values of a tensor, an array or a list of numbers, floats rounded to `digits`, for a
    message: "[0.1, -2.0, 3.25, 0.5]..." (the dots when there are more)."""
    if isinstance(values, torch.Tensor):
        shown, total = values.detach().flatten()[:n].tolist(), values.numel()
    elif isinstance(values, np.ndarray):
        flat = values.reshape(-1)
        shown, total = flat[:n].tolist(), flat.size
    else:
        shown, total = [float(v) for v in values[:n]], len(values)
    rounded = [round(v, digits) if isinstance(v, float) else v for v in shown]
    return f"{rounded}{'...' if total > n else ''}"


def grad_fn_name(fn) -> str:
    """A tensor's grad_fn in a message: "None", or the node's class, "<MulBackward0>"."""
    return "None" if fn is None else f"<{type(fn).__name__}>"
