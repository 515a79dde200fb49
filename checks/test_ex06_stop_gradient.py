"""Checks for ex06: stop_gradient(t) returns t's values, untracked, in t's memory (t.detach())."""

import pytest
import torch

from checks.instruments import (
    Mistake,
    describe_args,
    expect_tensor,
    explain_errors,
    grad_fn_name,
    grad_mode_kept,
    head,
    oracle,
    shares_storage,
    snapshot,
)
from checks.structures import TENSOR_SPACE, Seen, compare, tensor_for

# id -> (kind, dtype, shape of t); the values themselves are random per check.
# kinds: "leaf" requires grad; "computed" is x * 2 + 1 of a leaf x (has a grad_fn);
# "view" is a slice of such a computed tensor (a view, starting inside its base's memory).
CASES = {
    "leaf-requiring-grad-f32-(5,)": ("leaf", torch.float32, (5,)),
    "computed-f64-(3,4)": ("computed", torch.float64, (3, 4)),
    "view-of-computed-f32-(2,3,4)": ("view", torch.float32, (2, 3, 4)),
}

DETACHED_IN_PLACE = Mistake(
    "ex06.detaches_in_place", "the caller's tensor detached in place (detach_, requires_grad_(False))",
    "stop_gradient detached the caller's tensor in place: {changes}. `t.detach_()` and `t.requires_grad_(False)` "
    "(trailing underscore) change t itself: the caller's t silently leaves autograd's graph, and no gradient "
    "reaches it (or what it was computed from) any more. Use `t.detach()` (no underscore): it returns a new tensor and "
    "leaves t as it was."
)

ERRORS = {
    r"Can't detach views in-place": Mistake(
        "ex06.detach_in_place_of_view", "detach_() of the caller's tensor (refused for a view) instead of detach()",
        "`t.detach_()` detaches the caller's tensor itself (trailing underscore: in place), and PyTorch refuses "
        "it for a view of another tensor. Use `t.detach()`: it returns a new tensor and leaves t as it was."
    ),
    r"only change requires_grad flags of leaf variables": Mistake(
        "ex06.requires_grad_off", "switching off requires_grad of the caller's tensor instead of detach()",
        "`t.requires_grad_(False)` changes the flag of the caller's tensor itself, and it is refused for a tensor "
        "computed from others (not a leaf). Leave t alone: `t.detach()` returns a new tensor that does not "
        "require grad, sharing t's memory."
    ),
}


@pytest.fixture
def stop_gradient(learner):
    return learner


def make_input(case):
    kind, dtype, shape = CASES[case]
    if kind == "leaf":
        t = torch.randn(shape, dtype=dtype, requires_grad=True)
    elif kind == "computed":
        t = torch.randn(shape, dtype=dtype, requires_grad=True) * 2 + 1
    else:
        t = (torch.randn((shape[0] + 1, *shape[1:]), dtype=dtype, requires_grad=True) * 2 + 1)[1:]
    return t, snapshot(t)


def call(stop_gradient, t):
    with grad_mode_kept("stop_gradient"), explain_errors("stop_gradient", ERRORS, called_with=describe_args(t=t)):
        return stop_gradient(t)


def assert_values(result, t, before):
    expect_tensor(result, "stop_gradient")
    assert result.shape == t.shape and result.dtype == t.dtype, SHAPE_OR_DTYPE.says(
        got=f"shape {tuple(result.shape)} and dtype {result.dtype}", want=f"shape {tuple(t.shape)} and dtype {t.dtype}")
    assert torch.equal(result.detach(), before.values), Mistake(
        "ex06.values_changed", "a result with other values than t's",
        f"stop_gradient returned the wrong values: expected t's values {head(before.values)}, found "
        f"{head(result)}. Don't compute anything: only take t out of the graph."
    )


SHAPE_OR_DTYPE = Mistake(
    "ex06.shape_or_dtype_changed", "a result of another shape or dtype than t",
    "stop_gradient returned a tensor of {got} for t of {want}: the result must be t's values exactly as they "
    "are (no `.squeeze()`, `.float()` or reshaping: size-1 dimensions stay)."
)


def assert_new_object(result, t, before):
    if result is t:
        changes = before.changes(t, "requires_grad grad_fn")
        if changes:
            raise AssertionError(DETACHED_IN_PLACE.says(changes="; ".join(changes)))
        raise AssertionError(Mistake(
            "ex06.returns_t", "returning t itself, still tracked",
            "stop_gradient returned t itself: the caller gets the same tensor, still tracked by autograd "
            f"(requires_grad={t.requires_grad}), so gradients keep flowing through it. Return `t.detach()`: a new "
            "tensor object, sharing t's memory, outside the graph."
        ))


def assert_shares_memory(result, t, before):
    assert shares_storage(result, t) and result.data_ptr() == t.data_ptr(), COPIES


COPIES = Mistake(
    "ex06.copies", "a copy (clone, torch.tensor, arithmetic) instead of a tensor sharing t's memory",
    "stop_gradient returned a copy: the result does not share t's memory. `clone()`, `torch.tensor(...)` "
    "and arithmetic such as `t * 1` allocate new memory: for a large tensor that doubles the memory, and "
    "in-place changes of the result no longer reach t. `t.detach()` shares t's memory, no copy."
)


def stopped(stop_gradient, case, *properties):
    """t of a case, what it was, and stop_gradient(t), whose values are t's, and which has the `properties`
    (assertions that later checks make first, with their messages)."""
    t, before = make_input(case)
    result = call(stop_gradient, t)
    for asserted in (assert_values, *properties):
        asserted(result, t, before)
    return t, before, result


@pytest.mark.parametrize("case", CASES)
def test_same_values(stop_gradient, case):
    stopped(stop_gradient, case)


