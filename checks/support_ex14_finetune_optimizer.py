"""The models and cases of ex14's checks, the helper that calls `finetune_optimizer`, and the properties of
the optimizer it returned that the checks assert in a chain, each with the message that says what is wrong
(checks/test_ex14_finetune_optimizer.py holds the checks)."""

from __future__ import annotations

import math

import torch
from torch import nn

from checks.instruments import (Mistake, adam_settings_changed, as_mistake, changes, describe_args, explain_errors,
                                listed, snapshot)

ERRORS = {
    r"some parameters appear in more than one parameter group": Mistake(
        "ex14.in_both_groups", "the body made of every trainable parameter, so some are in both groups",
        "Adam refused because a parameter is in both groups. The body is every trainable parameter that is NOT "
        "inside the head, not every trainable parameter: decide for each parameter which one group it goes to."
    ),
    r"optimizer got an empty parameter list": Mistake(
        "ex14.exhausted_generator", "a generator of parameters used up before Adam got it",
        "Adam received no parameter at all, although the model has trainable ones. A generator (`(p for ...)`, "
        "`filter(...)`, `model.parameters()`) can be gone through only once: if you used it before (to split, "
        "count or check it), it was empty by then. Make lists."
    ),
    r"can't optimize a non-leaf Tensor": Mistake(
        "ex14.non_leaf_copies", "tensors computed from the parameters given instead of the parameters",
        "The optimizer was given tensors computed from the parameters, not the model's parameters themselves: "
        "put the parameter objects from `model.named_parameters()` in the groups."
    ),
    r"optimizer can only optimize Tensors.*but one of the params is tuple": Mistake(
        "ex14.named_pairs", "(name, parameter) pairs put in a group",
        "A group's \"params\" must hold parameters, not (name, parameter) pairs from `named_parameters()`: keep "
        "only the parameter of each pair."
    ),
    r"object has no attribute '[^']*\.[^']*'|'str' object cannot be interpreted as an integer"
    r"|'(?!generator'|NoneType'|int'|float'|bool'|method'|builtin_function_or_method')\w+' object "
    r"is not subscriptable": Mistake(
        "ex14.getattr_dotted_head", "the head looked up with getattr or indexing, which do not follow dots",
        "A head name can have dots: 'blocks.1' is child 1 of `model.blocks`. `getattr(model, 'blocks.1')` looks for "
        "ONE attribute whose name contains a dot, which no module has, and `model[head]` indexes by position "
        "(where a model can be indexed at all). `model.get_submodule(head)` follows the dots; or go through "
        "`model.named_parameters()` and put a parameter in the head when its name starts with `head + '.'`."
    ),
}

WIDTH = 3


# --------------------------------------------------------------------------- models


def _seq12():
    return nn.Sequential(*[nn.Linear(WIDTH, WIDTH) for _ in range(12)])


class Classifier(nn.Module):
    """body (with one layer used twice), head, and head_norm: a name that starts with "head" but is not in it;
    and a 0-dim temperature of the model's own, which no submodule holds (so it is the body's)."""

    def __init__(self):
        super().__init__()
        shared = nn.Linear(WIDTH, WIDTH)
        self.body = nn.Sequential(nn.Linear(WIDTH, WIDTH), nn.Tanh(), shared, nn.Tanh(), shared)
        self.head_norm = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, 2)
        self.temperature = nn.Parameter(torch.rand(()) + 0.5)

    def forward(self, x):
        return self.head(self.head_norm(self.body(x))) / self.temperature


class Blocks(nn.Module):
    """blocks.0 ... blocks.11, the head being blocks.1, then out."""

    def __init__(self):
        super().__init__()
        self.blocks = _seq12()
        self.out = nn.Linear(WIDTH, 1)

    def forward(self, x):
        return self.out(self.blocks(x))


def _freeze_some(names):
    return lambda name: name in names or torch.rand(()) < 0.15


