"""Generated structures, and the differential check: the learner's function against the reference on them.

The fixed inputs of an exercise's other checks are a few shapes and models; a mistake that shows only on
a structure they lack (a forward hook, ties, a size-1 dimension, a 0-d parameter, a view...) gets through
them. A differential check draws inputs from a space of structures, runs the learner's function and the
check's reference (an `oracle`) on two copies of each, compares everything observable, and reports the
smallest input that shows a difference.

The API (stable: the checks of every exercise build on it):

- `Space(**dims, valid=None, describe=None)`: the structures an exercise's contract allows, one named
  dimension per feature, each a tuple of choices, the simplest first. `space.only(dim=choices, ...)`
  narrows or replaces dimensions; `space.cases(seed, extra=1)` are the inputs to try, in order: a few
  cases that between them hold every choice of every dimension (the simplest case with up to `width`
  structures added, pairs of dimensions that would hide each other's effect kept `apart`), then `extra`
  seeded random mixes; where a mixed case differs, the first of its structures that differs alone is
  where shrinking starts; `space.simpler(case)` are the cases one step simpler (what shrinking tries).
  `space.describe(case)` says what a case is, in words ("a 1-layer model with a forward hook").
- `Case`: one point of a space; `case.hook`, `case["hook"]`, `case.get("hook", default)`.
- `MODEL_SPACE` and `model_for(case, in_features, out_features)`: models of every structure below
  (layers, nesting, a root parameter, a 0-d parameter, a forward hook, batch norm, dropout, tied weights,
  frozen mixes, modes, dtypes, pre-filled `.grad`, ties in the scores, size-1 outputs); `batch_for(case)`
  the batch size (1 is a size-1 dimension).
- `TENSOR_SPACE` and `tensor_for(case)`: tensors of every shape (size-1 dimensions, 0-d), layout
  (contiguous, transposed, a view into a larger tensor), device (the CPU, or simulated non-CPU devices of
  `checks.instruments.off_cpu`), dtype, history (a leaf, a leaf that requires grad, a computed tensor)
  and `.grad` (none, or already filled: on a leaf that requires grad, or on one frozen since).
- `compare(learner, reference, space, build, *, fn_name, ...)`: the differential check. `build(case)`
  returns the call's arguments, a dict by parameter name (it runs under a generator seeded per case, so
  it is called once per copy and gives equal, independent inputs: no `deepcopy`, which computed tensors
  refuse); the reference and the learner's function each get one copy, under the same random stream and
  in the caller's grad mode of the case (`caller`: "grad-enabled", default, or "inside-no_grad"). What is
  compared (`observe`): the result (its kind, length, shape, dtype, device, values, requires_grad,
  grad_fn present or not, is_leaf, which input it is or shares memory with), every input after the call
  (the same fields, whether a tensor changed in place (its version counter), its `.grad` (values, and
  whether it is still the same object), every module's mode, parameter (still the same object) and
  buffer), the grad mode after the call, and what `probe(args, result)` adds (a backward through the
  result...). At the first case that differs it shrinks: it moves one dimension at a time towards its
  simplest choice while the difference stays, and raises an AssertionError whose message says the
  smallest input, the field that differs with both values, and, only where one of `known` matches,
  that mistake's explanation (else `DIFFERS`, which names no cause). A learner's function that raises
  is reported as the exception on the smallest input that raises it, with `explain_errors`' advice.
- `Difference`: what a `known` predicate is given: `field`, `mine`, `theirs` (the learner's and the
  reference's values), `case`, `raised` (the learner's exception, or None), `args` (the learner's copy of
  the arguments, after the call), `result` (what the learner's function returned), and `again(fn)`: what `fn` returns on a fresh copy of the input, to
  verify a suspected mistake by recomputing it before its explanation is given.
- `known` pairs a predicate with a `Mistake`, or with a function of the `Difference` that returns one (to fill
  in a template); `field_is(*fragments)`: a predicate, the differing field contains one of the fragments;
  `mode_changed(diff)`: a module's mode that differs, in words.

- `preparing()`: a grading process about to fork a process for each of several submissions runs the
  differential checks once inside it, before any learner's code: `compare` then runs only the reference on
  each case it would try and keeps what it observed (by function name, the reference's name, seed and
  case), and the processes forked afterwards run only the learner's side of those cases.

Mark each reference with `checks.instruments.oracle`; the learner's code never sees it.
"""

