"""Checks for ex16: clip_and_log(model, max_norm) clips the gradients to a total L2 norm and returns
the gradient norm before clipping and the norm of all weights, as Python floats, building no graph."""

import math

import pytest
import torch
from torch import nn

from checks.instruments import (
    Mistake,
    count_saved_tensors,
    describe_args,
    expect_python_number,
    explain_errors,
    grad_mode_kept,
    oracle,
    snapshot,
)
from checks.structures import MODEL_SPACE, Seen, compare, model_for

# id -> (max_norm as a fraction of the total gradient norm, dtype); weights and data are random per check
CASES = {
    "clips-to-0.3-of-total": (0.3, torch.float32),
    "clips-to-0.05-of-total-f64": (0.05, torch.float64),
    "no-clipping-max-2x-total": (2.0, torch.float32),
}
CLIPPING = [c for c, (fraction, _) in CASES.items() if fraction < 1]

KEYS = {"grad_norm", "weight_norm"}

ERRORS = {
    r"unsupported operand type.*NoneType|NoneType.*not supported|not NoneType|'NoneType' object has no attribute": Mistake(
        "ex16.none_grad_not_skipped", "parameters without a gradient (.grad is None) not skipped",
        "Some parameters have no gradient (`p.grad is None`): the layer `unused` took no part in the loss, and "
        "`body.bias` is frozen. Skip them for the gradient norm and the clipping "
        "(`[p.grad for p in model.parameters() if p.grad is not None]`), but not for the weight norm."
    ),
    r"Expected a floating point or complex tensor as input. Got Long": Mistake(
        "ex16.norm_of_integer_buffer", "a norm taken of an integer buffer (num_batches_tracked)",
        "A norm was taken of an integer tensor: batch norm's `num_batches_tracked`, a buffer. `model.state_dict()` "
        "and `model.buffers()` hold buffers (running statistics, counters), which are not weights: the weight norm "
        "is over `model.parameters()` only."
    ),
    r"leaf Variable that requires grad is being used in an in-place operation": Mistake(
        "ex16.changes_parameters_in_place", "the parameters changed in place instead of their gradients",
        "Autograd refuses an in-place change of a parameter while it records. Clipping changes the gradients "
        "(`p.grad.mul_(...)`), never the parameters themselves."
    ),
}


