"""Checks for ex10: count_parameters(model) returns (trainable, total) numbers of parameter elements,
shared parameters once, buffers not at all, as Python ints, and changes nothing."""

import copy

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
    oracle,
    random_size,
    snapshot,
    unique_parameters,
)
from checks.structures import MODEL_SPACE, compare, model_for

# id -> what the model has; layer sizes are random per check
MODELS = {
    "mlp-first-weight-frozen": "an MLP whose first weight is frozen",
    "tied-embedding-trainable": "a small language model whose decoder shares the embedding's weight (trainable)",
    "tied-embedding-frozen": "a small language model whose decoder shares the embedding's weight (frozen)",
    "conv-batchnorm-frozen": "a conv net with a frozen batch-norm layer (its running statistics are buffers)",
    "all-frozen+buffer": "a fully frozen model with a registered float buffer",
}


ERRORS = {
    r"reduce\(\) of empty iterable with no initial value": Mistake(
        "ex10.product_of_no_sizes", "the product of a shape's sizes without a start value (fails for a 0-d tensor)",
        "A 0-d parameter (a single number, such as a temperature) has the shape (), with no sizes at all: "
        "`reduce(mul, p.size())` has nothing to multiply and fails. A product of no numbers is 1, as for any "
        "one-element tensor: `p.numel()` gives it (so does `math.prod(p.shape)`, or `reduce(mul, p.size(), 1)`)."
    ),
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


def assert_counts(result, model, where, count_parameters=None):
    """(trainable, total) has the right values, or the message names the likely mistake (`count_parameters`, the
    learner's function, is called again on a variant of the model where that tells two mistakes apart)."""
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
        elif trainable == 0 and count_parameters and _counts_right_with_grads(count_parameters, model, where):
            reason = Mistake(
                "ex10.trainable_by_grad", "trainable judged by whether `.grad` is set (None until a backward)",
                "no parameter was seen as trainable here, and the same code counts them right once every "
                "trainable parameter has a `.grad`: trainability was judged by `p.grad`. A "
                "parameter is trainable when `p.requires_grad` is True, before any backward; `.grad` stays None "
                "until one runs.")
        elif trainable == 0:
            reason = Mistake(
                "ex10.no_trainable_seen", "no parameter seen as trainable",
                f"no parameter was seen as trainable, although {want_trainable} elements require grad. Likely causes: "
                "the flags read from `model.state_dict()`, whose tensors are detached copies (requires_grad is "
                "always False there), or from something else than each parameter's `p.requires_grad`. Read the "
                "flags of `model.parameters()`.")
        else:
            reason = "sum `p.numel()` over the parameters of `model.parameters()` whose `p.requires_grad` is True."
        raise AssertionError(as_mistake(
            reason, f"on {where}, count_parameters says trainable = {trainable}, expected {want_trainable}: {reason}"
        ))


def _counts_right_with_grads(count_parameters, model, where) -> bool:
    """Whether the learner's count of trainable elements is right on a copy of `model` whose trainable parameters
    all have a `.grad` (it was 0 without): trainability judged by `.grad`. Runs the learner's function again."""
    twin = copy.deepcopy(model)
    for p in twin.parameters():
        if p.requires_grad:
            p.grad = torch.zeros_like(p)
    try:
        result = expect_pair(count_parameters(twin), where)
    except Exception:  # noqa: BLE001 - no answer, no diagnosis: the check's own message stands
        return False
    return result[0] == expected(twin)[0]


def check(count_parameters, kind):
    model = make_model(kind)
    where = MODELS[kind]
    result = call(count_parameters, model, where)
    assert_counts(result, model, where, count_parameters)
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
    assert_counts(result, model, MODELS[kind], count_parameters)


# --------------------------------------------------------------------------- against the reference, on generated models

# models of every structure the contract allows: depth, nesting, a parameter of the model itself, 0-d
# parameters, batch norm (buffers, with or without affine parameters), tied weights, frozen mixes, gradients,
# modes, dtypes
GENERATED = MODEL_SPACE.only(layers=(1, 2), hook=("none",), dropout=(False,), ties=(False,), outputs=("several",),
                             batch=("several",), mode=("train", "mixed"))


@oracle
def count_reference(model):
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def _over_children(model, _=None):
    params = {id(p): p for child in model.children() for p in child.parameters()}.values()
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


ROOT_MISSED = Mistake(
    "ex10.root_parameters_missed", "the model's own parameters missed (counting its children only)",
    "Your counts are exactly those of the model's children: the parameters the model holds itself (such as "
    "`scale`, in no child module) were left out. `model.children()` never reaches them; `model.parameters()` "
    "gives every parameter at every depth, the model's own included, each tensor once."
)


def test_matches_the_reference_on_generated_models(count_parameters):
    compare(count_parameters, count_reference, GENERATED, lambda case: {"model": model_for(case)},
            fn_name="count_parameters", explanations=ERRORS, known=[
                (lambda diff: diff.case.root_param and diff.field == "the result's items"
                 and tuple(diff.mine) == diff.again(_over_children), ROOT_MISSED),
            ])
