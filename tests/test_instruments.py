"""The shared instruments of the checks that say what a learner's function changed: `snapshot` of a
module, a tensor or a list of tensors, `changes` / `what_changed` in words, the assertions built on
them, and `head`, the values shown in a message."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from checks.instruments import (
    FailsOnPurpose,
    Mistake,
    RaisedByTheCheck,
    TinyLM,
    adam_settings_changed,
    assert_left_alone,
    assert_restored_when_it_raises,
    changes,
    head,
    parameter_slots,
    snapshot,
    unique_parameters,
    what_changed,
)

CHANGED = Mistake("ex02.model_mode_changed", "a title", "it changed: {changes}.")


def model():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    net(torch.randn(5, 3)).sum().backward()
    return net


def test_head_shows_the_first_values_of_a_tensor_an_array_or_a_list():
    assert head(torch.tensor([[0.123456, -2.0], [3.0, 4.0]]), n=3) == "[0.12346, -2.0, 3.0]..."
    assert head(torch.tensor(1.5, requires_grad=True)) == "[1.5]"
    assert head(np.array([True, False])) == "[True, False]"
    assert head(np.array([[1, 2], [3, 4]]), n=4) == "[1, 2, 3, 4]"
    assert head([0.123456, 2], digits=2) == "[0.12, 2.0]"


def test_a_module_snapshot_says_what_changed_by_kind():
    net = model()
    before = snapshot(net)
    assert changes(before, net) == [] and what_changed(net, lambda: None, "modes flags grads buffers") == []
    net[1].eval()
    net[0].weight.requires_grad_(False)
    net[2].bias = nn.Parameter(net[2].bias.detach().clone())
    net[2].weight.grad = None
    with torch.no_grad():
        net[1].running_mean.add_(1)
        net[0].bias.add_(1)
    assert changes(before, net, "modes") == ["module 1 was in train mode and is now in eval mode"]
    assert changes(before, net, "flags") == [
        "parameter 0.weight had requires_grad=True and now has requires_grad=False",
        "parameter 2.bias was replaced by a different object",
    ]
    assert changes(before, net, "grads") == ["parameter 2.weight's .grad was changed",
                                             "parameter 2.bias's .grad was changed"]
    assert changes(before, net, "buffers") == ["buffer 1.running_mean was changed"]
    assert before.replaced(net) == ["2.bias"] and before.moved(net) == ["0.bias"]
    assert before.moved(net, buffers=True) == ["0.bias", "1.running_mean"]
    assert before.regraded(net) == ["2.weight", "2.bias"] and before.switched(net) == ["1"]
    with pytest.raises(ValueError, match="values"):
        changes(before, net, "values")


def test_changes_of_named_modules_say_whose_they_are():
    first, second = model(), model()
    found = what_changed({"first": first, "second": second}, lambda: second.eval(), "modes")
    assert found[0] == "second: module (the model) was in train mode and is now in eval mode" and len(found) == 4


def test_a_tied_parameter_is_recorded_under_each_name_and_counted_once():
    lm = TinyLM(5, 3)
    before = snapshot(lm)
    assert before.params["decoder.weight"].obj is before.params["embedding.weight"].obj
    assert len(unique_parameters(lm)) == len(parameter_slots(lm)) - 1


def test_a_tensor_snapshot_keeps_values_flags_history_gradient_version_and_memory():
    leaf = torch.randn(3, requires_grad=True)
    t = leaf * 2
    before = snapshot(t)
    assert not before.is_leaf and before.grad is None and before.version == t._version
    assert before.storage == t.untyped_storage().data_ptr() and torch.equal(before.values, t.detach())
    t.detach_()
    assert before.changes(t) == [
        "t.requires_grad was True and is now False",
        f"t.grad_fn was <{type(before.grad_fn).__name__}> and is now None",
        "t.is_leaf was False and is now True",
    ]
    assert before.changes(t, "requires_grad", name="x") == ["x.requires_grad was True and is now False"]
    params = [torch.randn(2, requires_grad=True)]
    assert [s.obj for s in snapshot(params)] == params


def test_assert_left_alone_fills_the_mistake_in():
    net = model()
    assert_left_alone(net, lambda: None, "modes", CHANGED)
    with pytest.raises(AssertionError) as caught:
        assert_left_alone(net, net.eval, "modes", CHANGED)
    assert str(caught.value.args[0]).startswith("it changed: module (the model) was in train mode and is now in eval")
    assert caught.value.args[0].mistake_id == "ex02.model_mode_changed"


GRAD_MODE = Mistake("ex02.grad_mode_not_restored_on_error", "a title", "grad mode left off")


def test_state_after_a_raise_is_checked_and_grad_mode_switched_back_on():
    module = FailsOnPurpose(2, 2)
    x = torch.randn(1, 2)
    assert_restored_when_it_raises(module, lambda: module(x), grad_mode=GRAD_MODE, changed=CHANGED)

    def leaves_it_off():
        torch.set_grad_enabled(False)
        module(x)

    with pytest.raises(AssertionError, match="grad mode left off"):
        assert_restored_when_it_raises(module, leaves_it_off, grad_mode=GRAD_MODE, changed=CHANGED)
    assert torch.is_grad_enabled()

    def freezes():
        module.requires_grad_(False)
        raise RaisedByTheCheck("on purpose")

    with pytest.raises(AssertionError, match="it changed: parameter linear.weight had requires_grad=True"):
        assert_restored_when_it_raises(module, freezes, grad_mode=GRAD_MODE, changed=CHANGED)


def test_adam_settings_other_than_lr_are_named_when_not_the_defaults():
    params = [nn.Parameter(torch.randn(2))]
    assert adam_settings_changed(torch.optim.Adam(params, lr=0.1)) == ""
    assert adam_settings_changed(torch.optim.Adam(params, weight_decay=0.01)) == \
        "weight_decay=0.01, betas=(0.9, 0.999), amsgrad=False"
