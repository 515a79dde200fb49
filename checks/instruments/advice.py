"""Advice for what a learner's code raises: every call of a learner's function goes through `explain_errors`."""

from __future__ import annotations

import builtins
import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from grading.engine.targets import learner_location
from .mistakes import Mistake, as_mistake


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