from __future__ import annotations

import contextlib
import random
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from checks.instruments import (
    SIMULATED_DEVICES,
    Mistake,
    as_mistake,
    describe_args,
    explanation,
    head,
    off_cpu,
)


# --------------------------------------------------------------------------- spaces of structures


class Case:
    """One point of a `Space`: a choice for each dimension, readable as attributes (`case.hook`)."""

    __slots__ = ("_items", "_by_name")

    def __init__(self, items: Iterable[tuple[str, Any]]):
        items = tuple(items)
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_by_name", dict(items))

    def __getattr__(self, name):
        try:
            return object.__getattribute__(self, "_by_name")[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name):
        return getattr(self, name)

    def get(self, name, default=None):
        return self._by_name.get(name, default)

    def replace(self, **changes) -> "Case":
        return Case((k, changes.get(k, v)) for k, v in self._items)

    def items(self):
        return self._items

    def __eq__(self, other):
        return isinstance(other, Case) and self._items == other._items

    def __hash__(self):
        return hash(self._items)

    def __repr__(self):
        return "Case(" + ", ".join(f"{k}={v!r}" for k, v in self._items) + ")"


class Space:
    """The structures an exercise allows: named dimensions, each a tuple of choices, the simplest first.

    `valid(case)` rejects combinations that make no sense (a `.grad` on a tensor that does not require
    grad); `describe(case)` says a case in words (default: `describe_case`); `apart` are pairs of
    dimensions whose structures would hide each other's effect (a forward hook that breaks the ties of
    the scores), never mixed in one of `cases`; `width` is the most structures one of them mixes."""

    def __init__(self, valid: Callable[[Case], bool] | None = None,
                 describe: Callable[[Case], str] | None = None, apart: Iterable[tuple[str, str]] = (),
                 width: int = 4, **dims: Sequence):
        self.dims = {name: tuple(choices) for name, choices in dims.items()}
        self.apart, self.width = frozenset(tuple(pair) for pair in apart), width
        empty = [name for name, choices in self.dims.items() if not choices]
        if empty:
            raise ValueError(f"dimensions without a choice: {empty}")
        self.valid = valid or (lambda case: True)
        self._describe = describe

    def only(self, valid: Callable[[Case], bool] | None = None, describe: Callable[[Case], str] | None = None,
             apart: Iterable[tuple[str, str]] = (), width: int | None = None, **dims: Sequence) -> "Space":
        """This space with some dimensions narrowed or replaced (or added), the others kept (`apart` adds
        pairs of dimensions never mixed in one case)."""
        return Space(valid=valid or self.valid, describe=describe or self._describe, apart={*self.apart, *apart},
                     width=width or self.width, **{**self.dims, **dims})

    def simplest(self) -> Case:
        return Case((name, choices[0]) for name, choices in self.dims.items())

    def cases(self, seed: int, extra: int = 1) -> list[Case]:
        """The inputs to try: a few cases that between them hold every choice of every dimension (each the
        simplest case with up to `width` structures added, never two dimensions of `apart` together), then
        `extra` random mixes (seeded); the simplest case alone only where there is no other."""
        base = self.simplest()
        found = [base]
        pending = [(name, choice) for name, choices in self.dims.items() for choice in choices[1:]]
        while pending:
            case, took = self._filled(base, pending, keep_apart=True)
            if not took:  # what is left needs a pair kept apart, or another structure to be valid at all
                case, took = self._filled(base, pending, keep_apart=False)
            if not took:
                case, took = self._enabled(base, pending)
            if not took:  # valid in no case: the space's `valid` leaves these choices out
                break
            found.append(case)
            pending = [p for p in pending if p not in took]
        rng, mixes = random.Random(seed), 0
        for _ in range(extra * 10):
            if mixes >= extra:
                break
            mix = Case((name, rng.choice(choices)) for name, choices in self.dims.items())
            if self.valid(mix) and mix not in found:
                found.append(mix)
                mixes += 1
        tried = [c for c in self._unique(found) if self.valid(c)]
        # the simplest case on its own only where nothing else is tried: every other case holds it, with a
        # few structures added to it (and the fixed checks try it), and shrinking ends at it
        others = [c for c in tried if c != base]
        return others or tried

    def _filled(self, case: Case, pending: list, keep_apart: bool) -> tuple[Case, list]:
        """`case` with as many of the `pending` choices as fit (valid, up to `width`), and those taken."""
        took: list = []
        grew = True
        while grew and len(took) < self.width:
            grew = False
            for name, choice in pending:
                if len(took) >= self.width or any(name == n or (keep_apart and self._kept_apart(name, n))
                                                  for n, _ in took):
                    continue
                trial = case.replace(**{name: choice})
                if self.valid(trial):
                    case, took, grew = trial, took + [(name, choice)], True
        return case, took

    def _enabled(self, base: Case, pending: list) -> tuple[Case, list]:
        """A case for a pending choice that is valid only beside another structure (batch norm only in eval
        mode): the first such pair found."""
        for name, choice in pending:
            for other, choices in self.dims.items():
                for alt in choices[1:] if other != name else ():
                    trial = base.replace(**{name: choice, other: alt})
                    if self.valid(trial):
                        return trial, [p for p in ((name, choice), (other, alt)) if p in pending]
        return base, []

    def _kept_apart(self, a: str, b: str) -> bool:
        return (a, b) in self.apart or (b, a) in self.apart

    def alone(self, case: Case) -> list[Case]:
        """The valid cases that hold one structure of `case` each (its other dimensions at their simplest),
        in the order of the dimensions: where a mixed case differs, the first of these that differs too is
        the smaller input to show."""
        base = self.simplest()
        singles = [base.replace(**{name: case[name]}) for name in self.dims if case[name] != base[name]]
        return [c for c in singles if self.valid(c)] if len(singles) > 1 else []

    @staticmethod
    def _unique(cases):
        seen, out = set(), []
        for c in cases:
            if c not in seen:
                seen.add(c)
                out.append(c)
        return out

    def simpler(self, case: Case) -> Iterator[Case]:
        """The valid cases one step simpler than `case`: a dimension set to its simplest choice, or one back."""
        for name, choices in self.dims.items():
            at = choices.index(case[name]) if case[name] in choices else 0
            for index in dict.fromkeys((0, at - 1)):
                if 0 <= index < at:
                    smaller = case.replace(**{name: choices[index]})
                    if self.valid(smaller):
                        yield smaller

    def describe(self, case: Case) -> str:
        return (self._describe or describe_case)(case)


