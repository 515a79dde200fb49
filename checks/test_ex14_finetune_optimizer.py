"""Checks for ex14: finetune_optimizer(model, head, head_lr, body_lr) returns an Adam with the trainable
parameters inside submodule `head` (dot boundary) at head_lr, every other trainable parameter at body_lr,
frozen ones in no group, each parameter in exactly one group, no empty group. Groups are identified by
what they hold, never by their order."""

import pytest
import torch
from torch import nn

from checks.instruments import Mistake, oracle
from checks.structures import MODEL_SPACE, Seen, compare, model_for
from checks.support_ex14_finetune_optimizer import (CASES, Setup, assert_adam, assert_all_trainable_held,
                                                    assert_body_lr, assert_each_once,
                                                    assert_groups_not_empty_or_split, assert_head_lr,
                                                    assert_model_unchanged, assert_no_frozen, check_upto)


@pytest.fixture
def finetune_optimizer(learner):
    return learner


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize("case", CASES)
def test_returns_plain_adam(finetune_optimizer, case):
    check_upto(Setup(finetune_optimizer, case), assert_adam)


@pytest.mark.parametrize("case", CASES)
def test_frozen_parameters_are_in_no_group(finetune_optimizer, case):
    check_upto(Setup(finetune_optimizer, case), assert_no_frozen)


@pytest.mark.parametrize("case", CASES)
def test_each_parameter_is_held_once(finetune_optimizer, case):
    check_upto(Setup(finetune_optimizer, case), assert_each_once)


@pytest.mark.parametrize("case", CASES)
def test_every_trainable_parameter_is_held(finetune_optimizer, case):
    check_upto(Setup(finetune_optimizer, case), assert_all_trainable_held)


@pytest.mark.parametrize("case", CASES)
def test_head_parameters_train_at_head_lr(finetune_optimizer, case):
    check_upto(Setup(finetune_optimizer, case), assert_head_lr)


@pytest.mark.parametrize("case", CASES)
def test_other_parameters_train_at_body_lr(finetune_optimizer, case):
    check_upto(Setup(finetune_optimizer, case), assert_body_lr)


@pytest.mark.parametrize("case", CASES)
def test_one_group_per_learning_rate_none_empty(finetune_optimizer, case):
    check_upto(Setup(finetune_optimizer, case), assert_groups_not_empty_or_split)


@pytest.mark.parametrize("case", ["seq12-head-1", "head-and-head_norm", "head-all-frozen"])
def test_step_moves_each_parameter_at_its_lr(finetune_optimizer, case):
    s = Setup(finetune_optimizer, case)
    check_upto(s, assert_groups_not_empty_or_split)
    assert_model_unchanged(s)
    s.opt.step()
    for name, p in s.model.named_parameters():
        old, grad = s.before.params[name].values, s.before.params[name].grad
        if name not in s.trainable:
            assert torch.equal(p.detach(), old), Mistake(
                "ex14.frozen_move", "frozen parameters that move on step()",
                f"{s.words}, opt.step() moved the frozen parameter {name}: leave frozen parameters out of the groups."
            )
            continue
        lr = s.expected_lr(name)
        want = old - lr * grad / (grad.abs() + 1e-8)  # Adam's first step: m/sqrt(v) after bias correction
        assert torch.allclose(p.detach(), want, rtol=1e-5, atol=1e-7), Mistake(
            "ex14.wrong_step", "a step other than one Adam step per group",
            f"{s.words}, after one opt.step() parameter {name} is not where one Adam step at lr={lr:.3g} puts it: "
            "build `torch.optim.Adam` from the groups, each with only \"params\" and \"lr\"."
        )


@pytest.mark.parametrize("case", ["seq12-head-1", "head-and-head_norm", "only-head-trainable"])
def test_model_is_left_unchanged(finetune_optimizer, case):
    s = Setup(finetune_optimizer, case)
    assert_model_unchanged(s)
    assert not s.opt.state, Mistake(
        "ex14.steps_already", "the optimizer returned after a step",
        f"{s.words}, the returned optimizer has already taken a step (its state is not empty): return it "
        "without calling `step()`."
    )


# --------------------------------------------------------------------------- generated structures


GENERATED = MODEL_SPACE.only(layers=(2,), hook=("none",), dropout=(False,), norm=("none",), mode=("train",),
                             dtype=(torch.float32,), grads=(False,), ties=(False,), outputs=("several",),
                             batch=("several",), frozen=("none", "alternate"), head=("body", "first layer"))


@oracle
def reference_finetune_optimizer(model, head, head_lr, body_lr):
    head_params = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith(head + ".")]
    body_params = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(head + ".")]
    return torch.optim.Adam([{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr))
                             if ps])


def generated_call(case):
    model = model_for(case)
    first = next(n for n, m in model.named_modules() if isinstance(m, nn.Linear))
    return {"model": model, "head": "body" if case.head == "body" else first, "head_lr": 0.01, "body_lr": 0.001}


def groups_held(args, opt):
    """The groups as a difference can name them: each one's lr and parameters, in any order of the groups."""
    names = {id(p): n for n, p in args["model"].named_parameters()}
    groups = tuple(sorted((g["lr"], tuple(sorted(names.get(id(p), "a tensor not of the model") for p in g["params"])))
                          for g in getattr(opt, "param_groups", ())))
    yield Seen("the optimizer's groups (lr, parameters)", groups, lambda: repr(groups)[:300])


def test_agrees_with_the_reference_on_generated_structures(finetune_optimizer):
    compare(finetune_optimizer, reference_finetune_optimizer, GENERATED, generated_call,
            fn_name="finetune_optimizer", extra=1, probe=groups_held)
