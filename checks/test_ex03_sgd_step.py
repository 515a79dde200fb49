"""Checks for ex03: sgd_step(params, lr) updates parameters in place under no_grad."""

import pytest
import torch
from torch import nn

from checks.instruments import (
    Mistake,
    count_saved_tensors,
    describe_args,
    explain_errors,
    grad_mode_kept,
    head,
    oracle,
    snapshot,
)
from checks.structures import MODEL_SPACE, compare, model_for

# id -> (parameter shapes, learning rate, dtype); the values themselves are random per check
CASES = {
    "vector-lr0.1": ([(5,)], 0.1, torch.float32),
    "matrix+bias-lr0.5": ([(4, 3), (4,)], 0.5, torch.float32),
    "scalar+3d-lr0.01-f64": ([(), (2, 3, 2)], 0.01, torch.float64),
}

ERRORS = {
    r"leaf Variable that requires grad is being used in an in-place operation": Mistake(
        "ex03.update_outside_no_grad", "an in-place update outside torch.no_grad()",
        "Autograd refuses to record an in-place change of a parameter (a leaf tensor that requires grad). "
        "Do the update inside `with torch.no_grad():`, where nothing is recorded."
    ),
    r"unsupported operand type.*NoneType|NoneType.*not supported|not NoneType": Mistake(
        "ex03.none_grad_not_skipped", "parameters without a gradient (.grad is None) not skipped",
        "Some parameters have no gradient (`p.grad is None`: they took no part in the loss). "
        "Skip them: `if p.grad is None: continue`."
    ),
    r"has no len\(\)|not subscriptable": Mistake(
        "ex03.params_as_list", "`params` used as a list (len, indexing) when it may be a generator",
        "`params` may be a generator such as `model.parameters()`: it has no length and no indexing. "
        "Loop over it with `for p in params:` (once), or make a list first: `params = list(params)`."
    ),
}


@pytest.fixture
def sgd_step(learner):
    return learner


def make_params(case, n_without_grad=0):
    shapes, lr, dtype = CASES[case]
    params = [torch.randn(shape, dtype=dtype, requires_grad=True) for shape in shapes]
    loss = sum(((p - torch.randn_like(p)) ** 2).sum() for p in params)
    loss.backward()
    idle = [torch.randn(3, dtype=dtype, requires_grad=True) for _ in range(n_without_grad)]
    return params, idle, lr


def step(sgd_step, params, lr):
    with explain_errors("sgd_step", ERRORS, called_with=describe_args(params=params, lr=lr)):
        return sgd_step(params, lr)


def assert_updated(params, before, lr, how="a list"):
    """Every parameter holds old - lr * grad, or the message says what went wrong."""
    for i, (p, old) in enumerate(zip(params, before)):
        want = old.values - lr * old.grad
        now = p.detach()
        if torch.allclose(now, want, rtol=1e-5, atol=1e-6):
            continue
        if torch.equal(now, old.values):
            raise AssertionError(Mistake(
                "ex03.rebinding", "rebinding instead of an in-place update",
                f"parameter {i} did not change when sgd_step got {how}. If you wrote `p = p - lr * p.grad`, "
                "that builds a new tensor and only rebinds your loop variable: the caller's tensor (the model's "
                "parameter) stays as it was. Change it in place: `p -= lr * p.grad`, inside `torch.no_grad()`."
            ))
        raise AssertionError(Mistake(
            "ex03.wrong_update", "an update other than `p -= lr * p.grad`",
            f"parameter {i} holds the wrong values after sgd_step (lr={lr}): expected `old - lr * grad` = "
            f"{head(want)}, found {head(now)}. Subtract lr times the gradient: `p -= lr * p.grad`."
        ))


def stepped(sgd_step, case):
    """The parameters of a case and what they were, after sgd_step updated them (or the values message)."""
    params, _, lr = make_params(case)
    before = snapshot(params)
    step(sgd_step, params, lr)
    assert_updated(params, before, lr)
    return params, before