# id -> (the model in words, builder, head, which parameters to freeze (by name) after a backward)
CASES = {
    "seq12-head-1": ("an nn.Sequential of 12 Linear layers (children 0 to 11), head '1'", _seq12, "1",
                     _freeze_some({"0.bias", "11.weight"})),
    "head-and-head_norm": ("a model with submodules body (one Linear used twice), head_norm and head and a 0-dim "
                           "temperature of its own, head 'head'",
                           Classifier, "head", _freeze_some({"body.0.weight"})),
    "dotted-head-blocks.1": ("a model with blocks.0 to blocks.11 and out, head 'blocks.1'", Blocks, "blocks.1",
                             _freeze_some({"out.bias"})),
    "head-all-frozen": ("an nn.Sequential of 12 Linear layers, head '1', every parameter of layer 1 frozen",
                        _seq12, "1", lambda name: name.startswith("1.")),
    "only-head-trainable": ("a model with blocks.0 to blocks.11 and out, head 'blocks.1', everything outside "
                            "the head frozen", Blocks, "blocks.1",
                            lambda name: not name.startswith("blocks.1.")),
}


def make_model(case):
    """A model with a .grad on every parameter, some parameters frozen after the backward (they keep that stale
    .grad), and two different random learning rates."""
    words, build, head, frozen = CASES[case]
    model = build()
    model(torch.randn(4, WIDTH)).pow(2).mean().backward()
    for name, p in model.named_parameters():
        if frozen(name):
            p.requires_grad_(False)
    head_lr = float(10 ** torch.empty(()).uniform_(-2.5, -1.5))
    body_lr = head_lr * float(torch.empty(()).uniform_(0.02, 0.3))
    return model, head, head_lr, body_lr, words


def call(finetune_optimizer, model, head, head_lr, body_lr):
    arguments = describe_args(model=model, head=head, head_lr=head_lr, body_lr=body_lr)
    with explain_errors("finetune_optimizer", ERRORS, called_with=arguments):
        return finetune_optimizer(model, head, head_lr, body_lr)


def in_head(name, head):
    """Inside submodule `head` (every case's head names a submodule, never a parameter: the contract's reading)."""
    return name.startswith(head + ".")


class Setup:
    """The model, the arguments, and the optimizer the learner built."""

    def __init__(self, finetune_optimizer, case):
        self.model, self.head, self.head_lr, self.body_lr, words = make_model(case)
        self.words = f"for {words} (head_lr={self.head_lr:.3g}, body_lr={self.body_lr:.3g})"
        self.names = {id(p): name for name, p in self.model.named_parameters()}
        self.trainable = {name: p for name, p in self.model.named_parameters() if p.requires_grad}
        self.before = snapshot(self.model)
        self.opt = call(finetune_optimizer, self.model, self.head, self.head_lr, self.body_lr)

    def expected_lr(self, name):
        return self.head_lr if in_head(name, self.head) else self.body_lr

    def where(self):
        """name -> list of the lrs of the groups holding it (one entry per time it is held)."""
        found = {}
        for group in self.opt.param_groups:
            for p in group["params"]:
                found.setdefault(self.names.get(id(p)), []).append(group["lr"])
        return found


# ------------------------------------------------- properties that later checks assert first, with these messages


def assert_adam(s):
    opt = s.opt
    assert isinstance(opt, torch.optim.Optimizer), Mistake(
        "ex14.not_an_optimizer", "something else than an optimizer returned",
        f"finetune_optimizer returned {type(opt).__name__}, not an optimizer: build one from the two parameter "
        "groups and return it."
    )
    assert isinstance(opt, torch.optim.Adam) and not isinstance(opt, torch.optim.AdamW), Mistake(
        "ex14.other_optimizer", "another optimizer than plain Adam",
        f"finetune_optimizer returned a {type(opt).__name__}, but the task asks for plain `torch.optim.Adam`."
    )
    settings = adam_settings_changed(opt)
    assert not settings, Mistake(
        "ex14.settings_changed", "Adam's other settings changed from their defaults",
        f"a group of the returned Adam has settings changed from their defaults ({settings}): "
        "give each group only its \"params\" and its \"lr\"."
    )


