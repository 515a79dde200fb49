"""Checks for ex11: unfreeze_all(model) makes every parameter trainable, returns how many parameter
tensors were frozen before (shared ones once), and leaves buffers, modes and gradients alone."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from checks.instruments import (
    Mistake,
    TinyLM,
    as_mistake,
    describe_args,
    expect_python_number,
    explain_errors,
    oracle,
    parameter_slots,
    random_size,
    snapshot,
    unique_parameters,
)
from checks.structures import MODEL_SPACE, compare, model_for

# id -> what the model has; sizes, values and which parameters start frozen are random per check
MODELS = {
    "mlp-batchnorm-some-frozen": "an MLP with a batch-norm layer (in eval mode) and some parameters frozen",
    "tied-lm-shared-weight-frozen": "a small language model whose decoder shares the embedding's weight, "
    "that shared weight frozen",
    "all-frozen": "an MLP with a batch-norm layer, every parameter frozen",
    "all-trainable": "an MLP with a batch-norm layer, no parameter frozen",
    "eval-mode-some-frozen": "an MLP with a batch-norm layer and some parameters frozen, the whole model in eval "
    "mode",
    "root-scalar-nested": "a model with a 0-dim parameter of its own (a temperature, frozen) around layers nested "
    "three levels deep, some of them frozen, some frozen ones without a .grad",
}

ERRORS = {
    r"only Tensors of floating point(?: and complex)? dtype can require gradients": Mistake(
        "ex11.integer_buffer_unfrozen", "requires_grad switched on for an integer buffer (num_batches_tracked)",
        "You tried to make an integer tensor require grad: batch norm's `num_batches_tracked`, a buffer. "
        "Buffers (running statistics) are not parameters and are never trained: leave them alone. "
        "Go through `model.parameters()`, not `model.state_dict()` or `model.buffers()`."
    ),
}


@pytest.fixture
def unfreeze_all(learner):
    return learner



class Tempered(nn.Module):
    """A model holding a parameter of its own (a 0-dim temperature, which no child holds) around layers nested
    three levels deep."""

    def __init__(self, n_in: int, hidden: int, n_out: int):
        super().__init__()
        self.temperature = nn.Parameter(torch.rand(()) + 0.5)
        self.body = nn.Sequential(
            nn.Sequential(nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden)),
            nn.Sequential(nn.Sequential(nn.ReLU(), nn.Linear(hidden, n_out))),
        )

    def forward(self, x):
        return self.body(x) / self.temperature


def make_model(kind):
    """A model with random values, a .grad on every parameter (but those frozen before any backward),
    non-default batch-norm statistics, and some parameters frozen."""
    if kind == "root-scalar-nested":
        model = Tempered(random_size(2, 7), random_size(2, 7), random_size(2, 7))
        model.temperature.requires_grad_(False)  # frozen from the start: never got a .grad
        model.body[0][0].weight.requires_grad_(False)
        model(torch.randn(5, model.body[0][0].in_features) * 2 + 1).pow(2).mean().backward()
        model.body[1][0][1].bias.requires_grad_(False)  # frozen later: keeps its .grad
        return model
    if kind.startswith("tied"):
        model = TinyLM(random_size(5, 10), random_size(2, 7))
        model(torch.randint(0, model.embedding.num_embeddings, (6,))).pow(2).mean().backward()
        model.embedding.weight.requires_grad_(False)
        model.body.bias.requires_grad_(False)
        return model
    n_in, hidden, n_out = random_size(2, 7), random_size(2, 7), random_size(2, 7)
    model = nn.Sequential(nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, n_out))
    for _ in range(2):
        model(torch.randn(5, n_in) * 2 + 1).pow(2).mean().backward()  # grads, and running stats move
    (model if kind.startswith("eval-mode") else model[1]).eval()  # the caller's modes, to be kept
    params = list(model.parameters())
    if kind == "all-frozen":
        model.requires_grad_(False)
    elif kind.endswith("some-frozen"):
        frozen = torch.rand(len(params)) < 0.5
        frozen[int(torch.randint(0, 2, ()))] = True  # at least one frozen ...
        frozen[int(torch.randint(2, len(params), ()))] = False  # ... and one trainable
        for p, f in zip(params, frozen.tolist()):
            p.requires_grad_(not f)
    return model


@dataclass
class Frozen:
    """What the count is judged by, taken before the call: every parameter tensor once, the frozen ones,
    and the frozen ones as many times as modules hold them."""

    unique: list
    tensors: list
    slots: list


def unfrozen(unfreeze_all, kind):
    """A model of the kind, what it was and which of its parameters were frozen, what unfreeze_all(model)
    returned, and the model in words."""
    model = make_model(kind)
    before, unique = snapshot(model), unique_parameters(model)
    frozen = Frozen(unique, [p for p in unique if not p.requires_grad],
                    [p for p in parameter_slots(model) if not p.requires_grad])
    with explain_errors("unfreeze_all", ERRORS, called_with=describe_args(model=model)):
        result = unfreeze_all(model)
    return model, before, frozen, result, MODELS[kind]


NOT_UNFROZEN = Mistake(
    "ex11.not_unfrozen", "parameters left frozen",
    "on {where}, parameter {names} still has requires_grad=False after unfreeze_all. Switch tracking on for "
    "every parameter of the model itself: `p.requires_grad_(True)` for each p in `model.parameters()`. Possible "
    "causes: the flag switched on copies (the tensors of `model.state_dict()` are detached copies: their flag does "
    "not reach the parameters; so are `p.detach()` and `p.data`), or a loop that skipped these parameters."
)
GRAD_FLAG = Mistake(
    "ex11.grad_flag_switched", "the flag of the gradient switched instead of the parameter's",
    "on {where}, parameter {names} still has requires_grad=False after unfreeze_all, and its .grad now has "
    "requires_grad=True: the flag was switched on the gradient `p.grad`, not on the parameter. Switch it on the "
    "parameter: `p.requires_grad_(True)`, and leave `.grad` alone."
)
ROOT_MISSED = Mistake(
    "ex11.root_parameters_missed", "the model's own parameters missed (only its children gone through)",
    "on {where}, parameter {names} still has requires_grad=False after unfreeze_all, while the parameters of its "
    "submodules were unfrozen: the ones left are held by the model itself, not by any child, and "
    "`model.children()` (or a loop over submodules) never reaches them. `model.parameters()` gives every "
    "parameter, the model's own included."
)
BY_GRAD = Mistake(
    "ex11.decided_by_grad", "frozen parameters told apart by their .grad instead of requires_grad",
    "on {where}, parameter {names} still has requires_grad=False after unfreeze_all: the parameters left frozen "
    "are exactly those that {had} a .grad before the call. Whether a parameter has a .grad says nothing about "
    "its flag (a parameter frozen after a backward keeps its .grad, one frozen from the start has none): read "
    "`p.requires_grad`, or switch every parameter on."
)


def assert_all_trainable(model, where, before=None):
    """Every parameter requires grad, or the message says which not, and a cause only where it is seen:
    the gradient's flag switched, the model's own parameters missed, exactly those with (without) a .grad left."""
    params = dict(model.named_parameters())
    still = [n for n, p in params.items() if not p.requires_grad]
    if not still:
        return
    names = ", ".join(still[:3])
    if any(params[n].grad is not None and params[n].grad.requires_grad for n in still):
        raise AssertionError(GRAD_FLAG.says(where=where, names=names))
    if before is not None:
        frozen = [n for n, state in before.params.items() if n in params and not state.requires_grad]
        own = {n for n in frozen if "." not in n}
        if own and set(still) == own and len(frozen) > len(own):
            raise AssertionError(ROOT_MISSED.says(where=where, names=names))
        had = {n for n in frozen if before.params[n].grad is not None}
        for left, words in ((had, "had"), (set(frozen) - had, "had no")):
            if left and len(left) < len(frozen) and set(still) == left:
                raise AssertionError(BY_GRAD.says(where=where, names=names, had=words))
    raise AssertionError(NOT_UNFROZEN.says(where=where, names=names))


def assert_count(result, frozen, where):
    """The count of formerly frozen tensors is right, or the message names the likely mistake."""
    if isinstance(result, np.generic):
        raise AssertionError(Mistake(
            "ex11.numpy_number", "a numpy number returned instead of a Python int",
            f"on {where}, unfreeze_all returned a numpy number ({type(result).__name__}); a Python int is "
            "expected: convert with `int(...)`."
        ))
    expect_python_number(result, "unfreeze_all", kind=int, what="the number of formerly frozen tensors")
    want = len(frozen.tensors)
    if result == want:
        return
    frozen_elements = sum(p.numel() for p in frozen.tensors)
    if result == 0:
        reason = Mistake(
            "ex11.counts_after_unfreezing", "the frozen tensors counted after unfreezing them",
            "you counted after unfreezing, when no parameter is frozen any more. Count the parameters whose "
            "`requires_grad` is False first (or while you go through them), then switch them on.")
    elif result == len(frozen.unique):
        reason = Mistake(
            "ex11.counts_all_parameters", "every parameter tensor counted, not only the frozen ones",
            "you counted every parameter tensor. Count only those that were frozen (`requires_grad` False) "
            "before the call.")
    elif result == len(frozen.unique) - want:
        reason = Mistake(
            "ex11.counts_trainable", "the trainable tensors counted instead of the frozen ones",
            "you counted the parameters that were trainable already; count those that were frozen.")
    elif result == len(frozen.slots):
        reason = Mistake(
            "ex11.tied_counted_twice", "a tied (shared) frozen weight counted twice",
            "the shared (tied) weight was counted twice. The decoder and the embedding hold one tensor: it "
            "was one frozen tensor. `model.parameters()` gives each tensor once.")
    elif result == frozen_elements:
        reason = Mistake(
            "ex11.counts_elements", "scalar elements counted instead of tensors",
            "you counted scalar elements (`numel()`), not tensors. Each frozen parameter tensor counts 1, "
            "whatever its size.")
    else:
        reason = "count the parameter tensors whose `requires_grad` was False before the call, each once."
    raise AssertionError(as_mistake(reason, f"on {where}, unfreeze_all returned {result}, but {want} parameter "
                                            f"tensors were frozen before the call: {reason}"))


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("kind", ["mlp-batchnorm-some-frozen", "tied-lm-shared-weight-frozen", "all-frozen",
                                  "root-scalar-nested"])
def test_every_parameter_requires_grad(unfreeze_all, kind):
    model, before, _, _, where = unfrozen(unfreeze_all, kind)
    assert_all_trainable(model, where, before)


@pytest.mark.parametrize("kind", ["mlp-batchnorm-some-frozen", "all-frozen", "all-trainable", "root-scalar-nested"])
def test_returns_number_of_formerly_frozen_tensors(unfreeze_all, kind):
    model, before, frozen, result, where = unfrozen(unfreeze_all, kind)
    assert_count(result, frozen, where)
    assert_all_trainable(model, where, before)


@pytest.mark.parametrize("kind", ["tied-lm-shared-weight-frozen"])
def test_shared_parameter_counts_once(unfreeze_all, kind):
    model, _, frozen, result, where = unfrozen(unfreeze_all, kind)
    assert_count(result, frozen, where)
    assert model.decoder.weight is model.embedding.weight, Mistake(
        "ex11.tie_broken", "a tied weight replaced, so the modules no longer share it",
        f"on {where}, the decoder and the embedding no longer share their weight after unfreeze_all: a "
        "parameter was replaced. Switch the flag of the existing parameters in place."
    )


@pytest.mark.parametrize("kind", ["mlp-batchnorm-some-frozen", "all-frozen"])
def test_buffers_untouched(unfreeze_all, kind):
    model, before, _, _, where = unfrozen(unfreeze_all, kind)
    now = dict(model.named_buffers())
    for name, state in before.buffers.items():
        buf = state.obj
        assert now.get(name) is buf, Mistake(
            "ex11.buffer_replaced", "a buffer replaced",
            f"on {where}, buffer {name} was replaced by another tensor. Buffers are not parameters: leave them alone."
        )
        assert not buf.requires_grad, Mistake(
            "ex11.buffers_unfrozen", "buffers switched to requires_grad (state_dict or buffers() gone through)",
            f"on {where}, buffer {name} now requires grad. Buffers such as batch norm's running statistics are "
            "not parameters: the forward pass updates them, gradients never should. Switch tracking on for "
            "`model.parameters()` only, not for `model.buffers()` or every tensor of `model.state_dict()`."
        )
        assert torch.equal(buf, state.values), Mistake(
            "ex11.buffer_values_changed", "batch norm's running statistics changed (a forward pass or a reset)",
            f"on {where}, the values of buffer {name} changed during unfreeze_all: a forward pass or a reset "
            "changed batch norm's running statistics. Only switch flags: no forward pass, no reset."
        )
    assert_all_trainable(model, where, before)


@pytest.mark.parametrize("kind", ["mlp-batchnorm-some-frozen", "tied-lm-shared-weight-frozen"])
def test_parameters_stay_the_same_objects(unfreeze_all, kind):
    model, before, _, _, where = unfrozen(unfreeze_all, kind)
    replaced = before.replaced(model)
    assert not replaced, Mistake(
        "ex11.replaces_parameters", "parameters replaced by new objects",
        f"on {where}, parameter {', '.join(replaced[:3])} was replaced by a new object. The optimizer, the caller "
        "and other modules (tied weights) hold the original parameter. Switch its flag in place: "
        "`p.requires_grad_(True)`."
    )
    changed = before.moved(model)
    assert not changed, Mistake(
        "ex11.values_changed", "parameters' values changed",
        f"on {where}, the values of {', '.join(changed[:3])} changed. Unfreezing keeps a parameter's values: it "
        "only switches its requires_grad flag on."
    )
    assert_all_trainable(model, where, before)


@pytest.mark.parametrize("kind", ["mlp-batchnorm-some-frozen", "tied-lm-shared-weight-frozen",
                                  "eval-mode-some-frozen", "root-scalar-nested"])
def test_modes_and_grads_untouched(unfreeze_all, kind):
    model, before, _, _, where = unfrozen(unfreeze_all, kind)
    switched = before.switched(model)
    assert not switched, Mistake(
        "ex11.mode_changed", "switching the train/eval mode (trainable is not training mode)",
        f"on {where}, unfreeze_all switched the train/eval mode of {', '.join(switched[:3])}. Trainable "
        "(`requires_grad`) and training mode (`.train()`, `.eval()`, `module.training`) are different things: "
        "the caller chose the mode, and it stays as it is. Only switch the parameters' flags."
    )
    regraded = before.regraded(model)
    assert not regraded, Mistake(
        "ex11.grads_changed", "gradients changed or cleared",
        f"on {where}, the .grad of {regraded[0]} was changed or cleared by unfreeze_all. Unfreezing only switches "
        "flags: leave gradients as they are (clearing them is the optimizer's zero_grad(), the caller's job)."
    )
    assert_all_trainable(model, where, before)


# --------------------------------------------------------------------------- generated structures


GENERATED = MODEL_SPACE.only(layers=(2,), hook=("none",), dropout=(False,), dtype=(torch.float32,), ties=(False,),
                             outputs=("several",), batch=("several",))


@oracle
def reference_unfreeze_all(model):
    frozen = [p for p in model.parameters() if not p.requires_grad]
    for p in frozen:
        p.requires_grad_(True)
    return len(frozen)


def test_agrees_with_the_reference_on_generated_structures(unfreeze_all):
    compare(unfreeze_all, reference_unfreeze_all, GENERATED, lambda case: {"model": model_for(case)},
            fn_name="unfreeze_all", extra=1, known=[
                (lambda diff: "'s parameter" in diff.field and "requires_grad" in diff.field, NOT_UNFROZEN.reworded(
                    "Every parameter of the model must require grad after the call, whoever holds it (the model "
                    "itself, a layer nested deep, two layers sharing it): `p.requires_grad_(True)` for each p in "
                    "`model.parameters()`.")),
            ])