# --------------------------------------------------------------------------- models


class Block(nn.Module):
    """One level of nesting: a module holding another (names such as `inner.inner.0.weight`)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)


class Generated(nn.Module):
    """A model built by `model_for`: a body, and optionally a parameter of the model itself (`scale`,
    a vector), a 0-d parameter (`temperature`) and scores rounded to a coarse grid (ties)."""

    def __init__(self, body: nn.Module, out_features: int, root_param: bool, scalar_param: bool, ties: bool):
        super().__init__()
        self.body = body
        self.scale = nn.Parameter(torch.rand(out_features) + 0.5) if root_param else None
        self.temperature = nn.Parameter(torch.rand(()) + 0.5) if scalar_param else None
        self.ties = ties

    def forward(self, x):
        out = self.body(x)
        if self.scale is not None:
            out = out * self.scale
        if self.temperature is not None:
            out = out * self.temperature
        if self.ties:
            out = torch.round(out.clamp(-1, 1))  # scores in {-1, 0, 1}: ties in most rows
        return out


def _add_one(module, inputs, output):
    """A forward hook that changes the output: it adds 0, 1, 2, ... to its columns (so that it also moves
    the largest score of a row)."""
    return output + torch.arange(output.shape[-1], dtype=output.dtype)


def _model_valid(case: Case) -> bool:
    """Batch norm in train mode needs more than one row."""
    return not (case.get("batch") == "one" and case.get("norm", "none") != "none" and case.get("mode", "train") == "train")


MODEL_SPACE = Space(
    valid=_model_valid,
    # a hook moves the largest score, breaking ties; one output column or one row leaves few ties, one column makes
    # the hook add 0; a model already in eval mode makes dropout and batch norm's training behaviour moot
    apart=(("hook", "ties"), ("outputs", "ties"), ("batch", "ties"), ("outputs", "hook"), ("mode", "dropout"),
           ("mode", "norm")),
    layers=(1, 2, 3),
    nesting=(1, 3),
    hook=("none", "model", "layer"),
    root_param=(False, True),
    scalar_param=(False, True),
    norm=("none", "batchnorm", "batchnorm-no-affine"),
    dropout=(False, True),
    tied=(False, True),
    frozen=("none", "first-layer", "alternate"),
    mode=("train", "eval", "mixed"),
    dtype=(torch.float32, torch.float64),
    grads=(False, True),
    ties=(False, True),
    outputs=("several", "one"),
    batch=("several", "one"),
)


def batch_for(case: Case) -> int:
    return 1 if case.get("batch") == "one" else 5


def model_for(case: Case, in_features: int = 4, out_features: int = 3) -> nn.Module:
    """A model of the structure `case` names (dimensions of `MODEL_SPACE`; a missing one takes its simplest
    choice), with random weights from torch's generator."""
    get = lambda name: case.get(name, MODEL_SPACE.dims[name][0])  # noqa: E731
    width = 6
    out = 1 if get("outputs") == "one" else out_features
    layers: list[nn.Module] = []
    sizes = [in_features] + [width] * (get("layers") - 1) + [out]
    linears = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layer = nn.Linear(a, b)
        linears.append(layer)
        layers.append(layer)
        if i == 0 and get("norm") != "none":
            layers.append(nn.BatchNorm1d(b, affine=get("norm") == "batchnorm"))
        if i < len(sizes) - 2 or len(sizes) == 2:
            layers.append(nn.Tanh())
    if get("dropout"):
        layers.insert(1, nn.Dropout(0.5))
    if get("tied"):  # a square layer, and a second one holding the very same weight
        first, second = nn.Linear(out, out), nn.Linear(out, out)
        second.weight = first.weight
        layers += [first, nn.Tanh(), second]
    body: nn.Module = nn.Sequential(*layers)
    for _ in range(get("nesting") - 1):
        body = Block(body)
    model = Generated(body, out, get("root_param"), get("scalar_param"), get("ties"))
    if get("dtype") != torch.float32:
        model.to(get("dtype"))
    if get("norm") != "none":  # running statistics other than the defaults
        with torch.no_grad():
            for _ in range(2):
                model(torch.randn(7, in_features, dtype=get("dtype")) * 2 + 1)
    if get("hook") == "model":
        model.register_forward_hook(_add_one)
    elif get("hook") == "layer":
        linears[0].register_forward_hook(_add_one)
    frozen = get("frozen")
    if frozen == "first-layer":
        linears[0].requires_grad_(False)
    elif frozen == "alternate":
        for i, p in enumerate(model.parameters()):
            p.requires_grad_(i % 2 == 1)
    if get("grads"):
        out = model(torch.randn(3, in_features, dtype=get("dtype")))
        if out.requires_grad:  # not when every parameter is frozen
            out.square().mean().backward()
    mode = get("mode")
    if mode == "eval":
        model.eval()
    elif mode == "mixed":
        model.train()
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.Dropout, nn.Linear)) and m is not linears[-1]:
                m.eval()
        linears[0].eval()
    return model