def assert_model_parameters_only(s):
    for group in s.opt.param_groups:
        for t in group["params"]:
            assert id(t) in s.names, Mistake(
                "ex14.copies", "copies of the parameters put in the groups",
                f"{s.words}, the optimizer holds a tensor of shape {tuple(t.shape)} that is not one of the model's "
                "parameters (a copy?): stepping it changes nothing in the model. Put the parameter objects "
                "themselves in the groups."
            )


def assert_no_frozen(s):
    frozen = sorted({name for name in s.where() if name not in s.trainable})
    assert not frozen, Mistake(
        "ex14.frozen_included", "frozen parameters put in the groups",
        f"{s.words}, frozen parameters are in the optimizer's groups: {', '.join(frozen)}. The optimizer ignores "
        "`requires_grad`: a parameter frozen after a backward keeps its stale `.grad`, and every `step()` keeps "
        "moving it. Skip parameters whose `requires_grad` is False."
    )


def assert_each_once(s):
    repeated = sorted(f"{name} ({len(lrs)} times)" for name, lrs in s.where().items() if len(lrs) > 1)
    assert not repeated, Mistake(
        "ex14.duplicates", "a parameter put in the groups more than once",
        f"{s.words}, the optimizer holds a parameter more than once: {', '.join(repeated)}. Each parameter goes in "
        "exactly one group, once; a weight shared by two modules is one tensor (`named_parameters()` gives it "
        "once)."
    )


def assert_all_trainable_held(s):
    where = s.where()
    missing = [name for name in s.trainable if name not in where]
    assert not (missing and all("." not in n for n in missing) and any("." in n for n in where)), Mistake(
        "ex14.own_parameters_missing", "the model's own parameters left out (only its submodules gone through)",
        f"{s.words}, trainable parameters are in no group: {', '.join(missing)}, the ones the model holds itself, "
        "not through any submodule, while the submodules' parameters are there: a loop over `model.children()` "
        "(or over submodules) never reaches them. They are outside the head, so they belong to the body: go "
        "through `model.named_parameters()`, which gives every parameter, the model's own included."
    )
    assert not missing, Mistake(
        "ex14.trainable_missing", "trainable parameters left out of every group",
        f"{s.words}, trainable parameters are in no group: {', '.join(missing)}. They would never be updated: "
        "every trainable parameter goes either in the head's group or in the body's."
    )


def _lr_advice(s, got):
    """Why a group trains at `got`, where known: a `Mistake` (reported as that mistake), or ""."""
    if math.isclose(got, 1e-3, rel_tol=1e-9):
        return Mistake("ex14.default_lr", "a group given no \"lr\", so it trains at Adam's default",
                       " (0.001 is Adam's default: that group was given no \"lr\")")
    return ""


def assert_swapped(s):
    where = s.where()
    head_names = [n for n in s.trainable if in_head(n, s.head)]
    body_names = [n for n in s.trainable if not in_head(n, s.head)]
    if not head_names or not body_names:
        return
    swapped = all(math.isclose(where[n][0], s.body_lr) for n in head_names) and \
        all(math.isclose(where[n][0], s.head_lr) for n in body_names)
    assert not swapped, Mistake(
        "ex14.swapped_lrs", "head_lr and body_lr swapped",
        f"{s.words}, the learning rates are swapped: the head's parameters train at body_lr and the others at "
        "head_lr. The group of the head's parameters gets `\"lr\": head_lr`."
    )


