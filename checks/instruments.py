"""Shared instruments of the checks: how a result was made, not just what it is.

- `count_saved_tensors()`: how many tensors autograd saved for backward in a block
  (zero means no graph was built, which a `.detach()` at the end cannot fake).
- `reaches(loss, tensor)`: whether a backward from `loss` would reach a leaf tensor.
- `OffCPUTensor` / `OffCPUNotCUDATensor` / `off_cpu()`: a simulated tensor on a non-CPU
  device (a CUDA GPU, or a device that is not CUDA) for machines without one;
  `devices_for_numpy()` adds a real CUDA device where there is one.
- `TinyLM`: a model with tied weights (one tensor held by two modules); `unique_parameters()` /
  `parameter_slots()`: a model's parameters each once, or once per module that holds them;
  `random_size()`: a layer size drawn from the check's seeded generator; `adam_settings_changed()`:
  an Adam's settings other than lr, where they are not the defaults.
- `snapshot(...)`: what a module (modes, parameters, buffers), a tensor (values, flags, history,
  gradient, version counter, memory) or a list of tensors was before the learner's function ran;
  `changes(before, model, what)` / `what_changed(modules, run, what)` / `listed(...)`: what
  changed since, in words; `assert_left_alone()` / `assert_restored_when_it_raises()`: the
  checks that a caller's modules are as they were; `head(...)` / `grad_fn_name(...)`: values
  and history in a message.
- `grad_mode_kept()`, `explain_errors()`, `expect_tensor()`, `expect_python_number()`:
  guards that turn a learner's mistake into a message saying what happened and what to do
  instead. Every call of a learner's function goes through `explain_errors`, with
  `describe_args(...)` saying what it was given: no exception of the learner's code reaches
  the learner without advice.
- `Mistake`: a known mistake, with a stable id ("ex03.rebinding") and a one-line title, that is
  also the learner's message: `assert ok, Mistake(id, title, message)`, declared once where the
  message is written. The grader reports the id and title with the failing check
  (`python -m grading.mistakes` lists them all in docs/mistakes.md).
"""

from __future__ import annotations

import builtins
import difflib
import functools
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from grading.mistakes import ID as MISTAKE_ID
from grading.targets import learner_location


# --------------------------------------------------------------------------- oracles

ORACLE_WATCHERS: list = []  # called with the oracle's name when the learner's code calls one (grading.child)


def oracle(fn):
    """Mark a check's reference computation (an oracle: what the right answer is, computed by the
    checks). The checks call it; the learner's code must not: a call whose caller is the learner's
    file (reached, say, through `sys._getframe().f_globals`) is reported to `ORACLE_WATCHERS`,
    which the grader sets to flag the exercise."""
    import sys

    from grading.targets import is_learner_file

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        caller = sys._getframe(1).f_code.co_filename
        if ORACLE_WATCHERS and is_learner_file(caller):
            for watcher in ORACLE_WATCHERS:
                watcher(fn.__qualname__)
        return fn(*args, **kwargs)

    guarded.__kata_oracle__ = True
    return guarded


# --------------------------------------------------------------------------- known mistakes

