"""Checks for ex05: to_numpy(t) converts any tensor to numpy without touching t."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from checks.instruments import (
    Mistake,
    describe_args,
    devices_for_numpy,
    explain_errors,
    grad_mode_kept,
    head,
    on_device,
    oracle,
    snapshot,
)
from checks.structures import TENSOR_SPACE, Seen, compare, tensor_for

# id -> (kind, dtype, shape); the values themselves are random per check.
# kinds: "leaf" requires grad; "computed" is x * 3 - 1 of a leaf x that requires grad (not a
# leaf, has a grad_fn); "plain" requires no grad; "transposed" is a plain non-contiguous view.
CPU_CASES = {
    "leaf-requiring-grad-f32-(5,)": ("leaf", torch.float32, (5,)),
    "computed-f64-(3,4)": ("computed", torch.float64, (3, 4)),
    "computed-f32-scalar": ("computed", torch.float32, ()),
    "plain-int64-(2,3,4)": ("plain", torch.int64, (2, 3, 4)),
    "plain-bool-(6,)": ("plain", torch.bool, (6,)),
    "transposed-f16-(3,4)": ("transposed", torch.float16, (4, 3)),
}
DEVICE_WORDS = {
    "simulated-gpu": "a GPU (simulated here, t.device is cuda:0)",
    "simulated-mps": "an Apple GPU, a device that is not CUDA (simulated here, t.device is mps:0, t.is_cuda is False)",
    "cuda": "a GPU (cuda)",
}
GRAD_CASES = ["leaf-requiring-grad-f32-(5,)", "computed-f64-(3,4)", "computed-f32-scalar"]
DEVICE_CASES = ["leaf-requiring-grad-f32-(5,)", "computed-f64-(3,4)", "plain-int64-(2,3,4)"]

# numpy's counterpart of each torch dtype: what the array's dtype must be
NUMPY_DTYPE = {
    torch.float16: np.dtype(np.float16),
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
    torch.int64: np.dtype(np.int64),
    torch.bool: np.dtype(np.bool_),
}

ERRORS = {
    r"Can't call numpy\(\) on Tensor that requires grad": Mistake(
        "ex05.numpy_of_tracking_tensor", "numpy() on a tensor that requires grad, without detach() first",
        "`t` requires grad: it is part of a graph that autograd records, and `numpy()` refuses such a "
        "tensor, because an array cannot carry gradients. Take `t.detach()` first: a new tensor with the same values in "
        "the same memory, outside the graph, while `t` itself stays as it is."
    ),
    r"can't convert \S+ device type tensor to numpy": Mistake(
        "ex05.not_moved_to_cpu", "a tensor on another device converted without `.cpu()` (or moved only when is_cuda)",
        "`t` lives on another device than the CPU (the message names it: a CUDA GPU, Apple's mps, Intel's xpu, "
        "...), and a numpy array lives in the CPU's memory: `numpy()` and `np.asarray` refuse a tensor anywhere "
        "else. Move it to the CPU first with `.cpu()`, whatever the device, without testing for one: `t.is_cuda` "
        "is False for a tensor on mps or xpu, which a branch on it never moves. `.cpu()` costs nothing for a "
        "tensor already on the CPU: `t.detach().cpu().numpy()`."
    ),
    r"only change requires_grad flags of leaf variables": Mistake(
        "ex05.requires_grad_off", "switching off requires_grad of the caller's tensor instead of detach()",
        "`t.requires_grad_(False)` switches the flag of the caller's tensor itself (trailing underscore: in "
        "place), and it is refused for a tensor computed from others (not a leaf). Don't change `t`: "
        "`t.detach()` gives a new tensor, without the graph and sharing `t`'s memory."
    ),
    r"Can't detach views in-place": Mistake(
        "ex05.detach_in_place_of_view", "detach_() of the caller's tensor (refused for a view) instead of detach()",
        "`t.detach_()` would detach the caller's tensor itself (trailing underscore: in place), and PyTorch "
        "refuses it for a view of another tensor. Use `t.detach()`, which returns a new tensor and leaves `t` "
        "alone."
    ),
}


@pytest.fixture
def to_numpy(learner):
    return learner


@dataclass
class Input:
    t: torch.Tensor  # what to_numpy gets
    source: torch.Tensor | None  # the leaf a backward from t reaches (None: t requires no grad)
    scale: float  # t = source * scale - 1 for "computed", so d(t*t).sum()/d source = 2 * t * scale
    expected: np.ndarray  # t's values, taken before the call


def make_input(case: str, device: str = "cpu") -> Input:
    kind, dtype, shape = CPU_CASES[case]
    if kind in ("plain", "transposed"):
        if dtype is torch.bool:
            values = torch.rand(shape) > 0.5
        elif dtype is torch.int64:
            values = torch.randint(-50, 50, shape)
        else:
            values = torch.randn(shape, dtype=dtype)
        t, source, scale = on_device(values if kind == "plain" else values.t(), device), None, 1.0
    elif kind == "leaf":
        t = on_device(torch.randn(shape, dtype=dtype, requires_grad=True), device)
        source, scale = t, 1.0
    else:
        source, scale = on_device(torch.randn(shape, dtype=dtype, requires_grad=True), device), 3.0
        t = source * scale - 1
    expected = np.array(t.detach().cpu().tolist(), dtype=NUMPY_DTYPE[dtype])  # via Python numbers: a copy
    return Input(t, source, scale, expected)


def convert(to_numpy, t):
    with grad_mode_kept("to_numpy"), explain_errors("to_numpy", ERRORS, called_with=describe_args(t=t)):
        return to_numpy(t)


def assert_array(result, inp: Input, where: str = ""):
    """The result is an ndarray with t's shape, dtype and values, or the message says what differs."""
    t, expected = inp.t, inp.expected
    if isinstance(result, torch.Tensor):
        raise AssertionError(Mistake(
            "ex05.returns_tensor", "a tensor returned instead of a numpy array",
            f"{where}to_numpy returned a torch.Tensor, not a numpy array. After `detach()` and `.cpu()`, "
            "call `.numpy()` to get the array."
        ))
    assert isinstance(result, np.ndarray), Mistake(
        "ex05.not_an_array", "something else than a numpy array returned (a list, a number)",
        f"{where}to_numpy returned {type(result).__name__}; a numpy.ndarray is expected "
        "(`.tolist()` gives Python lists and `.item()` a Python number: use `.numpy()`)."
    )
    assert result.shape == expected.shape, SHAPE_CHANGED.says(where=where, got=result.shape, want=tuple(t.shape))
    want = NUMPY_DTYPE[t.dtype]
    assert result.dtype == want, Mistake(
        "ex05.dtype_changed", "an array of another dtype (a cast, or going through Python numbers)",
        f"{where}to_numpy returned an array of dtype {result.dtype} for a tensor of dtype {t.dtype} "
        f"(its numpy counterpart is {want}). Going through Python numbers (`np.array(t.tolist())`) makes "
        "float64 out of float32 and float16, and a cast (`.float()`, `.astype(...)`) changes the dtype too. "
        "`t.detach().cpu().numpy()` keeps it."
    )
    assert np.array_equal(result, expected), Mistake(
        "ex05.values_changed", "an array with other values than t's",
        f"{where}to_numpy returned the wrong values: expected {head(expected, 4)}, found {head(result, 4)}. "
        "Convert t's values as they are, without arithmetic."
    )


