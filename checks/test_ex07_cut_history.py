"""Checks for ex07: cut_history_(t) detaches t itself in place and returns it (t.detach_())."""

import pytest
import torch

from checks.instruments import Mistake, describe_args, explain_errors, grad_fn_name, grad_mode_kept, oracle, snapshot
from checks.structures import TENSOR_SPACE, compare, tensor_for

# id -> (kind, dtype, shape of t); the values themselves are random per check.
# kinds: "computed" is x * 3 - 1 of a leaf x that requires grad; "chain" is tanh(x @ w), a longer
# history; "leaf" is a leaf that requires grad; "plain" requires no grad. None of them is a view.
CASES = {
    "computed-f32-(5,)": ("computed", torch.float32, (5,)),
    "chain-f64-(3,4)": ("chain", torch.float64, (3, 4)),
    "leaf-requiring-grad-f32-(2,3,4)": ("leaf", torch.float32, (2, 3, 4)),
    "plain-f32-scalar": ("plain", torch.float32, ()),
}

ERRORS = {
    r"only change requires_grad flags of leaf variables": Mistake(
        "ex07.requires_grad_off_on_non_leaf", "requires_grad switched off on a computed tensor instead of detach_()",
        "`t.requires_grad_(False)` (or `t.requires_grad = False`) is allowed only for a leaf; this t was computed "
        "from other tensors, and its flag follows from that history. Cut the history instead: `t.detach_()` "
        "detaches t in place, after which t is a leaf that does not require grad."
    ),
    r"attribute 'grad_fn' of .* is not writable": Mistake(
        "ex07.assigns_grad_fn", "assigning `t.grad_fn` instead of detach_()",
        "`t.grad_fn` cannot be assigned: autograd sets it. `t.detach_()` removes t's history in place "
        "(grad_fn becomes None)."
    ),
    r"Can't detach views in-place": Mistake(
        "ex07.detaches_a_view", "detach_() on a view made of t instead of on t itself",
        "`detach_()` refuses a view of another tensor; the checks only give you tensors that are not views, "
        "so something in your function made a view of t first (a slice, `view`, `reshape`). Call "
        "`t.detach_()` on t itself."
    ),
}


@pytest.fixture
def cut_history_(learner):
    return learner


def make_input(case):
    kind, dtype, shape = CASES[case]
    if kind == "computed":
        t = torch.randn(shape, dtype=dtype, requires_grad=True) * 3 - 1
    elif kind == "chain":
        x = torch.randn(shape[0], 2, dtype=dtype, requires_grad=True)
        t = torch.tanh(x @ torch.randn(2, shape[1], dtype=dtype, requires_grad=True))
    elif kind == "leaf":
        t = torch.randn(shape, dtype=dtype, requires_grad=True)
    else:
        t = torch.randn(shape, dtype=dtype)
    assert t._base is None
    return t


def cut(cut_history_, case):
    """t of a case, what it was, and what cut_history_(t) returned."""
    t = make_input(case)
    before = snapshot(t)
    with grad_mode_kept("cut_history_"), explain_errors("cut_history_", ERRORS, called_with=describe_args(t=t)):
        return t, before, cut_history_(t)


def refuse_new_tensor(result, t, kept: bool, history: str):
    """When t `kept` what cut_history_ should have cut and a new tensor came back, that is the mistake."""
    if kept and isinstance(result, torch.Tensor) and result is not t:
        raise AssertionError(NEW_TENSOR.says(history=history))


NEW_TENSOR = Mistake(
    "ex07.returns_new_tensor", "detach() (a new tensor) instead of detach_() on t itself",
    "cut_history_ returned a new tensor, not t itself{history}. `t.detach()` (no underscore) makes a new tensor "
    "without history and leaves t as it was: the caller keeps using its variable t, with its whole graph and "
    "the memory that graph holds. The trailing underscore of cut_history_ promises in place: `t.detach_()` "
    "detaches t itself and returns it."
)


