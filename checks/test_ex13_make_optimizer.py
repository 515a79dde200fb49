"""Checks for ex13: make_optimizer(model, lr) returns an Adam over exactly the trainable parameters, each
once, at learning rate lr, and changes nothing in the model."""

import math

import pytest
import torch
from torch import nn

from checks.instruments import (
    Mistake,
    TinyLM,
    adam_settings_changed,
    changes,
    describe_args,
    explain_errors,
    listed,
    oracle,
    random_size,
    snapshot,
)
from checks.structures import MODEL_SPACE, Seen, compare, model_for

ERRORS = {
    r"optimizer got an empty parameter list": Mistake(
        "ex13.exhausted_generator", "a generator of parameters used up before Adam got it",
        "Adam received no parameter at all, although the model has trainable ones. If you built a generator "
        "(`(p for p in ...)`, `filter(...)`) and went through it once before (to count, print or check it), it "
        "was used up: the optimizer got what was left, nothing. Make a list instead: "
        "`[p for p in model.parameters() if p.requires_grad]`."
    ),
    r"can't optimize a non-leaf Tensor": Mistake(
        "ex13.non_leaf_copies", "tensors computed from the parameters given instead of the parameters",
        "The optimizer was given tensors computed from the parameters (copies with a history), not the model's "
        "parameters themselves. Hand over the parameter objects from `model.parameters()`."
    ),
    r"ordering of tensors in sets will change between runs": Mistake(
        "ex13.set_of_parameters", "a set of parameters given to the optimizer",
        "Adam refuses a set of parameters in a group: a set has an order of its own, which changes from one run to the next, "
        "and an optimizer's saved state is matched to its parameters by position. Keep the model's order with a "
        "list: `[p for p in model.parameters() if p.requires_grad]` (each tensor is in it once already)."
    ),
    r"optimizer can only optimize Tensors.*but one of the params is tuple|params argument given to the optimizer": Mistake(
        "ex13.named_pairs", "(name, parameter) pairs given to the optimizer",
        "The optimizer takes parameters (or groups of them), not (name, parameter) pairs: from "
        "`model.named_parameters()`, keep only the parameter of each pair."
    ),
}


@pytest.fixture
def make_optimizer(learner):
    return learner


# --------------------------------------------------------------------------- models



def _mlp():
    sizes = [random_size(2, 6) for _ in range(4)]
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2]), nn.Tanh(),
                          nn.Linear(sizes[2], sizes[3]))
    return model, torch.randn(5, sizes[0])


def _tied():
    vocab, dim = random_size(5, 9), random_size(2, 6)
    return TinyLM(vocab, dim), torch.randint(0, vocab, (7,))


def _bn():
    c = random_size(2, 6)
    model = nn.Sequential(nn.Linear(3, c), nn.BatchNorm1d(c), nn.ReLU(), nn.Linear(c, 2))
    model[1].eval()
    return model, torch.randn(6, 3)


class Scaled(nn.Module):
    """A model holding parameters of its own (a 0-dim scale and a bias, which no child holds) around nested
    layers."""

    def __init__(self, n_in: int, hidden: int):
        super().__init__()
        self.scale = nn.Parameter(torch.rand(()) + 0.5)
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.Sequential(nn.Tanh(), nn.Linear(hidden, 2)))
        self.shift = nn.Parameter(torch.randn(2))

    def forward(self, x):
        return self.body(x) * self.scale + self.shift


def _own():
    n_in = random_size(2, 6)
    return Scaled(n_in, random_size(2, 6)), torch.randn(5, n_in)


# id -> (the model in words, builder, which parameters get frozen after the backward)
CASES = {
    "mlp-first-layer-frozen": ("an MLP whose first Linear layer was frozen after a backward", _mlp,
                               lambda m: [m[0].weight, m[0].bias]),
    "tied-lm-shared-weight": ("a small language model whose decoder shares the embedding's weight (one tensor), "
                              "its body's bias frozen after a backward", _tied, lambda m: [m.body.bias]),
    "batchnorm-frozen": ("an MLP with a batch-norm layer (in eval mode) frozen after a backward", _bn,
                         lambda m: [m[1].weight, m[1].bias]),
    "all-trainable": ("an MLP with nothing frozen", _mlp, lambda m: []),
    "own-parameters-nested": ("a model with parameters of its own (a 0-dim scale and a shift) around nested "
                              "layers, the first Linear frozen after a backward", _own,
                              lambda m: [m.body[0].weight]),
}