class Mistake(str):
    """A known mistake: the learner's message (this string itself), with a stable id and a title.

    `Mistake("ex03.rebinding", "rebinding instead of an in-place update", "parameter 0 did not
    change ...")` is used as an assertion's message, `assert ok, Mistake(...)` or `raise
    AssertionError(Mistake(...))`: the learner reads the message as written, and the grader reports
    `mistake_id` and `mistake_title` with the failing check, so that a class's mistakes can be
    counted and a learner's fixed ones listed. The id is `exNN.snake_case` for a mistake of one
    exercise, `any.snake_case` for one the shared instruments catch in every exercise; it never
    changes once published, and each id is declared once, where its message is written (the id and
    the title as plain string literals: `python -m grading.mistakes` reads them from the source).

    A message with parts known only when the check runs is either an f-string in place, or a
    template declared once and filled in with `says(name=value, ...)`. Being a `str`, a Mistake is
    also a valid advice of `explain_errors`, and a message under bare pytest's assertion rewriting.
    """

    mistake_id: str
    mistake_title: str

    def __new__(cls, mistake_id: str, title: str, message: str) -> "Mistake":
        if not MISTAKE_ID.fullmatch(mistake_id):
            raise ValueError(f"a mistake's id is `exNN.snake_case` or `any.snake_case`, not {mistake_id!r}")
        self = super().__new__(cls, message)
        self.mistake_id, self.mistake_title = mistake_id, title
        return self

    def says(self, **detail) -> "Mistake":
        """This mistake, its message template filled in with `detail` (`str.format` fields)."""
        return Mistake(self.mistake_id, self.mistake_title, str.format(self, **detail))

    def reworded(self, message: str) -> "Mistake":
        """This mistake with another message (the same advice in a longer explanation)."""
        return Mistake(self.mistake_id, self.mistake_title, message)

    def __reduce__(self):
        return (Mistake, (self.mistake_id, self.mistake_title, str(self)))

    def __repr__(self) -> str:
        return f"Mistake({self.mistake_id!r}, {self.mistake_title!r}, {str(self)!r})"


def as_mistake(part: str, message: str) -> str:
    """`message` as the known mistake that `part` (a piece of it, a reason or an advice) is: a
    `Mistake` with `part`'s id and title when `part` is one, else the plain text."""
    return part.reworded(message) if isinstance(part, Mistake) else message