@pytest.mark.parametrize("case", CASES)
def test_returns_the_same_object(cut_history_, case):
    t, _, result = cut(cut_history_, case)
    assert result is not None, Mistake(
        "ex07.no_return", "returning nothing (None) instead of t",
        "cut_history_ returned None: return t itself. In-place methods of PyTorch (the ones with a trailing "
        "underscore) return the tensor they changed, so calls can be chained: `cut_history_(h).zero_()`."
    )
    assert isinstance(result, torch.Tensor), Mistake(
        "ex07.returns_other_type", "returning something else than a tensor",
        f"cut_history_ returned {type(result).__name__}; the tensor t itself is expected."
    )
    history = f" (t still has grad_fn={grad_fn_name(t.grad_fn)})" if t.grad_fn is not None else ""
    assert result is t, NEW_TENSOR.says(history=history)


@pytest.mark.parametrize("case", CASES)
def test_grad_fn_is_none(cut_history_, case):
    t, _, result = cut(cut_history_, case)
    refuse_new_tensor(result, t, t.grad_fn is not None, f" (t still has grad_fn={grad_fn_name(t.grad_fn)})")
    assert t.grad_fn is None, Mistake(
        "ex07.history_kept", "t's history left in place (no_grad around it, or assigning t.data)",
        f"after cut_history_(t), t still carries its history: t.grad_fn is {grad_fn_name(t.grad_fn)}. Nothing done "
        "*around* t changes the history of a tensor that already exists: `torch.no_grad()` only affects the "
        "operations run inside the block, and assigning `t.data` keeps t's grad_fn. `t.detach_()` cuts t's "
        "history in place."
    )


@pytest.mark.parametrize("case", CASES)
def test_no_longer_requires_grad(cut_history_, case):
    t, _, result = cut(cut_history_, case)
    refuse_new_tensor(result, t, t.requires_grad, " (t still requires grad)")
    assert not t.requires_grad, Mistake(
        "ex07.still_requires_grad", "t left requiring grad",
        "after cut_history_(t), t still requires grad: autograd would keep recording whatever is computed from "
        "it. `torch.no_grad()` around your code does not change an existing tensor's flag. `t.detach_()` switches "
        "it off in place (for a leaf and for a computed tensor alike)."
    )


@pytest.mark.parametrize("case", CASES)
def test_is_a_leaf(cut_history_, case):
    t, _, result = cut(cut_history_, case)
    refuse_new_tensor(result, t, not t.is_leaf, f" (t still has grad_fn={grad_fn_name(t.grad_fn)})")
    assert t.is_leaf, Mistake(
        "ex07.not_a_leaf", "t left a non-leaf, the result of a recorded computation",
        f"after cut_history_(t), t is still not a leaf (grad_fn={grad_fn_name(t.grad_fn)}): it remains the result of "
        "a recorded computation. `t.detach_()` turns it into a leaf in place."
    )


@pytest.mark.parametrize("case", CASES)
def test_values_and_memory_unchanged(cut_history_, case):
    t, before, _ = cut(cut_history_, case)
    assert torch.equal(t.detach(), before.values), Mistake(
        "ex07.values_changed", "t's values changed",
        "cut_history_ changed t's values: only its history may go. `t.detach_()` keeps the values."
    )
    assert t.data_ptr() == before.data_ptr, Mistake(
        "ex07.storage_replaced", "t's storage replaced (assigning t.data, set_)",
        "after cut_history_(t), t lives in different memory: its storage was replaced (for example by assigning "
        "`t.data` or `t.set_(...)`), so views of t and other holders of that memory no longer see it. "
        "`t.detach_()` keeps t's memory."
    )


# --------------------------------------------------------------------------- against the reference, on generated tensors

# every tensor the contract allows (no views, and so no simulated device, whose tensors are views of the CPU
# tensors they simulate): any shape (0-d, size-1 dimensions), dtype, history (computed, a leaf that requires
# grad or not), with or without a .grad from earlier
GENERATED = TENSOR_SPACE.only(layout=("contiguous",), device=("cpu",))


@oracle
def cut_history_reference(t):
    return t.detach_()


def test_matches_the_reference_on_generated_tensors(cut_history_):
    compare(cut_history_, cut_history_reference, GENERATED, lambda case: {"t": tensor_for(case)},
            fn_name="cut_history_", explanations=ERRORS)