def make_model(case):
    """A model with a .grad on every parameter, some parameters frozen afterwards (they keep that stale .grad),
    and a random learning rate."""
    words, make, frozen = CASES[case]
    model, x = make()
    model(x).pow(2).mean().backward()
    for p in frozen(model):
        p.requires_grad_(False)
    lr = float(10 ** torch.empty(()).uniform_(-3.5, -1.0))
    return model, lr, words


def call(make_optimizer, model, lr):
    with explain_errors("make_optimizer", ERRORS, called_with=describe_args(model=model, lr=lr)):
        return make_optimizer(model, lr)


def _names(model):
    return {id(p): name for name, p in model.named_parameters()}


def held(opt):
    """Every tensor the optimizer holds, in order, with repetitions."""
    return [p for group in opt.param_groups for p in group["params"]]


# ------------------------------------------------- properties that later checks assert first, with these messages


def assert_adam(opt):
    assert isinstance(opt, torch.optim.Optimizer), Mistake(
        "ex13.not_an_optimizer", "something else than an optimizer returned",
        f"make_optimizer returned {type(opt).__name__}, not an optimizer: build one and return it, "
        "`return torch.optim.Adam(...)`."
    )
    if isinstance(opt, torch.optim.AdamW) or any(g.get("decoupled_weight_decay") for g in opt.param_groups):
        raise AssertionError(Mistake(
            "ex13.adamw", "AdamW instead of Adam",
            "make_optimizer returned an AdamW: that is Adam with decoupled weight decay (0.01 by default), which "
            "shrinks every weight at each step. The task asks for plain `torch.optim.Adam`."
        ))
    assert isinstance(opt, torch.optim.Adam), Mistake(
        "ex13.other_optimizer", "another optimizer than Adam",
        f"make_optimizer returned a {type(opt).__name__}, but the task asks for `torch.optim.Adam`: a different "
        "optimizer follows a different update rule."
    )
    settings = adam_settings_changed(opt)
    assert not settings, Mistake(
        "ex13.settings_changed", "Adam's other settings changed from their defaults",
        f"the Adam returned by make_optimizer has settings changed from their defaults ({settings}): "
        "pass only the parameters and `lr=lr`."
    )


def assert_lr(opt, lr):
    for i, group in enumerate(opt.param_groups):
        got = group["lr"]
        if math.isclose(float(got), lr, rel_tol=1e-9):
            continue
        if group["params"] and not any(p.requires_grad for p in group["params"]):
            raise AssertionError(Mistake(
                "ex13.frozen_at_lr_zero", "frozen parameters kept in a group of their own",
                f"parameter group {i} of the optimizer holds only frozen parameters, at learning rate {got:.4g}. "
                "Don't keep frozen parameters in a group of their own: leave them out of the optimizer altogether "
                "(Adam would still keep state for them, and any change of that group's settings moves them)."
            ))
        if math.isclose(float(got), 1e-3):
            default = " That is Adam's default: pass `lr=lr`."
            known = Mistake("ex13.default_lr", "Adam's default learning rate instead of lr", "")
        else:
            default = ""
            known = Mistake("ex13.wrong_lr", "a learning rate other than lr", "")
        raise AssertionError(known.reworded(
            f"parameter group {i} of the optimizer has learning rate {got:.4g}, but make_optimizer was asked for "
            f"lr={lr:.4g}.{default} Every parameter must train at the learning rate given."
        ))


