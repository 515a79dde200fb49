"""Checks for ex01: enable_tracking(t) switches requires_grad on in place and returns t itself."""

import pytest
import torch

from checks.instruments import Mistake, describe_args, explain_errors, expect_tensor, oracle, shares_storage, snapshot
from checks.structures import TENSOR_SPACE, compare, tensor_for

# id -> (shape, dtype, already tracking); the values themselves are random per check
CASES = {
    "vector-f32": ((5,), torch.float32, False),
    "matrix-f64": ((3, 4), torch.float64, False),
    "scalar-f32": ((), torch.float32, False),
    "3d-f32-already-tracking": ((2, 3, 2), torch.float32, True),
}

ERRORS = {
    r"'bool' object is not callable": Mistake(
        "ex01.calls_the_flag", "calling the flag `t.requires_grad(...)` instead of the method `requires_grad_()`",
        "`t.requires_grad` (no underscore) is the flag itself, a plain bool: it cannot be called. "
        "Either set it, `t.requires_grad = True`, or call the in-place method with the underscore, "
        "`t.requires_grad_()`."
    ),
    r"only Tensors of floating point": Mistake(
        "ex01.non_float_dtype", "converting `t` to a dtype that cannot require gradients",
        "Only floating-point tensors can require gradients. The inputs here are floating point: "
        "don't convert `t` to another dtype, switch tracking on for `t` as it is."
    ),
}


TURNED_OFF = Mistake(
    "ex01.toggles_the_flag", "toggling the flag, which switches tracking off for a tensor that already tracks",
    "`t` already required grad, and after enable_tracking it no longer does: the function must only ever "
    "switch tracking on, never off (don't toggle with `not t.requires_grad`). `t.requires_grad_()` means "
    "`t.requires_grad_(True)`, which is harmless on a tensor that already tracks."
)


GRAD_TOUCHED = Mistake(
    "ex01.grad_touched", "removing or changing the `.grad` of a tensor that already tracked",
    "`t` {what} a `.grad` from an earlier backward(); enable_tracking {how} it. Only switch the flag on: "
    "leave `t.grad` alone."
)


@pytest.fixture
def enable_tracking(learner):
    return learner


def call(enable_tracking, t):
    """Call the learner's function; the result must be `t` itself, or the message says what it is."""
    with explain_errors("enable_tracking", ERRORS, called_with=describe_args(t=t)):
        result = enable_tracking(t)
    if callable(result) and getattr(result, "__name__", "") == "requires_grad_":
        raise AssertionError(Mistake(
            "ex01.returns_the_method", "returning the method `t.requires_grad_` without calling it",
            "enable_tracking returned the method `t.requires_grad_` itself, not a tensor: without parentheses "
            "the method is only named, never called. Call it, `t.requires_grad_()`, and return `t`."
        ))
    if result is None:
        raise AssertionError(Mistake(
            "ex01.no_return", "returning nothing (None) instead of `t`",
            "enable_tracking returned None: switch tracking on for `t` and then `return t` (the same object "
            "the caller passed in)."
        ))
    expect_tensor(result, "enable_tracking")
    if result is not t:
        if shares_storage(result, t):
            known = NEW_TENSOR
            how = ("a new tensor object that shares t's memory (what `t.detach()`, `nn.Parameter(t)` or a view "
                   "give you)")
        else:
            known = COPY
            how = "a copy of t in new memory (what `torch.tensor(t, ...)`, `t.clone()` or a dtype conversion give you)"
        raise AssertionError(known.says(how=how))
    return result


NOT_T = (
    "enable_tracking returned {how}, not the caller's tensor itself (`result is t` is False). "
    "Whoever holds `t` (a model, an optimizer, the caller) keeps the old untracked tensor, and "
    "backward() never fills its `.grad`. Change `t` in place with `t.requires_grad_()` and return `t`."
)
NEW_TENSOR = Mistake("ex01.new_tensor_object",
                     "returning a new tensor object (detach, nn.Parameter, a view) instead of `t` itself", NOT_T)
COPY = Mistake("ex01.returns_a_copy", "returning a copy of `t` (clone, torch.tensor, a dtype conversion)", NOT_T)


def called(enable_tracking, case):
    """A tensor of the case, and what it was, after enable_tracking(t) returned t itself."""
    shape, dtype, tracking = CASES[case]
    t = torch.randn(shape, dtype=dtype, requires_grad=tracking)
    before = snapshot(t)
    call(enable_tracking, t)
    return t, before


@pytest.mark.parametrize("case", CASES)
def test_returns_the_same_object(enable_tracking, case):
    called(enable_tracking, case)


