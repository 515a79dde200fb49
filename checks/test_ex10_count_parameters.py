"""Checks for ex10: count_parameters(model) returns (trainable, total) numbers of parameter elements,
shared parameters once, buffers not at all, as Python ints, and changes nothing."""

import numpy as np
import pytest
import torch
from torch import nn

from checks.instruments import (
    Mistake,
    TinyLM,
    as_mistake,
    changes,
    describe_args,
    expect_python_number,
    explain_errors,
    parameter_slots,
    random_size,
    snapshot,
    unique_parameters,
)

# id -> what the model has; layer sizes are random per check
MODELS = {
    "mlp-first-weight-frozen": "an MLP whose first weight is frozen",
    "tied-embedding-trainable": "a small language model whose decoder shares the embedding's weight (trainable)",
    "tied-embedding-frozen": "a small language model whose decoder shares the embedding's weight (frozen)",
    "conv-batchnorm-frozen": "a conv net with a frozen batch-norm layer (its running statistics are buffers)",
    "all-frozen+buffer": "a fully frozen model with a registered float buffer",
}


ERRORS = {
    r"'bool' object is not callable": (
        "`p.requires_grad` is a flag (a plain bool), not a method: read it without parentheses, "
        "`if p.requires_grad:`."
    ),
    r"object of type 'generator' has no len\(\)": Mistake(
        "ex10.len_of_generator", "len(model.parameters()), which counts tensors (and a generator has no len)",
        "`model.parameters()` is a generator: it has no length, and its length would be the number of parameter "
        "tensors anyway, not of their elements. Sum the elements instead: `sum(p.numel() for p in model.parameters())`."
    ),
}


@pytest.fixture
def count_parameters(learner):
    return learner



def make_model(kind):
    if kind == "mlp-first-weight-frozen":
        n_in, hidden, n_out = random_size(2, 9), random_size(2, 9), random_size(2, 9)
        model = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))
        model[0].weight.requires_grad_(False)
    elif kind.startswith("tied-embedding"):
        model = TinyLM(random_size(5, 12), random_size(2, 9))
        model.body.bias.requires_grad_(False)
        if kind.endswith("frozen"):
            model.embedding.weight.requires_grad_(False)
    elif kind == "conv-batchnorm-frozen":
        channels = random_size(2, 9)
        model = nn.Sequential(nn.Conv2d(random_size(1, 4), channels, 3), nn.BatchNorm2d(channels), nn.ReLU(),
                              nn.Flatten(), nn.Linear(channels * 4, random_size(2, 9)))
        with torch.no_grad():
            model[:2](torch.randn(3, model[0].in_channels, 4, 4))  # running statistics move
        model[1].requires_grad_(False)
        model[1].eval()
    elif kind == "all-frozen+buffer":
        n_in, hidden = random_size(2, 9), random_size(2, 9)
        model = nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.LayerNorm(hidden))
        model.register_buffer("scale", torch.randn(random_size(2, 9), random_size(2, 9)))
        model.requires_grad_(False)
    else:
        raise KeyError(kind)
    return model


def expected(model):
    params = unique_parameters(model)
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def call(count_parameters, model, where):
    with explain_errors("count_parameters", ERRORS, called_with=f"{describe_args(model=model)} ({where})"):
        result = count_parameters(model)
    return expect_pair(result, where)


def expect_pair(result, where):
    if isinstance(result, torch.Tensor):
        raise AssertionError(Mistake(
            "ex10.returns_tensor", "a tensor returned instead of the pair of Python ints",
            f"on {where}, count_parameters returned a tensor ({str(result)[:60]}); the tuple `(trainable, total)` "
            "of two Python ints is expected: `return trainable, total`."
        ))
    if not isinstance(result, tuple) or tuple.__len__(result) != 2:
        shown = tuple.__repr__(result) if isinstance(result, tuple) else str(result)
        raise AssertionError(Mistake(
            "ex10.not_a_pair", "something else than the pair (trainable, total) returned",
            f"on {where}, count_parameters returned {type(result).__name__} ({shown[:60]}); the tuple "
            "`(trainable, total)` is expected: `return trainable, total`."
        ))
    result = (tuple.__getitem__(result, 0), tuple.__getitem__(result, 1))  # the items themselves, whatever the class
    for what, value in zip(("trainable", "total"), result):
        if isinstance(value, np.generic):
            raise AssertionError(Mistake(
                "ex10.numpy_numbers", "numpy numbers (np.prod of shapes) instead of Python ints",
                f"on {where}, count_parameters returned a numpy number ({type(value).__name__}) as {what}; a "
                "plain Python int is expected. `np.prod(p.shape)` gives numpy numbers: use `p.numel()`, or "
                "convert with `int(...)`."
            ))
        if isinstance(value, float) and not isinstance(value, bool):
            raise AssertionError(Mistake(
                "ex10.float_counts", "float counts instead of Python ints",
                f"on {where}, count_parameters returned a float ({value}) as {what}: a count is a whole number. "
                "Return Python ints: `p.numel()` is one; avoid `/` and `math.prod` over floats."
            ))
        expect_python_number(value, "count_parameters", kind=int, what=what)
    return result