# --------------------------------------------------------------------------- tensors


TENSOR_SPACE = Space(
    valid=lambda c: (c.get("grad", False) is False or c.get("history", "leaf") != "computed")
    and not (len(c.get("shape", (3, 4))) < 2 and c.get("layout") == "transposed"),
    apart=(("shape", "layout"),),  # a transposed tensor of size-1 dimensions is contiguous all the same
    shape=((3, 4), (1, 4, 1), (), (5,)),
    layout=("contiguous", "transposed", "view"),
    device=("cpu", "simulated-gpu", "simulated-mps"),
    dtype=(torch.float32, torch.float64),
    history=("leaf", "leaf-requires-grad", "computed"),
    grad=(False, True),
)


def tensor_for(case: Case) -> torch.Tensor:
    """A tensor of the structure `case` names (dimensions of `TENSOR_SPACE`; a missing one takes its
    simplest choice), with random values from torch's generator. On the CPU, only a "view" or "transposed"
    layout is a view of another tensor; on a simulated device every tensor is (of the CPU tensor it
    simulates), which `detach_()` refuses."""
    get = lambda name: case.get(name, TENSOR_SPACE.dims[name][0])  # noqa: E731
    shape, layout, history, device = get("shape"), get("layout"), get("history"), get("device")
    transposed = layout == "transposed" and len(shape) >= 2
    if transposed:
        base = torch.randn(tuple(reversed(shape)), dtype=get("dtype"))
    elif layout == "view":
        base = torch.randn((2, *shape), dtype=get("dtype"))
    else:
        base = torch.randn(tuple(shape), dtype=get("dtype"))
    if device != "cpu":  # on the simulated device from the start: what is computed from it stays there
        base = off_cpu(base, SIMULATED_DEVICES[device])
    if history == "computed":
        base = base.requires_grad_() * 2.0
    if transposed:
        t = base.permute(*reversed(range(len(shape))))
    elif layout == "view":
        t = base[1]
    else:
        t = base
    if history == "leaf-requires-grad":
        t = t.requires_grad_() if t is base else t.detach().requires_grad_()  # a view's own flag
    if get("grad") and t.is_leaf:  # a .grad from an earlier backward (also on a leaf frozen since)
        t.grad = torch.randn(t.shape, dtype=t.dtype)
    return t