@pytest.mark.parametrize("case", CASES)
def test_values_are_updated(sgd_step, case):
    stepped(sgd_step, case)


@pytest.mark.parametrize("case", CASES)
def test_update_keeps_storage(sgd_step, case):
    params, before = stepped(sgd_step, case)
    for i, (p, old) in enumerate(zip(params, before)):
        assert p.untyped_storage().data_ptr() == old.storage, Mistake(
            "ex03.data_replaced", "replacing `p.data` instead of updating it in place",
            f"parameter {i} now lives in different memory: its values were replaced (for example "
            "`p.data = p - lr * p.grad`) instead of updated in place. Other references to that memory "
            "(the optimizer's state, views) no longer see it. Update in place: `p -= lr * p.grad` under "
            "`torch.no_grad()`."
        )


@pytest.mark.parametrize("case", CASES)
def test_parameters_stay_trainable_leaves(sgd_step, case):
    params, _ = stepped(sgd_step, case)
    for i, p in enumerate(params):
        assert p.requires_grad, Mistake(
            "ex03.freezes_to_update", "switching requires_grad off to make the update possible",
            f"parameter {i} no longer requires grad after sgd_step: it would stop learning. "
            "Don't switch `requires_grad` off to make the update possible: `torch.no_grad()` does that job "
            "for the duration of the block and leaves the flag alone."
        )
        assert p.is_leaf and p.grad_fn is None, Mistake(
            "ex03.update_recorded", "an update recorded by autograd (the parameter is no longer a leaf)",
            f"parameter {i} is no longer a leaf tensor (grad_fn={p.grad_fn}): its update was recorded by "
            "autograd. Do it inside `with torch.no_grad():`."
        )


@pytest.mark.parametrize("case", CASES)
def test_version_counter_increases(sgd_step, case):
    params, before = stepped(sgd_step, case)
    for i, (p, old) in enumerate(zip(params, before)):
        assert p._version > old.version, Mistake(
            "ex03.through_data", "updating through `p.data`, hidden from autograd's version counter",
            f"autograd's version counter of parameter {i} did not move (`p._version` is still {old.version}): the "
            "update went through `p.data`, which hides the change from autograd. If that tensor was saved for "
            "a backward, autograd can no longer tell it was modified and silently computes wrong gradients. "
            "Use `with torch.no_grad(): p -= lr * p.grad` instead of `p.data`."
        )


def assert_grads_cleared(params, how="a list"):
    """Every parameter's .grad is None after the step, or the message says what became of it."""
    for i, p in enumerate(params):
        if p.grad is not None and not p.grad.any():
            raise AssertionError(Mistake(
                "ex03.grad_zeroed", "the gradient zeroed instead of cleared (`p.grad = None`)",
                f"parameter {i}'s gradient was zeroed (filled with 0) instead of cleared, when sgd_step got {how}: "
                "the task asks for `p.grad = None` after the update. None frees the memory, and the next backward() "
                "writes a fresh gradient instead of adding onto a tensor of zeros."
            ))
        assert p.grad is None, Mistake(
            "ex03.grad_kept", "the gradient not cleared after the update",
            f"parameter {i} still has its gradient after sgd_step (given {how}): set `p.grad = None` after "
            "updating it, or the next backward() adds the new gradient onto the old one."
        )


@pytest.mark.parametrize("case", CASES)
def test_grad_is_cleared(sgd_step, case):
    params, _ = stepped(sgd_step, case)
    assert_grads_cleared(params)