def assert_trainable_only(opt, model, words):
    names = _names(model)
    tensors = held(opt)
    for t in tensors:
        if id(t) not in names:
            raise AssertionError(Mistake(
                "ex13.copies", "copies of the parameters given to the optimizer",
                f"for {words}, the optimizer holds a tensor of shape {tuple(t.shape)} that is not one of the "
                "model's parameters (a copy such as `p.detach()` or `p.clone()`?): stepping it changes nothing in "
                "the model. Hand over the parameter objects themselves."
            ))
    frozen_held = sorted({names[id(t)] for t in tensors if not t.requires_grad})
    assert not frozen_held, Mistake(
        "ex13.frozen_included", "frozen parameters given to the optimizer",
        f"for {words}, the optimizer holds frozen parameters: {', '.join(frozen_held)}. The optimizer ignores "
        "`requires_grad`: a parameter frozen after a backward keeps its stale `.grad`, and every `step()` keeps "
        "moving it. Give Adam only the parameters with `p.requires_grad` True."
    )
    ids = {id(t) for t in tensors}
    missing = [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in ids]
    held_any = any(id(p) in ids for name, p in model.named_parameters() if "." in name)
    assert not (missing and held_any and all("." not in n for n in missing)), Mistake(
        "ex13.own_parameters_missing", "the model's own parameters left out (only its children gone through)",
        f"for {words}, trainable parameters are missing from the optimizer: {', '.join(missing)}, the ones the "
        "model holds itself, not through any child, while its children's parameters are there: "
        "`model.children()` (or a loop over submodules) never reaches them. `model.parameters()` gives every "
        "parameter, the model's own included."
    )
    assert not missing, Mistake(
        "ex13.trainable_missing", "trainable parameters left out of the optimizer",
        f"for {words}, trainable parameters are missing from the optimizer: {', '.join(missing)}. They would "
        "never be updated. Go through all of `model.parameters()` and keep every one with `requires_grad` True."
    )


def assert_each_once(opt, model, words):
    names = _names(model)
    counts = {}
    for t in held(opt):
        counts[id(t)] = counts.get(id(t), 0) + 1
    repeated = sorted(f"{names.get(i, '?')} ({n} times)" for i, n in counts.items() if n > 1)
    assert not repeated, Mistake(
        "ex13.duplicates", "a (tied) parameter given to the optimizer twice",
        f"for {words}, the optimizer holds a parameter more than once: {', '.join(repeated)}. A weight shared by "
        "two modules is one tensor; held twice, Adam updates it twice per step. `model.parameters()` gives each "
        "tensor once (`named_parameters(remove_duplicate=False)` does not)."
    )


def assert_model_order(opt, model, words):
    """The trainable parameters are held in the order model.parameters() gives them."""
    names = _names(model)
    want = [p for p in model.parameters() if p.requires_grad]
    got = held(opt)
    at = next((i for i, (a, b) in enumerate(zip(got, want)) if a is not b), None)
    assert at is None, Mistake(
        "ex13.order_changed", "the parameters handed over in another order than the model's",
        f"for {words}, the optimizer holds the trainable parameters in another order than `model.parameters()` "
        f"gives them: position {at} holds {names.get(id(got[at]), '?')}, where the model's order has "
        f"{names[id(want[at])]}. A saved optimizer state (`opt.state_dict()`) is matched to the parameters by "
        "position when it is loaded back, so another order puts a checkpoint's running averages on the wrong "
        "parameters. Possible causes: a `set` (its order changes from one run to the next), sorting, or "
        "collecting them in groups (weights first, then biases). Keep the model's order: "
        "`[p for p in model.parameters() if p.requires_grad]`."
    )


def assert_unchanged(before, model, words):
    """The model is as it was before make_optimizer: modes, flags, grads, objects, values."""
    found = changes(before, model)
    assert not found, Mistake(
        "ex13.model_changed", "the model changed (zero_grad, modes, flags)",
        f"for {words}, make_optimizer changed the model: {listed(found)}. Building an optimizer reads the "
        "parameters' flags; it must not change them, the modes, or the gradients (don't call `zero_grad()` or "
        "`model.train()` here: the caller decides when)."
    )
    moved = before.moved(model, buffers=True)
    assert not moved, Mistake(
        "ex13.values_changed", "parameters' values changed (a step taken)",
        f"for {words}, make_optimizer changed the values of {moved[0]}: build the optimizer and return it, "
        "without calling `step()`."
    )


def build(make_optimizer, case):
    """A case's model, what it was, its learning rate and words, and the Adam make_optimizer built for it."""
    model, lr, words = make_model(case)
    before = snapshot(model)
    opt = call(make_optimizer, model, lr)
    assert_adam(opt)
    return model, before, lr, words, opt


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("case", CASES)
def test_returns_plain_adam(make_optimizer, case):
    build(make_optimizer, case)


@pytest.mark.parametrize("case", CASES)
def test_learning_rate_is_lr(make_optimizer, case):
    _, _, lr, _, opt = build(make_optimizer, case)
    assert_lr(opt, lr)


