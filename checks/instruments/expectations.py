"""Guards on what the learner's function leaves and returns: grad mode kept, a tensor, exactly a Python number."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from .mistakes import Mistake


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