def assert_counts(result, model, where):
    """(trainable, total) has the right values, or the message names the likely mistake."""
    trainable, total = result
    want_trainable, want_total = expected(model)
    unique, slots = unique_parameters(model), parameter_slots(model)
    if (trainable, total) == (want_total, want_trainable) and want_trainable != want_total:
        raise AssertionError(Mistake(
            "ex10.swapped", "(total, trainable) returned instead of (trainable, total)",
            f"on {where}, count_parameters returned ({trainable}, {total}): the two numbers are swapped. "
            "The order is (trainable, total), and trainable is never more than total."
        ))
    if total != want_total:
        buffer_elements = sum(b.numel() for b in model.buffers())
        if total == len(unique) or total == len(slots):
            reason = Mistake(
                "ex10.counts_tensors", "parameter tensors counted instead of their elements",
                "you counted parameter tensors. Count their scalar elements instead: a Linear(3, 2) layer "
                "has 2*3 + 2 = 8 parameters, `p.numel()` of each tensor summed.")
        elif total == sum(p.numel() for p in slots):
            reason = Mistake(
                "ex10.tied_counted_twice", "a tied (shared) weight counted twice",
                "the shared weight was counted twice. The decoder and the embedding share one tensor (tied "
                "weights): it is stored and trained once, so it counts once. `model.parameters()` gives each "
                "tensor once; `named_parameters(remove_duplicate=False)` or going module by module sees it "
                "twice.")
        elif buffer_elements and total in (want_total + buffer_elements,
                                           sum(t.numel() for t in model.state_dict().values())):
            reason = Mistake(
                "ex10.counts_buffers", "buffers (running statistics, state_dict entries) counted as parameters",
                "buffers were counted too: batch-norm running statistics and registered buffers are saved "
                "in model.state_dict(), but they are not parameters and are never trained. Count over "
                "`model.parameters()`.")
        else:
            reason = "count the scalar elements (`p.numel()`) of every parameter in `model.parameters()`."
        raise AssertionError(as_mistake(
            reason, f"on {where}, count_parameters says total = {total}, expected {want_total}: {reason}"))
    if trainable != want_trainable:
        trainable_slots = [p for p in slots if p.requires_grad]
        if trainable == want_total and want_total != want_trainable:
            reason = Mistake(
                "ex10.ignores_requires_grad", "frozen parameters counted as trainable",
                "frozen parameters were counted as trainable. A parameter is trainable only when "
                "`p.requires_grad` is True: count those for the first number, all of them for the second.")
        elif trainable in (len([p for p in unique if p.requires_grad]), len(trainable_slots)):
            reason = Mistake(
                "ex10.counts_trainable_tensors", "trainable tensors counted instead of their elements",
                "you counted trainable tensors. Count their scalar elements instead: sum `p.numel()` over "
                "the parameters with `p.requires_grad`.")
        elif trainable == sum(p.numel() for p in trainable_slots):
            reason = Mistake(
                "ex10.tied_trainable_counted_twice", "a tied (shared) trainable weight counted twice",
                "the shared (tied) weight was counted twice. It is one tensor: count it once. "
                "`model.parameters()` gives each tensor once.")
        elif trainable == want_total - want_trainable:
            reason = Mistake(
                "ex10.counts_frozen", "the frozen parameters counted as the trainable ones",
                "you counted the frozen parameters. Trainable means `p.requires_grad` is True.")
        elif trainable == 0:
            reason = Mistake(
                "ex10.state_dict_flags", "requires_grad read from state_dict copies (always False)",
                "no parameter was seen as trainable. Tensors from `model.state_dict()` are detached copies "
                "(their requires_grad is always False): read the flags of `model.parameters()`.")
        else:
            reason = "sum `p.numel()` over the parameters of `model.parameters()` whose `p.requires_grad` is True."
        raise AssertionError(as_mistake(
            reason, f"on {where}, count_parameters says trainable = {trainable}, expected {want_trainable}: {reason}"
        ))


def check(count_parameters, kind):
    model = make_model(kind)
    where = MODELS[kind]
    result = call(count_parameters, model, where)
    assert_counts(result, model, where)
    return model, result


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("kind", ["mlp-first-weight-frozen", "conv-batchnorm-frozen"])
def test_returns_two_python_ints(count_parameters, kind):
    model = make_model(kind)
    call(count_parameters, model, MODELS[kind])


@pytest.mark.parametrize("kind", ["mlp-first-weight-frozen", "conv-batchnorm-frozen"])
def test_total_counts_elements(count_parameters, kind):
    check(count_parameters, kind)


@pytest.mark.parametrize("kind", ["mlp-first-weight-frozen", "tied-embedding-frozen", "all-frozen+buffer"])
def test_trainable_counts_only_parameters_that_require_grad(count_parameters, kind):
    check(count_parameters, kind)


@pytest.mark.parametrize("kind", ["tied-embedding-trainable", "tied-embedding-frozen"])
def test_tied_weights_count_once(count_parameters, kind):
    check(count_parameters, kind)


@pytest.mark.parametrize("kind", ["conv-batchnorm-frozen", "all-frozen+buffer"])
def test_buffers_do_not_count(count_parameters, kind):
    check(count_parameters, kind)


@pytest.mark.parametrize("kind", ["tied-embedding-frozen", "conv-batchnorm-frozen"])
def test_model_is_left_unchanged(count_parameters, kind):
    model = make_model(kind)
    if kind.startswith("tied"):  # some parameters get a .grad, which must stay as it is
        model(torch.randint(0, model.embedding.num_embeddings, (4,))).sum().backward()
    before = snapshot(model)
    result = call(count_parameters, model, MODELS[kind])
    found = changes(before, model, "modes flags grads buffers")
    assert not found, Mistake(
        "ex10.model_changed", "the model changed while counting (modes, flags, gradients, buffers)",
        f"counting the parameters of {MODELS[kind]} changed the model: {'; '.join(found[:3])}. Counting only "
        "reads: `p.numel()` and the flag `p.requires_grad` (without parentheses). Trainable is about that flag, "
        "not about the module's train/eval mode: no `.train()` or `.eval()`, no forward pass."
    )
    assert_counts(result, model, MODELS[kind])