# --------------------------------------------------------------------------- descriptions


_DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
                torch.bfloat16: "bfloat16"}


# what each structure of a model adds to its description ("a 2-layer model with ...")
_MODEL_PHRASES = {
    ("hook", "model"): "a forward hook on the model (it adds 0, 1, 2, ... to the output's columns)",
    ("hook", "layer"): "a forward hook on its first layer (it adds 0, 1, 2, ... to that layer's output columns)",
    ("root_param", True): "an nn.Parameter of the model itself (`scale`, not in any child module)",
    ("scalar_param", True): "a 0-d parameter (`temperature`, a single number)",
    ("norm", "batchnorm"): "a BatchNorm1d layer (with buffers: running statistics)",
    ("norm", "batchnorm-no-affine"): "a BatchNorm1d layer with affine=False (buffers, no parameters)",
    ("dropout", True): "a dropout layer",
    ("tied", True): "tied weights (one weight held by two layers)",
    ("frozen", "first-layer"): "its first layer frozen (requires_grad=False)",
    ("frozen", "alternate"): "every other parameter frozen",
    ("mode", "eval"): "eval mode",
    ("mode", "mixed"): "some submodules in eval mode, the others in train mode",
    ("grads", True): "a .grad already filled in its trainable parameters",
    ("ties", True): "scores with ties (several classes share the largest score)",
    ("outputs", "one"): "a single output (a size-1 dimension)",
    ("batch", "one"): "a batch of one row (a size-1 dimension)",
}


def _model_words(case: Case) -> str:
    dtype = case.get("dtype", torch.float32)
    noun = f"a {'' if dtype == torch.float32 else _DTYPE_NAMES.get(dtype, str(dtype)) + ' '}{case.get('layers', 1)}-layer model"
    if case.get("nesting", 1) > 1:
        noun += f" nested {case.get('nesting')} modules deep"
    parts = [phrase for (dim, value), phrase in _MODEL_PHRASES.items() if case.get(dim) == value]
    return noun + (" with " + _joined(parts) if parts else "")