@pytest.mark.parametrize("case", CASES)
def test_parameters_without_grad_are_left_alone(sgd_step, case):
    params, idle, lr = make_params(case, n_without_grad=2)
    mixed = [idle[0], *params, idle[1]]
    before_idle = snapshot(idle)
    before = snapshot(params)
    step(sgd_step, mixed, lr)
    assert_updated(params, before, lr, how="parameters with and without gradients")
    for p, old in zip(idle, before_idle):
        assert p.grad is None, Mistake(
            "ex03.grad_given_to_idle", "a gradient given to a parameter that had none",
            f"a parameter that had no gradient now has one ({head(p.grad)}): leave parameters whose "
            "`.grad` is None exactly as they are."
        )
        assert torch.equal(p.detach(), old.values) and p._version == old.version, Mistake(
            "ex03.idle_parameter_modified", "a parameter without a gradient modified",
            "a parameter whose `.grad` is None was modified: it took no part in the loss, so there is "
            "nothing to step. Skip it with `if p.grad is None: continue`."
        )


@pytest.mark.parametrize("seed_layout", ["mlp-2x8", "mlp-3x5"])
def test_accepts_a_generator(sgd_step, seed_layout):
    width = int(seed_layout.split("x")[1])
    model = nn.Sequential(nn.Linear(3, width), nn.Tanh(), nn.Linear(width, 2))
    model(torch.randn(6, 3)).pow(2).mean().backward()
    params = list(model.parameters())
    as_list = [p.detach().clone().requires_grad_() for p in params]  # the same values and gradients, in a list
    for copied, p in zip(as_list, params):
        copied.grad = p.grad.clone()
    before = snapshot(params)
    how = "a generator (`model.parameters()`)"
    step(sgd_step, model.parameters(), 0.1)
    assert_updated(params, before, 0.1, how=how)
    if all(p.grad is None for p in params):
        return
    step(sgd_step, as_list, 0.1)
    if all(p.grad is None for p in as_list):
        i = next(i for i, p in enumerate(params) if p.grad is not None)
        raise AssertionError(Mistake(
            "ex03.two_passes", "two passes over `params`, which may be a generator",
            f"with {how} parameter {i} was updated but its gradient not cleared, while with the same parameters in "
            "a list every gradient is cleared. A generator can be iterated only once: a second "
            "`for p in params:` loop sees nothing. Update and clear in the same pass (or start with "
            "`params = list(params)`)."
        ))
    assert_grads_cleared(params, how)


@pytest.mark.parametrize("caller", ["grad-enabled", "inside-no_grad"])
def test_grad_mode_is_restored(sgd_step, caller):
    params, _, lr = make_params("matrix+bias-lr0.5")
    before = snapshot(params)
    with grad_mode_kept("sgd_step", caller=caller):
        step(sgd_step, params, lr)
    assert_updated(params, before, lr)


def test_builds_no_graph(sgd_step):
    params, _, lr = make_params("matrix+bias-lr0.5")
    before = snapshot(params)
    with count_saved_tensors() as saved:
        step(sgd_step, params, lr)
    assert_updated(params, before, lr)
    assert saved.count == 0, Mistake(
        "ex03.graph_built", "part of the update recorded in a graph",
        f"autograd saved {saved.count} tensor(s) for a backward pass while sgd_step ran: part of the update "
        "was recorded in a graph. Do all of the arithmetic inside `with torch.no_grad():`."
    )


# --------------------------------------------------------------------------- against the reference, on generated models

# the parameters of generated models, after a backward: 0-d and root parameters, tied weights, batch norm,
# frozen layers (no gradient: left alone), dtypes; handed over as a one-shot generator
GENERATED = MODEL_SPACE.only(layers=(1, 2), nesting=(1,), hook=("none",), dropout=(False,), mode=("train",),
                             grads=(True,), ties=(False,), outputs=("several",), batch=("several",),
                             norm=("none", "batchnorm"), lr=(0.1, 0.5))


def generated_input(case):
    return {"params": list(model_for(case).parameters()), "lr": case.lr}


def as_generator(fn, args):
    return fn((p for p in args["params"]), args["lr"])


@oracle
def sgd_reference(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
                p.grad = None


def test_matches_the_reference_on_generated_models(sgd_step):
    compare(sgd_step, sgd_reference, GENERATED, generated_input, fn_name="sgd_step", explanations=ERRORS,
            call=as_generator)