def assert_head_lr(s):
    assert_swapped(s)
    where = s.where()
    for name in s.trainable:
        if not in_head(name, s.head):
            continue
        got = where[name][0]
        if math.isclose(got, s.head_lr, rel_tol=1e-9):
            continue
        if math.isclose(got, s.body_lr, rel_tol=1e-9):
            raise AssertionError(Mistake(
                "ex14.head_at_body_lr", "head parameters at body_lr (the head name compared only by its first part)",
                f"{s.words}, parameter {name} is inside submodule '{s.head}' (the head) but trains at body_lr. "
                f"Either your test of \"inside the head\" missed it: a name is inside the head when it starts "
                f"with '{s.head}.' (the whole head name, dots included, then a dot), which comparing only the first "
                "part of the name misses; or the head's group was given body_lr."
            ))
        advice = _lr_advice(s, got)
        raise AssertionError(as_mistake(advice, Mistake(
            "ex14.head_lr_wrong", "the head's group at a learning rate other than head_lr",
            f"{s.words}, parameter {name} is inside submodule '{s.head}' (the head) but trains at lr={got:.3g}"
            f"{advice} instead of head_lr: give the head's group `\"lr\": head_lr`."
        )))


def assert_body_lr(s):
    assert_swapped(s)
    where = s.where()
    for name in s.trainable:
        if in_head(name, s.head):
            continue
        got = where[name][0]
        if math.isclose(got, s.body_lr, rel_tol=1e-9):
            continue
        if name.startswith(s.head):
            raise AssertionError(Mistake(
                "ex14.startswith_without_dot", "name.startswith(head) without the dot boundary",
                f"{s.words}, parameter {name} was put with the head (lr={got:.3g}), but it is not inside submodule "
                f"'{s.head}': its name starts with the text '{s.head}' without the dot. `name.startswith(head)` "
                f"also matches '{s.head}0...' and '{s.head}_...'. A name is inside the head when it starts with "
                "`head + \".\"`."
            ))
        advice = _lr_advice(s, got)
        raise AssertionError(as_mistake(advice, Mistake(
            "ex14.body_lr_wrong", "the body's group at a learning rate other than body_lr",
            f"{s.words}, parameter {name} is outside the head but trains at lr={got:.3g}{advice} "
            "instead of body_lr: every trainable parameter outside the head goes in the body's group."
        )))


def assert_groups_not_empty_or_split(s):
    expected = sum(1 for flag in (True, False) if any(in_head(n, s.head) == flag for n in s.trainable))
    groups = s.opt.param_groups
    empty = [i for i, g in enumerate(groups) if not g["params"]]
    assert not empty, Mistake(
        "ex14.empty_group_kept", "an empty group kept",
        f"{s.words}, the optimizer has {len(groups)} groups, and group {empty[0]} (lr={groups[empty[0]]['lr']:.3g}) "
        "is empty: it trains nothing. A group that would be empty (the whole head frozen, or nothing trainable "
        "outside the head) is left out: add a group only when its list of parameters is not empty."
    )
    assert len(groups) == expected, Mistake(
        "ex14.groups_split", "parameters split over more groups than one per learning rate",
        f"{s.words}, the optimizer has {len(groups)} groups, but {expected} are expected: one for the head's "
        "trainable parameters and one for all the other trainable ones (only those that are not empty). Put "
        "all the head's parameters in one group and all the others in one more."
    )


def assert_model_unchanged(s):
    found = changes(s.before, s.model)
    assert not found, Mistake(
        "ex14.model_changed", "the model changed (flags, zero_grad, modes)",
        f"{s.words}, finetune_optimizer changed the model: {listed(found)}. Building the optimizer reads the "
        "parameters' flags: don't change them, the modes or the gradients (no `requires_grad_`, `zero_grad()` or "
        "`model.train()` here)."
    )
    moved = s.before.moved(s.model)
    assert not moved, Mistake(
        "ex14.values_changed", "parameters' values changed (a step taken)",
        f"{s.words}, finetune_optimizer changed the values of {moved[0]}: build the optimizer and return it, "
        "without calling `step()`."
    )


CHAIN = [assert_adam, assert_model_parameters_only, assert_no_frozen, assert_each_once, assert_all_trainable_held,
         assert_head_lr, assert_body_lr, assert_groups_not_empty_or_split]


def check_upto(s, last):
    for step in CHAIN[: CHAIN.index(last) + 1]:
        step(s)