def _tensor_words(case: Case) -> str:
    get = case.get
    shape = get("shape", (3, 4))
    dtype = _DTYPE_NAMES.get(get("dtype", torch.float32), str(get("dtype")))
    words = f"a {dtype} tensor " + (f"of shape {shape}" if shape else "with a single value (0-d)")
    if any(size == 1 for size in shape):
        words += " (size-1 dimensions)"
    parts = []
    layout = get("layout", "contiguous")
    if layout == "transposed" and len(shape) >= 2:
        parts.append("transposed (not contiguous)")
    elif layout == "view":
        parts.append("a view into a larger tensor")
    device = get("device", "cpu")
    if device != "cpu":
        parts.append(f"on {SIMULATED_DEVICES[device].DEVICE} (simulated)")
    history = get("history", "leaf")
    parts.append({"leaf": "a leaf that does not require grad", "leaf-requires-grad": "a leaf that requires grad",
                  "computed": "computed from a tensor that requires grad (it has a grad_fn)"}[history])
    if get("grad"):
        parts.append("a .grad already filled")
    return words + ", " + ", ".join(parts)


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def describe_case(case: Case) -> str:
    """A case in words: a model's structure (`MODEL_SPACE` dimensions), a tensor's (`TENSOR_SPACE`), and any
    other dimension as `name=value`; the caller's grad mode when it is not the default."""
    names = {k for k, _ in case.items()}
    said = []
    if names & (set(MODEL_SPACE.dims) - set(TENSOR_SPACE.dims)):
        said.append(_model_words(case))
    if names & (set(TENSOR_SPACE.dims) - set(MODEL_SPACE.dims)):
        said.append(_tensor_words(case))
    known = set(MODEL_SPACE.dims) | set(TENSOR_SPACE.dims) | {"caller"}
    others = [f"{k}={_shown_choice(v)}" for k, v in case.items() if k not in known]
    if others:
        said.append(", ".join(others))
    if case.get("caller") == "inside-no_grad":
        said.append("called inside `torch.no_grad()`")
    return "; ".join(said) or "the simplest input"


def _shown_choice(value) -> str:
    return _DTYPE_NAMES.get(value, value) if isinstance(value, torch.dtype) else str(value)


# --------------------------------------------------------------------------- observations


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


# --------------------------------------------------------------------------- the differential check


def _positional(fn, args: dict):
    return fn(*args.values())


@dataclass
class Difference:
    """The first field where the learner's function and the reference differ, on `case`."""

    field: str
    mine: Any  # the learner's value (a `Seen.key`), None where the field is missing
    theirs: Any  # the reference's
    mine_text: str
    theirs_text: str
    case: Case
    raised: BaseException | None = None
    args: dict | None = None  # the learner's copy of the arguments (after the call)
    result: Any = None  # what the learner's function returned
    fresh: Callable[[], dict] | None = None  # a new copy of the case's arguments, as they were before the call

    def again(self, fn: Callable):
        """What `fn` returns on a fresh copy of the case's input (under the random stream of the calls): to
        verify a suspected mistake by recomputing it, e.g. `torch.allclose(diff.again(without_hooks), ...)`."""
        args = self.fresh()
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(self.call_seed)
            return self.call(fn, args)

    call_seed: int = 0  # the seed of the random stream the calls ran under
    call: Callable = _positional  # how the functions are called on the arguments


DIFFERS = Mistake(
    "any.differs_from_reference", "a result or a side effect that differs from the reference on a generated input",
    "On {input} (the smallest generated input that shows it), {field} differs: the reference gives {theirs}, "
    "{fn_name} gives {mine}\nThe other checks' inputs did not show it; the docstring's contract says what is "
    "expected on such an input. Call {fn_name} yourself on an input like this one and compare."
)
RAISES = Mistake(
    "any.raises_on_generated_input", "an exception on a generated input the contract allows",
    "On {input} (the smallest generated input that shows it), {fn_name} raised where the reference returns. "
    "{explanation}"
)

Known = tuple  # (predicate: Difference -> bool, Mistake): a known mistake's explanation, where it matches


def _seeded(seed: int, case: Case) -> int:
    return zlib.crc32(f"{seed}:{case!r}".encode())