SHAPE_CHANGED = Mistake(
    "ex05.shape_changed", "an array of another shape (flattened, squeezed, reshaped)",
    "{where}to_numpy returned an array of shape {got} for a tensor of shape {want}: the array must keep t's "
    "shape, size-1 dimensions included. `numpy()` keeps it: don't flatten, squeeze or reshape."
)


def _array_address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


@pytest.mark.parametrize("case", CPU_CASES)
def test_same_values_shape_and_dtype(to_numpy, case):
    inp = make_input(case)
    result = convert(to_numpy, inp.t)
    assert_array(result, inp)


@pytest.mark.parametrize("case", CPU_CASES)
def test_cpu_result_shares_memory(to_numpy, case):
    inp = make_input(case)
    result = convert(to_numpy, inp.t)
    assert_array(result, inp)
    layout = "" if inp.t.is_contiguous() else " (a non-contiguous one here, e.g. transposed: numpy handles its strides)"
    assert _array_address(result) == inp.t.data_ptr(), Mistake(
        "ex05.copies", "a copy instead of an array sharing the CPU tensor's memory",
        f"to_numpy returned a copy: the array does not share memory with t, a CPU tensor{layout}. For a tensor on "
        "the CPU, `numpy()` makes no copy: the array is a view of the tensor's memory, which makes the "
        "conversion of a large tensor instant. `detach()` and `.cpu()` (for a CPU tensor) copy nothing either, "
        "while `np.array(...)`, `.tolist()`, `.clone()`, `.copy()` and `.contiguous()` copy. "
        "Use `t.detach().cpu().numpy()`."
    )


