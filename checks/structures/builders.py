"""The builders of generated inputs and their descriptions: `MODEL_SPACE` and `model_for` (models of
every structure), `batch_for`, `TENSOR_SPACE` and `tensor_for` (tensors of every shape, layout, device,
dtype, history and `.grad`), and `describe_case`, a case in words, which every space built without a
`describe` of its own uses (set as the default when this module is imported).
"""

from __future__ import annotations

import torch
from torch import nn

from checks.instruments import SIMULATED_DEVICES, off_cpu

from .space import Case, Space, set_default_description


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


# a space built without `describe` of its own says its cases with `describe_case`
set_default_description(describe_case)