def _call(fn, args: dict, case: Case, seed: int, probe, call=_positional):
    """Run `fn` on `args` as the caller of `case` would: what it raised, what was seen, what it returned."""
    before = _before(args)
    outer = torch.is_grad_enabled()
    inside = case.get("caller", "grad-enabled") == "grad-enabled"
    raised, result = None, None
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(_seeded(seed, case) + 1)
        torch.set_grad_enabled(inside)
        try:
            try:
                result = call(fn, args)
            except (AssertionError, NotImplementedError, MemoryError):
                raise
            except Exception as exc:  # the learner's function raised: a difference of its own
                raised = exc
            seen = [] if raised else observe(args, result, before, inside)
        finally:
            torch.set_grad_enabled(outer)
        if raised is None and probe is not None:
            try:
                seen += list(probe(args, result))
            except (AssertionError, NotImplementedError, MemoryError):
                raise
            except Exception as exc:
                seen.append(Seen("what the probe after the call did", f"raised {type(exc).__name__}",
                                 f"raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
    return raised, seen, result


def _build(build, case: Case, seed: int) -> dict:
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(_seeded(seed, case))
        return build(case)


# The reference's side of the cases a differential check tries, kept by a grading process that grades
# several submissions before it forks the processes that grade them (`preparing`): each of them then runs
# only the learner's side. The key: (fn_name, the reference's qualified name, seed, case).
_PREPARED: dict[tuple, list[Seen]] = {}
_PREPARING: list[bool] = []


@contextlib.contextmanager
def preparing():
    """While it lasts, `compare` runs the reference alone on each case it would try, keeps what it
    observed for the calls that follow (in this process and those forked from it), and returns; the
    learner's function is not called (the `learner` fixture gives one that must not be: `not_called`)."""
    _PREPARING.append(True)
    try:
        yield
    finally:
        _PREPARING.pop()


def is_preparing() -> bool:
    return bool(_PREPARING)


def not_called(*_, **__):
    raise AssertionError("the learner's function is not called while the reference's side is prepared")


def _reference_side(reference, build, case: Case, seed: int, probe, call) -> list[Seen]:
    ref_raised, theirs, _ = _call(reference, _build(build, case, seed), case, seed, probe, call)
    if ref_raised is not None:
        raise ref_raised  # the reference must accept every generated input: a defect of the check
    return theirs


def _difference(learner, reference, build, case: Case, seed: int, probe, rtol, atol,
                call=_positional, key: tuple = ()) -> Difference | None:
    theirs = _PREPARED.get((*key, case)) if key else None
    if theirs is None:
        theirs = _reference_side(reference, build, case, seed, probe, call)
    mine_args = _build(build, case, seed)
    raised, mine, result = _call(learner, mine_args, case, seed, probe, call)
    found = None
    if raised is not None:
        found = Difference("what happens", f"raised {type(raised).__name__}", "returns",
                           f"raised {type(raised).__name__}", "returns", case, raised, mine_args)
    got = {s.field: s for s in mine}
    for want in theirs if found is None else ():
        have = got.get(want.field)
        if have is None or not _same(have.key, want.key, rtol, atol):
            found = Difference(want.field, None if have is None else have.key, want.key,
                               "nothing of the kind" if have is None else have.shown, want.shown, case, None,
                               mine_args)
            break
    if found is not None:
        found.fresh = lambda: _build(build, case, seed)
        found.call_seed, found.call, found.result = _seeded(seed, case) + 1, call, result
    return found


def compare(learner: Callable, reference: Callable, space: Space, build: Callable[[Case], dict], *, fn_name: str,
            known: Sequence[Known] = (), explanations: dict[str, str] | None = None,
            probe: Callable[[dict, Any], Iterable[Seen]] | None = None, seed: int | None = None, extra: int = 1,
            rtol: float = 1e-5, atol: float = 1e-6, call: Callable[[Callable, dict], Any] = _positional) -> None:
    """The differential check: fail with a learner's message at the smallest case of `space` where `learner`
    and `reference` differ in anything observable (see the module's docstring); return None when none does.

    `known` are `(predicate, Mistake)` pairs: the first whose predicate matches the `Difference` gives its
    explanation (and its id); `explanations` are `explain_errors`' patterns for an exception of the learner's
    code; `seed` defaults to the seed the check runs with; `extra` is the number of random mixes tried after
    every structure alone; `call(fn, args)` calls a function on the arguments (default: `fn(*args.values())`;
    another passes, for instance, a generator over a list that stays observed)."""
    seed = torch.initial_seed() if seed is None else seed
    key = (fn_name, getattr(reference, "__qualname__", repr(reference)), seed)
    if _PREPARING:
        for case in space.cases(seed, extra):
            _PREPARED[(*key, case)] = _reference_side(reference, build, case, seed, probe, call)
        return
    run = lambda fn_, case_: _difference(fn_, reference, build, case_, seed, probe, rtol, atol, call, key)  # noqa: E731
    for case in space.cases(seed, extra):
        diff = run(learner, case)
        if diff is not None:
            break
    else:
        return
    for single in space.alone(diff.case):  # a mixed case: shrink from the first structure that shows it alone
        found = run(learner, single)
        if found is not None and (found.raised is None) == (diff.raised is None):
            diff = found
            break
    diff = _shrink(lambda case_: run(learner, case_), space, diff)
    raise AssertionError(message(diff, space, fn_name, known, explanations))


def _shrink(differs: Callable[[Case], Difference | None], space: Space, diff: Difference) -> Difference:
    """Move towards simpler cases while a difference stays (a raise stays a raise)."""
    progress = True
    while progress:
        progress = False
        for smaller in space.simpler(diff.case):
            found = differs(smaller)
            if found is not None and (found.raised is None) == (diff.raised is None):
                diff, progress = found, True
                break
    return diff


def message(diff: Difference, space: Space, fn_name: str, known: Sequence[Known] = (),
            explanations: dict[str, str] | None = None) -> str:
    """The learner's message for a difference: the input, the field and both values, a known mistake's
    explanation where one matches (the message is then that `Mistake`), else `DIFFERS`."""
    words = space.describe(diff.case)
    if diff.raised is not None:
        explained = explanation(fn_name, diff.raised, explanations or {},
                                called_with=describe_args(**diff.args) if diff.args else None)
        text = RAISES.says(input=words, fn_name=fn_name, explanation=explained)
        return as_mistake(explained, text) if hasattr(explained, "mistake_id") else text
    shown = DIFFERS.says(input=words, field=diff.field, theirs=diff.theirs_text, fn_name=fn_name, mine=diff.mine_text)
    for matches, mistake in known:
        if matches(diff):
            mistake = mistake(diff) if callable(mistake) else mistake
            head_ = str(shown).split("\nThe other checks", 1)[0]
            return mistake.reworded(f"{head_}\n{mistake}")
    return shown


def mode_changed(diff: Difference) -> str:
    """A difference of a module's mode in words: "module body.0 is in train mode after the call, where the
    reference leaves it in eval mode" (for a `changes` field of a known mistake's message)."""
    where = diff.field.removeprefix("the mode of ").removesuffix(" after the call")
    name = where.split(".", 1)[1] if "." in where else "(the model)"
    return f"module {name} is in {diff.mine_text} mode after the call, where the reference leaves it in {diff.theirs_text} mode"


def field_is(*fragments: str) -> Callable[[Difference], bool]:
    """A `known` predicate: the differing field contains one of `fragments`."""
    return lambda diff: any(f in diff.field for f in fragments)


def gradients_seen(modules: dict[str, nn.Module], after: str) -> Iterator[Seen]:
    """What a probe reports after it ran a backward (`after` says which, in words): for each named module,
    which of its parameters have a `.grad`, and their values."""
    for owner, module in modules.items():
        grads = [(n, p.grad) for n, p in module.named_parameters()]
        names = tuple(n for n, g in grads if g is not None)
        yield Seen(f"{owner}'s parameters with a .grad after {after}", names, ", ".join(names) or "none")
        values = torch.cat([g.detach().reshape(-1).double() for _, g in grads if g is not None] or [torch.zeros(0)])
        yield Seen(f"{owner}'s gradients after {after}", values, lambda v=values: head(v))