@pytest.mark.parametrize("case", GRAD_CASES)
def test_caller_tensor_is_untouched(to_numpy, case):
    inp = make_input(case)
    t = inp.t
    before = snapshot(t)
    result = convert(to_numpy, t)
    assert_array(result, inp)
    changed = before.changes(t)
    assert not changed, Mistake(
        "ex05.caller_tensor_changed", "the caller's tensor detached in place (detach_, requires_grad_(False))",
        f"to_numpy changed the caller's tensor: {'; '.join(changed)}. `t.detach_()` and "
        "`t.requires_grad_(False)` (trailing underscore: in place) modify t itself, so the caller's tensor "
        "silently leaves its graph and its next backward() fails. Use `t.detach()` (no underscore): a new "
        "tensor sharing t's memory, with t untouched."
    )


@pytest.mark.parametrize("case", GRAD_CASES)
def test_backward_through_t_still_works(to_numpy, case):
    inp = make_input(case)
    t, source = inp.t, inp.source
    result = convert(to_numpy, t)
    assert_array(result, inp)
    want = 2 * inp.scale * torch.from_numpy(inp.expected)  # d/d source of sum((source * scale - 1) ** 2)
    try:
        (t * t).sum().backward()
    except RuntimeError as exc:
        raise AssertionError(Mistake(
            "ex05.caller_graph_cut", "the caller's tensor cut out of its graph",
            f"after to_numpy(t), a backward pass through t fails ({str(exc).splitlines()[0]}): to_numpy cut "
            "the caller's tensor out of its graph. `t.detach_()` and `t.requires_grad_(False)` work in place "
            "on t itself. Use `t.detach()`, which returns a new tensor and leaves t in its graph."
        )) from None
    assert source.grad is not None and torch.allclose(source.grad, want.to(source.grad.dtype)), Mistake(
        "ex05.caller_gradient_changed", "the caller's tensor or its graph changed, so its gradient is wrong",
        "after to_numpy(t), a backward pass through t no longer gives the right gradient: to_numpy changed t "
        "or its graph. Leave t as it is: convert `t.detach()`, a new tensor outside the graph."
    )


@pytest.mark.parametrize("case", DEVICE_CASES)
@pytest.mark.parametrize("device", devices_for_numpy())
def test_tensor_on_another_device_is_moved_to_the_cpu_first(to_numpy, device, case):
    inp = make_input(case, device)
    result = convert(to_numpy, inp.t)
    assert_array(result, inp, where=f"With t on {DEVICE_WORDS.get(device, device)}: ")


# --------------------------------------------------------------------------- against the reference, on generated tensors

@oracle
def to_numpy_reference(t):
    return t.detach().cpu().numpy()


def backward_through_t(args, result):
    """Whether a backward through the caller's t works after the call (it must whenever it did before)."""
    try:
        args["t"].sum().backward()
        outcome = "works"
    except RuntimeError as exc:
        outcome = f"fails ({str(exc).splitlines()[0][:80]})"
    yield Seen("a backward() through t after the call", outcome.split(" (")[0], outcome)


def test_matches_the_reference_on_generated_tensors(to_numpy):
    """Every shape (0-d, size-1 dimensions), layout (transposed, a view), simulated device, dtype and history."""
    compare(to_numpy, to_numpy_reference, TENSOR_SPACE, lambda case: {"t": tensor_for(case)}, fn_name="to_numpy",
            explanations=ERRORS, probe=backward_through_t, known=[
                (lambda diff: diff.field == "the result's shape",
                 lambda diff: SHAPE_CHANGED.says(where="", got=diff.mine_text, want=diff.theirs_text)),
            ])