def mistake_of(exc: BaseException):
    """The known mistake an exception reports (on the exception or its first argument), if any."""
    for candidate in (exc, *(getattr(exc, "args", ())[:1])):
        if isinstance(getattr(candidate, "mistake_id", None), str):
            return candidate
    return None


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
    Subclasses simulate other devices by changing `DEVICE`.
    """

    DEVICE = torch.device("cuda", 0)

    @classmethod
    def refusal(cls) -> str:
        return (f"can't convert {cls.DEVICE} device type tensor to numpy. "
                "Use Tensor.cpu() to copy the tensor to host memory first.")

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.Tensor.numpy, torch.Tensor.__array__):
            if func is torch.Tensor.numpy and kwargs.get("force"):
                plain = args[0].detach().cpu()
                return plain.resolve_conj().resolve_neg().numpy()
            raise TypeError(cls.refusal())
        if func is torch.Tensor.tolist:
            with torch._C.DisableTorchFunctionSubclass():
                return func(*args, **kwargs)
        owner = getattr(func, "__self__", None)  # property getters arrive as `<descriptor>.__get__`
        if owner is torch.Tensor.device:
            return cls.DEVICE
        for kind, flag in _DEVICE_FLAGS.items():
            if owner is flag:
                return cls.DEVICE.type == kind
        if func is torch.Tensor.cpu or (func is torch.Tensor.to and _moves_to_cpu(args, kwargs)):
            with torch._C.DisableTorchFunctionSubclass():
                moved = torch.Tensor.clone(args[0])  # a real transfer is a copy
                if func is torch.Tensor.to:
                    dtype = next((a for a in args[1:] if isinstance(a, torch.dtype)), kwargs.get("dtype"))
                    if dtype is not None:
                        moved = moved.to(dtype)
            return moved
        return super().__torch_function__(func, types, args, kwargs)


class OffCPUNotCUDATensor(OffCPUTensor):
    """Like OffCPUTensor, on a device that is neither the CPU nor CUDA (Apple's mps): `is_cuda`
    is False, and `is_mps` True."""

    DEVICE = torch.device("mps", 0)


# the boolean properties that say where a tensor lives (those this PyTorch has)
_DEVICE_FLAGS = {kind: getattr(torch.Tensor, f"is_{kind}") for kind in ("cpu", "cuda", "mps", "xpu")
                 if hasattr(torch.Tensor, f"is_{kind}")}


def _moves_to_cpu(args, kwargs) -> bool:
    for value in list(args[1:]) + [kwargs.get("device")]:
        if isinstance(value, (str, torch.device)) and torch.device(value).type == "cpu":
            return True
        if isinstance(value, torch.Tensor) and not isinstance(value, OffCPUTensor) and value.device.type == "cpu":
            return True
    return False


SIMULATED_DEVICES = {"simulated-gpu": OffCPUTensor, "simulated-mps": OffCPUNotCUDATensor}


def off_cpu(t: torch.Tensor, kind: type = OffCPUTensor) -> torch.Tensor:
    """`t` as a simulated non-CPU tensor; a leaf stays a leaf with its requires_grad."""
    if t.is_leaf:
        out = t.detach().as_subclass(kind)
        return out.requires_grad_(t.requires_grad)
    return t.as_subclass(kind)


def devices_for_numpy() -> list[str]:
    """Non-CPU devices to check conversions on: the simulated ones (a CUDA GPU, and a device that is
    not CUDA), and real CUDA when present."""
    devices = list(SIMULATED_DEVICES)
    if torch.cuda.is_available():
        devices.append("cuda")
    return devices


def on_device(t: torch.Tensor, device: str) -> torch.Tensor:
    """Move a CPU tensor to `device` ("cpu", a simulated one or a real one), keeping leafness."""
    if device == "cpu":
        return t
    if device in SIMULATED_DEVICES:
        return off_cpu(t, SIMULATED_DEVICES[device])
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



def random_size(low: int, high: int) -> int:
    """A random size from `low` to `high - 1`, drawn from torch's generator (which every check seeds)."""
    return int(torch.randint(low, high, ()))


def unique_parameters(model: nn.Module) -> list[torch.Tensor]:
    """Every parameter tensor of `model` once, found module by module and told apart by identity (an
    oracle's view, independent of `model.parameters()`)."""
    unique = {}
    for p in parameter_slots(model):
        unique.setdefault(id(p), p)
    return list(unique.values())


def parameter_slots(model: nn.Module) -> list[torch.Tensor]:
    """The parameters as many times as modules hold them (a tied one once per module)."""
    return [p for m in model.modules() for p in m._parameters.values() if p is not None]


def adam_settings_changed(opt: torch.optim.Optimizer) -> str:
    """The settings other than lr of the first parameter group of an Adam where they are not Adam's defaults,
    in words ("weight_decay=0.01, betas=(0.9, 0.999), amsgrad=False"); "" when every group has the defaults."""
    for group in opt.param_groups:
        if not (group["weight_decay"] == 0 and group["betas"] == (0.9, 0.999) and not group["amsgrad"]):
            return f"weight_decay={group['weight_decay']}, betas={group['betas']}, amsgrad={group['amsgrad']}"
    return ""


class FailsOnPurpose(nn.Module):
    """A module whose forward fails halfway (after its layer ran), as one given a wrong input would:
    it raises `RaisedByTheCheck`, which `explain_errors` lets through for the check to catch."""

    def __init__(self, in_features: int, out_features: int, what: str = "this model"):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.what = what

    def forward(self, x):
        self.linear(x)
        raise RaisedByTheCheck(f"{self.what} fails on purpose")


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


# --------------------------------------------------------------------------- guards


@contextmanager
def grad_mode_kept(fn_name: str, caller: str | None = None):
    """Fail if the block leaves grad mode different from how it found it. With `caller`, the block starts in
    the caller's grad mode: "grad-enabled" (tracking on), or any other (tracking off, as inside no_grad)."""
    if caller is not None:
        torch.set_grad_enabled(caller == "grad-enabled")
    before = torch.is_grad_enabled()
    try:
        yield
    finally:
        after = torch.is_grad_enabled()
        if after != before:
            torch.set_grad_enabled(before)
            raise AssertionError((GRAD_MODE_LEFT_ON if after else GRAD_MODE_LEFT_OFF).says(
                fn_name=fn_name, before=before, after=after))


_GRAD_MODE_LEFT = (
    "{fn_name} left gradient tracking switched {now} for the caller (torch.is_grad_enabled() was {before} "
    "before the call and {after} after). `torch.set_grad_enabled(False)` changes it for everybody until it "
    "is switched back: use `with torch.no_grad():`, which restores it when the block ends."
)
GRAD_MODE_LEFT_OFF = Mistake("any.grad_mode_left_off", "gradient tracking left switched off for the caller",
                             _GRAD_MODE_LEFT.replace("{now}", "off"))
GRAD_MODE_LEFT_ON = Mistake("any.grad_mode_left_on", "gradient tracking left switched on for the caller",
                            _GRAD_MODE_LEFT.replace("{now}", "on"))


class RaisedByTheCheck(Exception):
    """What a check's own failing model or loss function raises on purpose while the learner's
    function runs: `explain_errors` lets it through, for the check to catch."""


# raised by the learner's code, yet not explained here: the grader reports them itself
# (AssertionError: the learner's own assert, shown as written; NotImplementedError: "not started";
# MemoryError: out of memory). BaseExceptions (time limits, Ctrl-C, exits) are never caught.
_NOT_EXPLAINED = (AssertionError, NotImplementedError, MemoryError, RaisedByTheCheck)
# what running out of memory says where it is not a MemoryError: torch's allocator, and a mapping or
# a thread refused by the address-space limit (OSError ENOMEM)
OUT_OF_MEMORY = re.compile(r"(?i)can(?:'|no)t allocate memory")

NONE_ADVICE = Mistake("any.none_used", "a None used as a value (a missing .grad, weight or bias)", (
    "A value your code used is None. The usual sources: the `.grad` of a parameter that took no part in the "
    "loss (or before any backward), a layer's `weight` or `bias` where it has none (`affine=False`, "
    "`bias=False`), a function or in-place list method (`.append`, `.sort`) whose result is None. Test for "
    "None before using the value."
))

# mistakes that raise the same way in every exercise: searched in "Type: message" after the exercise's own
EVERYDAY_MISTAKES = {
    r"'type' object does not support the context manager protocol": Mistake(
        "any.no_grad_without_parentheses", "`with torch.no_grad:` without parentheses",
        "`with torch.no_grad:` names the class without creating the context manager: write it with "
        "parentheses, `with torch.no_grad():`."
    ),
    r"object does not support the context manager protocol": Mistake(
        "any.mode_switch_as_context_manager", "a mode switch such as model.eval() used after `with`",
        "Only a context manager can follow `with`, such as `torch.no_grad()` or `torch.enable_grad()`. "
        "`model.eval()` and `model.train()` are not: they switch the mode for good (until switched back) and "
        "return the model itself."
    ),
    r"NoneType": NONE_ADVICE,
    r"'method' object|builtin_function_or_method|method-wrapper|'bound method'": Mistake(
        "any.method_not_called", "a method named without calling it (no parentheses)",
        "A method was used without calling it: `p.numel`, `t.item` or `t.detach` without parentheses only name "
        "the method. Add the parentheses: `p.numel()`, `t.item()`, `t.detach()`."
    ),
    r"'generator' object|object of type 'generator'": Mistake(
        "any.generator_as_list", "a generator used as a list (len, indexing, a second pass)",
        "A generator (such as `model.parameters()`) has no length and no indexing, and it can be gone through "
        "only once. Loop over it once, or make a list of it first: `list(model.parameters())`."
    ),
    r"iteration over a 0-d tensor": Mistake(
        "any.iterating_a_0d_tensor", "a 0-d tensor gone through like a list (`+=`, extend, sum, unpacking)",
        "A 0-d tensor (a single number, such as a loss) cannot be gone through element by element, and "
        "`list += tensor`, `list.extend(tensor)`, `sum(tensor)` and unpacking all try to. To keep a number in a "
        "list, `values.append(t.item())`; to combine several 0-d tensors, put them in a list and "
        "`torch.stack(those).mean()` (or `.sum()`)."
    ),
}

# what an exception of each kind usually means, for those no pattern explains
ADVICE_BY_TYPE = {
    AttributeError: (
        "An object lacks the attribute your code asked for: check the name, and what the object really is. A "
        "container module "
        "(nn.Sequential, a model of its own class) has no `.weight` of its own, its layers do (go through "
        "`.parameters()` or `.modules()`); a dotted name such as 'blocks.1' is no attribute "
        "(`model.get_submodule(name)` follows the dots); a Python number has no tensor methods."
    ),
    TypeError: (
        "An operation got a value of a type it cannot handle, or a call got arguments it does not take. Check "
        "the types of the values on that line (a generator has no len(), a 0-d tensor cannot be iterated, None "
        "is not a tensor) and each call against its signature."
    ),
    ValueError: (
        "A value of the right type has a content the operation cannot take: unpacking a different number of "
        "items than there are, a shape or size the function does not accept, an empty sequence."
    ),
    LookupError: (
        "An index or a key that does not exist: a dimension out of range (a tensor of shape (n,) has only dim "
        "0), an index past the end of a list, a name that is not among `named_parameters()` or "
        "`named_modules()`."
    ),
    RuntimeError: (
        "PyTorch refused an operation, and its message says why. The usual reasons: shapes that do not fit "
        "together, dtypes that do not match, an in-place change that autograd cannot allow, a backward through "
        "a graph that was already freed."
    ),
    ZeroDivisionError: (
        "A division by zero: a count that stayed 0, usually because a loop never ran (for example over a "
        "generator that an earlier loop had already used up)."
    ),
    NameError: (
        "A name was used before it got a value: a typo, an import missing at the top of the file, or a "
        "variable assigned only in a branch that did not run."
    ),
    RecursionError: (
        "Calls that never end: a function that calls itself, directly or through another (for example a "
        "helper named like the function it wraps)."
    ),
    StopIteration: (
        "`next()` on an iterator that had nothing left: a generator can be gone through only once."
    ),
    ImportError: (
        "An import failed: the module or the name does not exist here, or is misspelled. The exercises need "
        "only torch, numpy and Python's standard library."
    ),
    ArithmeticError: "A computation on Python numbers went out of range: check the values on that line.",
}
ADVICE_OTHERWISE = (
    "Read the message and the line it names: that is where your function stopped. Call it yourself on "
    "inputs like the ones described to see it happen."
)
OWN_EXCEPTION = (
    "{kind} is not an exception of Python or PyTorch: your code (or a library it uses) raised it on purpose. "
    "The checks give {fn_name} only inputs the task allows, so for them nothing may be raised: look at the "
    "test that leads to this `raise`."
)


@contextmanager
def explain_errors(fn_name: str, explanations: dict[str, str] | None = None, *, called_with: str | None = None,
                   let_through: tuple = ()):
    """Turn an exception raised inside the block (by the learner's function) into a learner's message.

    `explanations` maps a regular expression (searched in "Type: message") to advice for a mistake of
    this exercise; `EVERYDAY_MISTAKES` are searched next; anything else gets the advice for its type
    (`ADVICE_BY_TYPE`). The message names the exception, the line of the learner's file it came from
    and, for an exception no pattern explains, `called_with` (what the function was given, from
    `describe_args`). Not explained, and passed on untouched: AssertionError, NotImplementedError
    (the grader's "not started"), MemoryError, `RaisedByTheCheck`, the types in `let_through`, and
    every BaseException that is not an Exception (time limits, Ctrl-C).
    """
    try:
        yield
    except _NOT_EXPLAINED:
        raise
    except Exception as exc:
        if isinstance(exc, let_through) or OUT_OF_MEMORY.search(_text_of(exc)):
            raise
        raise AssertionError(explanation(fn_name, exc, explanations or {}, called_with)) from exc


def explanation(fn_name: str, exc: Exception, explanations: dict[str, str], called_with: str | None = None) -> str:
    """The learner's message for `exc`, raised by `fn_name` (see `explain_errors`)."""
    kind = type(exc).__name__
    text = _text_of(exc)
    lines = text.strip().splitlines()
    head = f"{fn_name} raised {kind}" + (f": {lines[0]}" if lines else "")
    location = learner_location(exc.__traceback__)
    if location:
        head = f"{head.rstrip('.')} at {location}"
    full = f"{kind}: {text}"
    for pattern, advice in explanations.items():
        if re.search(pattern, full):
            return as_mistake(advice, f"{head.rstrip('.')}.\n{advice}")
    if called_with:
        head = f"{head.rstrip('.')}, called with {called_with}"
    advice = _everyday_advice(fn_name, exc, full)
    return as_mistake(advice, f"{head.rstrip('.')}.\n{advice}{_did_you_mean(exc)}")


def _did_you_mean(exc: Exception) -> str:
    """For a misspelled attribute, the attributes of that object with a similar name."""
    if not isinstance(exc, AttributeError):
        return ""
    try:
        name, obj = exc.name, exc.obj
        close = difflib.get_close_matches(name, [n for n in dir(obj) if not n.startswith("_")], n=2) if name else []
    except Exception:  # no name or object recorded, or an object whose dir() fails
        return ""
    return f" Did you mean {' or '.join(f'`{n}`' for n in close)}?" if close else ""


def _everyday_advice(fn_name: str, exc: Exception, full: str) -> str:
    for pattern, advice in EVERYDAY_MISTAKES.items():
        if re.search(pattern, full):
            return advice
    kind = type(exc)
    builtin = getattr(builtins, kind.__name__, None) is kind
    if not builtin and str(kind.__module__).split(".")[0] not in ("torch", "numpy"):
        return OWN_EXCEPTION.format(kind=kind.__name__, fn_name=fn_name)
    for base in kind.__mro__:
        if base in ADVICE_BY_TYPE:
            return ADVICE_BY_TYPE[base]
    return ADVICE_OTHERWISE


def _text_of(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a learner's exception whose __str__ fails
        return ""


def describe_args(**arguments) -> str:
    """`name = what it is` for each argument, in words, for a message: what a function was called with."""
    return ", ".join(f"{name} = {describe_value(value)}" for name, value in arguments.items())


def describe_value(value) -> str:
    """A short description of a value a check passes to the learner's function."""
    if isinstance(value, torch.Tensor):
        return _describe_tensor(value)
    if isinstance(value, nn.Module):
        return _describe_module(value)
    if isinstance(value, torch.optim.Optimizer):
        count = sum(len(g["params"]) for g in value.param_groups)
        return f"a torch.optim.{type(value).__name__} over {count} parameter tensors"
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return _describe_sequence(value)
    if isinstance(value, Iterator):
        return "a generator (it can be gone through only once)"
    if callable(value):
        return f"the function {getattr(value, '__name__', type(value).__name__)}"
    return _with_article(type(value).__name__)


def _describe_tensor(t: torch.Tensor) -> str:
    dtype = str(t.dtype).removeprefix("torch.")
    shape = f"of shape {tuple(t.shape)}" if t.dim() else "with a single value (0-d)"
    words = f"a {dtype} tensor {shape}"
    if t.device.type != "cpu":
        words += f" on {t.device}"
    if t.grad_fn is not None:
        words += f", computed from a tensor that requires grad (grad_fn={type(t.grad_fn).__name__})"
    elif t.requires_grad:
        words += ", a leaf that requires grad"
    return words


def _describe_module(m: nn.Module) -> str:
    kind = type(m)
    name = f"an nn.{kind.__name__}" if kind.__module__.startswith("torch.nn") else f"a module of class {kind.__name__}"
    children = [type(c).__name__ for c in m.children()]
    inside = f" ({', '.join(children[:5])}{', ...' if len(children) > 5 else ''})" if children else ""
    mode = "" if m.training else " in eval mode"
    return f"{name}{inside}{mode}"


def _describe_sequence(items) -> str:
    kind = type(items).__name__
    if not items:
        return f"an empty {kind}"
    if all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in items) and len(repr(items)) <= 60:
        return repr(items)
    if all(isinstance(v, torch.Tensor) for v in items):
        with_grad = sum(v.grad is not None for v in items if v.is_leaf)
        grads = f" ({with_grad} with a .grad)" if with_grad else ""
        return f"a {kind} of {len(items)} tensor{'s' if len(items) > 1 else ''}{grads}"
    return f"a {kind} of {len(items)} item{'s' if len(items) > 1 else ''}"


def _with_article(name: str) -> str:
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def expect_tensor(value, fn_name: str, what: str = "the result") -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(Mistake(
            "any.not_a_tensor", "something else than a tensor returned where a tensor is expected",
            f"{fn_name} returned {type(value).__name__} ({_short(value)}) as {what}; a torch.Tensor is expected."
        ))
    return value


def expect_python_number(value, fn_name: str, kind=float, what: str = "the result", int_hint: str = ""):
    """`value` must be a plain Python `kind` (float or int): exactly that type, not a bool, a numpy
    number, a tensor or a subclass (whose comparisons and arithmetic may be its own). A float
    expected and an int found gets `int_hint` as its explanation (a `Mistake`: reported as that
    mistake)."""
    if type(value) is kind:
        return value
    name = kind.__name__
    if isinstance(value, torch.Tensor):
        raise AssertionError(Mistake(
            "any.tensor_not_number", "a tensor returned where a Python number is expected (no .item())",
            f"{fn_name} returned a tensor ({_short(value)}) as {what}; a plain Python {name} is expected. "
            f"A tensor kept for logging keeps its device and (if it requires grad) its whole graph alive: "
            f"convert it with `.item()`{' and `float(...)`' if kind is float else ''}."
        ))
    if isinstance(value, np.generic):
        raise AssertionError(Mistake(
            "any.numpy_number", "a numpy number returned where a Python number is expected",
            f"{fn_name} returned a numpy number ({type(value).__name__}) as {what}; a plain Python {name} is "
            f"expected: convert it with `{name}(...)`, or take `.item()` of a tensor instead of going through numpy."
        ))
    if isinstance(value, bool):
        raise AssertionError(Mistake(
            "any.bool_not_number", "a bool returned where a Python number is expected",
            f"{fn_name} returned the bool {value} as {what}; a Python {name} is expected."))
    if kind is float and type(value) is int:
        message = (f"{fn_name} returned the int {value} as {what}; a Python float is expected."
                   + (f" {int_hint}" if int_hint else " `/` gives a float, `//` and `round(...)` give ints."))
        known = int_hint if isinstance(int_hint, Mistake) else INT_NOT_FLOAT
        raise AssertionError(known.reworded(message))
    if isinstance(value, (int, float)):
        base = int if isinstance(value, int) else float
        raise AssertionError(Mistake(
            "any.number_subclass", "an instance of a subclass of int or float returned as a number",
            f"{fn_name} returned an instance of {type(value).__name__}, a subclass of {base.__name__}, as {what}; "
            f"a plain Python {name} is expected. A subclass can compare and compute its own way, so its value "
            f"cannot be trusted: return `{name}(...)` of the number."
        ))
    raise AssertionError(Mistake(
        "any.not_a_number", "something else than a number returned where a number is expected",
        f"{fn_name} returned {type(value).__name__} ({_short(value)}) as {what}; a Python {name} is expected."))


INT_NOT_FLOAT = Mistake("any.int_not_float", "an int returned where a Python float is expected",
                        "a Python float is expected: `/` gives a float, `//` and `round(...)` give ints.")


def _short(value, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:  # a learner's object whose __repr__ fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- only real tensors

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