@pytest.mark.parametrize("case", CASES)
def test_requires_grad_is_on(enable_tracking, case):
    t, before = called(enable_tracking, case)
    assert t.requires_grad or not before.requires_grad, TURNED_OFF
    assert t.requires_grad, Mistake(
        "ex01.tracking_not_switched_on", "tracking never switched on (the method named but not called)",
        "after enable_tracking, `t.requires_grad` is still False: nothing switched tracking on. "
        "Note that `t.requires_grad_` without parentheses only names the method and does nothing: call it, "
        "`t.requires_grad_()` (or set the flag, `t.requires_grad = True`)."
    )


@pytest.mark.parametrize("case", CASES)
def test_stays_a_leaf(enable_tracking, case):
    t, _ = called(enable_tracking, case)
    assert t.is_leaf and t.grad_fn is None, Mistake(
        "ex01.not_a_leaf", "an operation on `t` recorded by autograd, so it is no longer a leaf",
        f"after enable_tracking, `t` is no longer a leaf tensor (grad_fn={t.grad_fn}): an operation on it was "
        "recorded by autograd, and backward() will not store a gradient in `t.grad`. Only switch the flag: "
        "`t.requires_grad_()`, no arithmetic."
    )


@pytest.mark.parametrize("case", CASES)
def test_values_and_dtype_unchanged(enable_tracking, case):
    t, before = called(enable_tracking, case)
    assert t.dtype == before.dtype, Mistake(
        "ex01.dtype_changed", "converting the caller's tensor to another dtype",
        f"enable_tracking changed the dtype of `t` from {before.dtype} to {t.dtype}. Tracking works for every "
        "floating-point dtype: switch it on for `t` as it is, without converting (`.float()`, `.to(...)`)."
    )
    assert t.shape == before.values.shape and torch.equal(t.detach(), before.values), Mistake(
        "ex01.values_changed", "changing the values or the shape of `t`",
        "enable_tracking changed the values (or the shape) of `t`. Switching tracking on is only a flag: "
        "`t.requires_grad_()` leaves the values alone."
    )


@pytest.mark.parametrize("case", CASES)
def test_storage_unchanged(enable_tracking, case):
    t, before = called(enable_tracking, case)
    assert t.untyped_storage().data_ptr() == before.storage, Mistake(
        "ex01.data_replaced", "replacing `t.data`, so that `t` lives in new memory",
        "`t` is the same object, but its values now live in different memory: they were replaced (for "
        "example `t.data = t.data.clone()` or `t.data = t.data.float()`). Views of `t` and anybody else "
        "holding its memory no longer see the same tensor. Only switch the flag: `t.requires_grad_()`."
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_already_tracking_input_is_unchanged(enable_tracking, dtype):
    t = torch.randn(4, 3, dtype=dtype, requires_grad=True)
    (t * torch.randn_like(t)).sum().backward()
    before = snapshot(t)
    call(enable_tracking, t)
    assert t.requires_grad, TURNED_OFF
    assert t.grad is not None and torch.equal(t.grad, before.grad), GRAD_TOUCHED.says(
        what="already tracked gradients and had", how="removed" if t.grad is None else "changed")
    assert t._version == before.version and torch.equal(t.detach(), before.values), Mistake(
        "ex01.tracking_tensor_modified", "modifying the values of a tensor that already tracked",
        "enable_tracking modified the values of a tensor that already tracked gradients. Switching tracking "
        "on is only a flag: `t.requires_grad_()` leaves the values alone."
    )


# --------------------------------------------------------------------------- against the reference, on generated tensors

# every tensor the contract allows: any shape (0-d, size-1 dimensions), layout (transposed, a view), simulated
# device and dtype; a leaf, tracking or not, with or without a .grad from earlier
GENERATED = TENSOR_SPACE.only(history=("leaf", "leaf-requires-grad"))


@oracle
def reference(t):
    t.requires_grad_(True)
    return t


GRAD_PREFILLED = Mistake(
    "ex01.grad_prefilled", "filling `t.grad` (with zeros) instead of leaving it to backward()",
    "enable_tracking gave `t` a `.grad` it did not have. Only the flag changes: `t.grad` stays None until a "
    "backward() fills it (it creates the gradient itself, there is nothing to prepare), and a stale "
    "`.grad` would be added to the next gradient."
)


def _grad_appeared(diff):
    return diff.field == "t's .grad after the call" and diff.theirs is None


def _grad_changed(diff):
    return diff.field.startswith("t's .grad") or diff.field.startswith("whether t's .grad")


def test_matches_the_reference_on_generated_tensors(enable_tracking):
    compare(enable_tracking, reference, GENERATED, lambda case: {"t": tensor_for(case)}, fn_name="enable_tracking",
            explanations=ERRORS, known=[
                (_grad_appeared, GRAD_PREFILLED),
                (_grad_changed, GRAD_TOUCHED.says(what="had", how="removed, changed or replaced")),
            ])