@pytest.mark.parametrize("case", CASES)
def test_returns_a_new_object(stop_gradient, case):
    stopped(stop_gradient, case, assert_new_object)


@pytest.mark.parametrize("case", CASES)
def test_shares_memory_with_t(stop_gradient, case):
    stopped(stop_gradient, case, assert_new_object, assert_shares_memory)


@pytest.mark.parametrize("case", CASES)
def test_result_is_not_tracked(stop_gradient, case):
    t, before, result = stopped(stop_gradient, case, assert_new_object)
    if result.requires_grad and result.grad_fn is None and result._base is not None:
        raise AssertionError(NO_GRAD_VIEW)
    assert result.grad_fn is None, Mistake(
        "ex06.still_tracked", "a result still recorded in t's graph (a view or arithmetic while recording)",
        f"the result of stop_gradient is still tracked by autograd (grad_fn={grad_fn_name(result.grad_fn)}): "
        "gradients flow through it back into t's graph. An operation on t while autograd records "
        "(`t.view_as(t)`, `t * 1`) is itself part of the graph. Return `t.detach()`."
    )
    assert not result.requires_grad, Mistake(
        "ex06.requires_grad_on", "a result that requires grad",
        "the result of stop_gradient has requires_grad=True: autograd tracks whatever is computed from it. "
        "Likely causes: the flag switched back on (`requires_grad_()`), or a new leaf that requires grad made "
        "from t's values (`nn.Parameter(...)`, `torch.tensor(..., requires_grad=True)`). Return `t.detach()`, "
        "which does not require grad."
    )


NO_GRAD_VIEW = Mistake(
    "ex06.no_grad_view", "a view of t taken under no_grad instead of detach()",
    "the result of stop_gradient reports requires_grad=True although it has no grad_fn: it is a view of t "
    "taken under `torch.no_grad()` (or `torch.inference_mode()`), such as `t.view_as(t)`. A view made there of a "
    "tensor that requires grad keeps the flag, and PyTorch refuses to modify it in place afterwards. "
    "`t.detach()` is the operation made for this: requires_grad=False, grad_fn=None, same memory."
)


@pytest.mark.parametrize("case", CASES)
def test_caller_keeps_its_graph(stop_gradient, case):
    t, before, _ = stopped(stop_gradient, case)
    changes = before.changes(t, "requires_grad grad_fn")
    assert not changes, DETACHED_IN_PLACE.says(changes="; ".join(changes))


@pytest.mark.parametrize("case", CASES)
def test_in_place_change_increases_t_version(stop_gradient, case):
    t, before, result = stopped(stop_gradient, case, assert_new_object, assert_shares_memory)
    version = t._version
    try:
        result.add_(1.0)
    except RuntimeError as exc:
        if "view was created in" in str(exc):
            raise AssertionError(NO_GRAD_VIEW) from None
        raise
    assert t._version > version, Mistake(
        "ex06.version_not_shared", "a result that does not share t's version counter (`t.data`, numpy round trip)",
        f"an in-place change through the result of stop_gradient did not increase t._version (still {version}): "
        "the result shares t's memory but not autograd's version counter, which is what `t.data` (or a round "
        "trip through numpy) gives. If t was saved for a backward pass, autograd can no longer tell that it "
        "was modified, and silently computes a wrong gradient. `t.detach()` shares the version counter."
    )


# --------------------------------------------------------------------------- against the reference, on generated tensors

@oracle
def stop_gradient_reference(t):
    return t.detach()


def change_through_result(args, result):
    """Whether an in-place change through the result reaches t's version counter."""
    t = args["t"]
    version = t._version
    try:
        result.add_(0.0)
        outcome = "increases" if t._version > version else "leaves it as it was"
    except RuntimeError:
        outcome = "is refused"
    yield Seen("what an in-place change through the result does to t._version", outcome, outcome)


MOVED = Mistake(
    "ex06.moved_to_another_device", "the result moved to another device (`.cpu()`, `.to(...)`), a copy",
    "The result must stay on t's device: moving it (`.cpu()`, `.to(...)`) copies t's values into another "
    "device's memory, so the result no longer shares t's memory (nor its version counter). `t.detach()` "
    "stays where t is."
)
CONTIGUOUS = Mistake(
    "ex06.contiguous_copy", "`.contiguous()` (or `.reshape`) of a non-contiguous t, which copies it",
    "t is not contiguous (it is transposed), and your result is: `.contiguous()` (like `.reshape(...)` or "
    "`.flatten()` of such a tensor) copies it into new memory, which t's owner never sees. Return `t.detach()` "
    "as it is: same memory, same strides."
)


def _contiguous_copy(diff):
    t, result = diff.args["t"], diff.result
    return (diff.field.startswith("the inputs whose memory") and isinstance(result, torch.Tensor)
            and not t.is_contiguous() and result.is_contiguous())


def test_matches_the_reference_on_generated_tensors(stop_gradient):
    """Every shape (0-d, size-1 dimensions), layout (transposed, a view), simulated device, dtype and history."""
    compare(stop_gradient, stop_gradient_reference, TENSOR_SPACE, lambda case: {"t": tensor_for(case)},
            fn_name="stop_gradient", explanations=ERRORS, probe=change_through_result, known=[
                (lambda diff: diff.field == "the result's device", MOVED),
                (lambda diff: diff.field in ("the result's shape", "the result's dtype"),
                 lambda diff: SHAPE_OR_DTYPE.says(got=f"{diff.field.split(chr(39) + 's ')[1]} {diff.mine_text}",
                                                  want=f"{diff.field.split(chr(39) + 's ')[1]} {diff.theirs_text}")),
                (_contiguous_copy, CONTIGUOUS),
                (lambda diff: diff.field.startswith("the inputs whose memory"), COPIES),
            ])