@pytest.mark.parametrize("case", CASES)
def test_holds_exactly_the_trainable_parameters(make_optimizer, case):
    model, _, _, words, opt = build(make_optimizer, case)
    assert_trainable_only(opt, model, words)


@pytest.mark.parametrize("case", ["tied-lm-shared-weight", "mlp-first-layer-frozen", "all-trainable"])
def test_each_parameter_is_held_once(make_optimizer, case):
    model, _, _, words, opt = build(make_optimizer, case)
    assert_each_once(opt, model, words)


@pytest.mark.parametrize("case", ["mlp-first-layer-frozen", "tied-lm-shared-weight", "all-trainable",
                                  "own-parameters-nested"])
def test_parameters_in_the_models_order(make_optimizer, case):
    model, _, _, words, opt = build(make_optimizer, case)
    assert_trainable_only(opt, model, words)
    assert_each_once(opt, model, words)
    assert_model_order(opt, model, words)


@pytest.mark.parametrize("case", [c for c in CASES if c != "all-trainable"])
def test_frozen_parameters_do_not_move(make_optimizer, case):
    model, before, _, words, opt = build(make_optimizer, case)
    opt.step()
    moved = [name for name in before.moved(model) if not before.params[name].requires_grad]
    assert not moved, Mistake(
        "ex13.frozen_move", "frozen parameters that still move on step()",
        f"for {words}, opt.step() moved frozen parameters: {', '.join(moved)}. They still hold the `.grad` of the "
        "backward before they were frozen, and an optimizer that holds them uses it at every step, whatever "
        "`requires_grad` says. Give Adam only the parameters with `p.requires_grad` True."
    )


@pytest.mark.parametrize("case", CASES)
def test_step_is_one_adam_step_at_lr(make_optimizer, case):
    model, before, lr, words, opt = build(make_optimizer, case)
    assert_lr(opt, lr)
    assert_trainable_only(opt, model, words)
    assert_each_once(opt, model, words)
    assert_unchanged(before, model, words)
    opt.step()
    for name, old in before.params.items():
        if not old.requires_grad:
            continue
        want = old.values - lr * old.grad / (old.grad.abs() + 1e-8)  # Adam's first step: m/sqrt(v), bias-corrected
        assert torch.allclose(old.obj.detach(), want, rtol=1e-5, atol=1e-7), Mistake(
            "ex13.wrong_step", "a step other than one Adam step at lr",
            f"for {words}, after one opt.step() parameter {name} is not where one Adam step at lr={lr:.4g} puts it "
            "(`p - lr * g / (|g| + eps)` for a first step): the optimizer was not created as "
            "`torch.optim.Adam(trainable_parameters, lr=lr)` with its other settings at their defaults."
        )


@pytest.mark.parametrize("case", CASES)
def test_model_is_left_unchanged(make_optimizer, case):
    model, before, _, words, opt = build(make_optimizer, case)
    assert_unchanged(before, model, words)
    assert not opt.state, Mistake(
        "ex13.steps_already", "the optimizer returned after a step",
        f"for {words}, the returned optimizer has already taken a step (its state is not empty): return it "
        "without calling `step()`; the training loop does that."
    )


# --------------------------------------------------------------------------- generated structures


GENERATED = MODEL_SPACE.only(layers=(2,), hook=("none",), dropout=(False,), mode=("train",), dtype=(torch.float32,),
                             ties=(False,), outputs=("several",), batch=("several",), frozen=("none", "alternate"))


@oracle
def reference_make_optimizer(model, lr):
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)


def held_in_order(args, opt):
    """What the optimizer holds, in words a difference can name: each group's lr and parameters, in order."""
    names = {id(p): n for n, p in args["model"].named_parameters()}
    groups = tuple((g["lr"], tuple(names.get(id(p), "a tensor not of the model") for p in g["params"]))
                   for g in getattr(opt, "param_groups", ()))
    yield Seen("the optimizer's groups (lr, parameters in order)", groups, lambda: repr(groups)[:300])
    settings = adam_settings_changed(opt) if isinstance(opt, torch.optim.Adam) else ""
    yield Seen("the optimizer's other settings", settings, settings or "Adam's defaults")


def test_agrees_with_the_reference_on_generated_structures(make_optimizer):
    compare(make_optimizer, reference_make_optimizer, GENERATED, lambda case: {"model": model_for(case), "lr": 0.01},
            fn_name="make_optimizer", extra=1, probe=held_in_order)