class Net(nn.Module):
    """Two layers used by the loss, one frozen bias, a batch-norm layer (its running statistics are buffers), a
    0-dim scale of the model's own (held by no submodule), and a layer the loss never uses."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.norm = nn.BatchNorm1d(8)
        self.head = nn.Linear(8, 3)
        self.unused = nn.Linear(3, 2)
        self.scale = nn.Parameter(torch.rand(()) + 0.5)

    def forward(self, x):
        return self.head(torch.tanh(self.norm(self.body(x)))) * self.scale


@pytest.fixture
def clip_and_log(learner):
    return learner


def _total_norm(tensors):
    """Oracle: the L2 norm of all entries of `tensors` together, in float64."""
    return math.sqrt(sum(t.detach().double().pow(2).sum().item() for t in tensors))


def make_case(case):
    fraction, dtype = CASES[case]
    model = Net().to(dtype)
    model.body.bias.requires_grad_(False)
    x, y = torch.randn(10, 4, dtype=dtype), torch.randn(10, 3, dtype=dtype)
    scale = 10 ** torch.empty(()).uniform_(0, 2).item()  # gradient norms of different sizes
    (scale * (model(x) - y)).pow(2).mean().backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    max_norm = fraction * _total_norm(grads.values())
    return model, max_norm


class Expected:
    """What clip_and_log must produce for a model (computed independently), and the model before the call."""

    def __init__(self, model, max_norm):
        self.model = snapshot(model)
        self.max_norm = max_norm
        self.values = {n: s.values for n, s in self.model.params.items()}
        self.grads = {n: s.grad for n, s in self.model.params.items() if s.grad is not None}
        self.grad_objects = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
        self.buffers = [s.values for s in self.model.buffers.values() if s.values.is_floating_point()]
        self.without_grad = [n for n, s in self.model.params.items() if s.grad is None]
        self.grad_norm = _total_norm(self.grads.values())
        self.weight_norm = _total_norm(self.values.values())
        coef = min(1.0, max_norm / (self.grad_norm + 1e-6))
        self.clipped = {n: g * coef for n, g in self.grads.items()}
        self.clips = self.grad_norm > max_norm


def call(clip_and_log, model, max_norm):
    with explain_errors("clip_and_log", ERRORS, called_with=describe_args(model=model, max_norm=max_norm)):
        result = clip_and_log(model, max_norm)
    if not isinstance(result, dict):
        raise AssertionError(Mistake(
            "ex16.not_a_dict", "something else than a dict returned",
            f"clip_and_log returned {type(result).__name__}; a dict is expected: "
            '`{"grad_norm": ..., "weight_norm": ...}`.'
        ))
    if set(result) != KEYS:
        raise AssertionError(Mistake(
            "ex16.wrong_keys", "a dict with other keys than grad_norm and weight_norm",
            f"clip_and_log returned a dict with the keys {sorted(map(str, result))}; exactly "
            f'{sorted(KEYS)} are expected: `{{"grad_norm": ..., "weight_norm": ...}}`.'
        ))
    for key in sorted(KEYS):
        expect_python_number(result[key], "clip_and_log", float, f'result["{key}"]')
    return result


def _close(a, b):
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-8)


def assert_norm(got, want, suspects, otherwise):
    """`got` is the norm `want`; else the message is that of the first suspect (value, mistake) whose value
    `got` is (a known wrong way to compute it; a value None does not apply here), or `otherwise`."""
    if _close(got, want):
        return
    for value, mistake in suspects:
        if value is not None and _close(got, value):
            raise AssertionError(mistake)
    raise AssertionError(otherwise)


def assert_grad_norm(got, expected):
    want = expected.grad_norm
    assert_norm(got, want, [
        (_total_norm(expected.clipped.values()) if expected.clips else None, Mistake(
            "ex16.norm_after_clipping", "the gradient norm measured after clipping",
            f'result["grad_norm"] is {got:.6g}, the norm AFTER clipping (max_norm={expected.max_norm:.6g}); '
            f"before clipping it was {want:.6g}. Measured after clipping the log shows max_norm at every "
            "step and hides the exploding gradients it is meant to reveal. Measure the norm before you clip: "
            "`torch.nn.utils.clip_grad_norm_` returns exactly that."
        )),
        (sum(_total_norm([g]) for g in expected.grads.values()), Mistake(
            "ex16.sum_of_grad_norms", "the sum of the gradients' norms instead of their total norm",
            f'result["grad_norm"] is {got:.6g}, the sum of the norms of the separate gradients; the total norm '
            f"is {want:.6g}. The total L2 norm treats all entries of all gradients as ONE vector: "
            "sqrt(||g1||^2 + ||g2||^2 + ...), for example the norm of the stacked per-tensor norms."
        )),
        (want**2, Mistake(
            "ex16.grad_norm_squared", "the gradient norm's square instead of the norm",
            f'result["grad_norm"] is {got:.6g}, the sum of the squares; the norm is its square root, {want:.6g}.'
        )),
    ], otherwise=Mistake(
        "ex16.wrong_grad_norm", "a gradient norm other than the total L2 norm before clipping",
        f'result["grad_norm"] is {got:.6g}; the total L2 norm of the gradients before clipping is {want:.6g} '
        "(all entries of every existing `p.grad` together, parameters without a gradient skipped)."
    ))


def assert_weight_norm(got, expected):
    want = expected.weight_norm
    assert_norm(got, want, [
        (sum(_total_norm([v]) for v in expected.values.values()), Mistake(
            "ex16.sum_of_weight_norms", "the sum of the parameters' norms instead of their total norm",
            f'result["weight_norm"] is {got:.6g}, the sum of the norms of the separate parameters; the total '
            f"norm is {want:.6g}. Treat all entries of all parameters as ONE vector: "
            "sqrt(||p1||^2 + ||p2||^2 + ...), for example the norm of the stacked per-parameter norms."
        )),
        (_total_norm([*expected.values.values(), *expected.buffers]), Mistake(
            "ex16.weight_norm_includes_buffers", "buffers (batch norm's running statistics) counted as weights",
            f'result["weight_norm"] is {got:.6g}, the norm of the parameters together with the floating-point '
            f"buffers (batch norm's running mean and variance); the norm of the parameters is {want:.6g}. Buffers "
            "are not weights: `model.state_dict()` lists them beside the parameters, `model.parameters()` gives "
            "the parameters only."
        )),
        (_total_norm([v for n, v in expected.values.items() if "." in n]), Mistake(
            "ex16.weight_norm_skips_own_parameters", "the model's own parameters left out of the weight norm",
            f'result["weight_norm"] is {got:.6g}, the norm of the submodules\' parameters only; the norm of all '
            f"parameters is {want:.6g}. The model holds a parameter of its own (`scale`, held by no submodule): "
            "a loop over `model.children()` never reaches it, `model.parameters()` gives it."
        )),
        (_total_norm([expected.values[n] for n in expected.grads]), Mistake(
            "ex16.weight_norm_skips_no_grad", "parameters without a gradient left out of the weight norm",
            f'result["weight_norm"] is {got:.6g}, the norm of the parameters that have a gradient only; the norm '
            f"of all parameters is {want:.6g}. Parameters without a gradient ({', '.join(expected.without_grad)}) "
            "are skipped for the gradient norm, but they are weights of the model too: include them."
        )),
        (want**2, Mistake(
            "ex16.weight_norm_squared", "the weight norm's square instead of the norm",
            f'result["weight_norm"] is {got:.6g}, the sum of the squares; the norm is its square root, {want:.6g}.'
        )),
    ], otherwise=Mistake(
        "ex16.wrong_weight_norm", "a weight norm other than the total L2 norm of all parameters",
        f'result["weight_norm"] is {got:.6g}; the total L2 norm of all parameters is {want:.6g} (all entries of '
        "every parameter together)."
    ))


def assert_clipped(model, expected):
    params = dict(model.named_parameters())
    for name in expected.without_grad:
        assert params[name].grad is None, Mistake(
            "ex16.fills_missing_grads", "zeros filled in for missing gradients",
            f"parameter {name} had no gradient and now has one: parameters without a gradient took no part in "
            "the loss; skip them (`if p.grad is None: continue`), don't fill in zeros."
        )
    now = {n: params[n].grad for n in expected.grads}
    if all(torch.allclose(now[n], expected.clipped[n], rtol=1e-4, atol=1e-8) for n in now):
        rebound = [n for n in now if now[n] is not expected.grad_objects[n]]
        assert not rebound, Mistake(
            "ex16.grad_rebound", "the gradients replaced by new tensors instead of scaled in place",
            f"the gradients have the right values, but the .grad of {', '.join(rebound[:3])} is a new tensor: "
            "`p.grad = p.grad * factor` puts a new tensor in `.grad` instead of changing the gradient in place, "
            "and whoever holds the old one (a hook, a gradient bucket, a logger) no longer sees the clipped "
            "gradient. Scale it in place: `p.grad.mul_(factor)`, or call `torch.nn.utils.clip_grad_norm_`."
        )
        return
    if all(torch.equal(now[n], expected.grads[n]) for n in now):
        raise AssertionError(Mistake(
            "ex16.no_clipping", "the gradients not clipped",
            f"the gradients were not clipped: their total norm is {expected.grad_norm:.6g}, above "
            f"max_norm={expected.max_norm:.6g}, and they are unchanged. Scale every gradient in place by "
            "`max_norm / (total + 1e-6)`, or call `torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)`."
        ))
    if not expected.clips:
        raise AssertionError(Mistake(
            "ex16.always_rescales", "gradients rescaled also below max_norm",
            f"the gradients were changed although their total norm {expected.grad_norm:.6g} is already below "
            f"max_norm={expected.max_norm:.6g}. Clipping only ever shrinks: scale by `max_norm / (total + 1e-6)` "
            "only when `total > max_norm`, and leave the gradients alone otherwise."
        ))
    per_tensor = {n: g * min(1.0, expected.max_norm / (_total_norm([g]) + 1e-6)) for n, g in expected.grads.items()}
    if all(torch.allclose(now[n], per_tensor[n], rtol=1e-4, atol=1e-8) for n in now):
        raise AssertionError(Mistake(
            "ex16.clips_each_tensor", "each gradient clipped separately instead of by one total norm",
            "each gradient was clipped separately to norm max_norm: that changes the direction of the step (each "
            "tensor shrinks by a different factor) and lets the total reach max_norm times the number of "
            "tensors. Compute ONE total norm over all gradients and scale every gradient by the same factor "
            "`max_norm / (total + 1e-6)`."
        ))
    total_now = _total_norm(now.values())
    raise AssertionError(Mistake(
        "ex16.wrong_clipping", "gradients scaled by a factor other than max_norm / (total + 1e-6)",
        f"after clip_and_log the gradients have total norm {total_now:.6g}; clipped from {expected.grad_norm:.6g} "
        f"to max_norm={expected.max_norm:.6g} they should be the old gradients times "
        f"{expected.max_norm / (expected.grad_norm + 1e-6):.6g} (`max_norm / (total + 1e-6)`), every one by the same "
        "factor, in place."
    ))


def called(clip_and_log, model, max_norm):
    """What clip_and_log must produce for the model, and what it returned."""
    expected = Expected(model, max_norm)
    return expected, call(clip_and_log, model, max_norm)


def checked(clip_and_log, model, max_norm):
    """Call clip_and_log and check everything it computes, with the messages of the value checks."""
    expected, result = called(clip_and_log, model, max_norm)
    assert_grad_norm(result["grad_norm"], expected)
    assert_weight_norm(result["weight_norm"], expected)
    assert_clipped(model, expected)
    return expected


@pytest.mark.parametrize("case", ["clips-to-0.3-of-total", "clips-to-0.05-of-total-f64"])
def test_returns_two_python_floats(clip_and_log, case):
    called(clip_and_log, *make_case(case))


@pytest.mark.parametrize("case", CASES)
def test_grad_norm_before_clipping(clip_and_log, case):
    expected, result = called(clip_and_log, *make_case(case))
    assert_grad_norm(result["grad_norm"], expected)


@pytest.mark.parametrize("case", CASES)
def test_weight_norm_of_all_parameters(clip_and_log, case):
    expected, result = called(clip_and_log, *make_case(case))
    assert_weight_norm(result["weight_norm"], expected)


@pytest.mark.parametrize("case", CASES)
def test_gradients_are_clipped(clip_and_log, case):
    model, max_norm = make_case(case)
    expected, _ = called(clip_and_log, model, max_norm)
    assert_clipped(model, expected)


@pytest.mark.parametrize("case", ["clips-to-0.3-of-total", "clips-to-0.05-of-total-f64"])
def test_builds_no_graph(clip_and_log, case):
    model, max_norm = make_case(case)
    with count_saved_tensors() as saved:
        checked(clip_and_log, model, max_norm)
    assert saved.count == 0, Mistake(
        "ex16.graph_built", "norms computed with tracking on, building a graph",
        f"autograd saved {saved.count} tensor(s) for a backward pass while clip_and_log ran: the parameters "
        "require grad, so computing their norm with tracking on builds a graph (and keeps its memory) that no "
        "backward will ever use; `.item()` at the end comes too late. Compute the norms inside "
        "`with torch.no_grad():`."
    )


@pytest.mark.parametrize("case", ["clips-to-0.3-of-total", "no-clipping-max-2x-total"])
def test_parameters_unchanged(clip_and_log, case):
    model, max_norm = make_case(case)
    expected = checked(clip_and_log, model, max_norm)
    for name, p in model.named_parameters():
        was = expected.model.params[name]
        assert p is was.obj, Mistake(
            "ex16.replaces_parameters", "parameters replaced by new objects",
            f"parameter {name} was replaced by a different object: clip_and_log only reads the parameters "
            "(and changes their gradients)."
        )
        assert p.requires_grad == was.requires_grad, Mistake(
            "ex16.flags_changed", "parameters frozen or unfrozen to compute a norm",
            f"parameter {name} had requires_grad={was.requires_grad} and now has requires_grad={p.requires_grad}: "
            "don't freeze or unfreeze parameters to compute a norm; `torch.no_grad()` is what stops autograd."
        )
        assert p.is_leaf and p.grad_fn is None and torch.equal(p.detach(), was.values), Mistake(
            "ex16.values_changed", "the parameters' values changed",
            f"the values of parameter {name} changed: clipping changes the gradients (`p.grad`), never the "
            "parameters; the optimizer's step does that later."
        )


@pytest.mark.parametrize("caller", ["grad-enabled", "inside-no_grad"])
def test_grad_mode_unchanged(clip_and_log, caller):
    model, max_norm = make_case("clips-to-0.3-of-total")
    with grad_mode_kept("clip_and_log", caller=caller):
        checked(clip_and_log, model, max_norm)


# --------------------------------------------------------------------------- generated structures


GENERATED = MODEL_SPACE.only(layers=(2,), nesting=(1,), hook=("none",), dropout=(False,), mode=("train",),
                             ties=(False,), outputs=("several",), batch=("several",), grads=(True,),
                             frozen=("none", "alternate"), max_norm=("half the gradient norm", "twice the gradient norm"))


@oracle
def reference_clip_and_log(model, max_norm):
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    with torch.no_grad():
        weight_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p) for p in model.parameters()]))
    return {"grad_norm": grad_norm.item(), "weight_norm": weight_norm.item()}


def generated_call(case):
    model = model_for(case)
    total = _total_norm([p.grad for p in model.parameters() if p.grad is not None])
    return {"model": model, "max_norm": total * (0.5 if case.max_norm.startswith("half") else 2.0)}


def norms_logged(args, result):
    """The two numbers of the returned dict, compared with a tolerance."""
    for key in sorted(KEYS):
        value = result.get(key) if isinstance(result, dict) else None
        number = float(value) if isinstance(value, (int, float)) else float("nan")
        yield Seen(f'result["{key}"]', torch.tensor(number, dtype=torch.float64), f"{number:.6g}")


def test_agrees_with_the_reference_on_generated_structures(clip_and_log):
    compare(clip_and_log, reference_clip_and_log, GENERATED, generated_call, fn_name="clip_and_log", extra=1,
            probe=norms_logged)
