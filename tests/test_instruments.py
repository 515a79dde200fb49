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


# ------------------------------------------------------------------ generated structures, the differential check

from checks.instruments import mistake_of  # noqa: E402
from checks.structures import (  # noqa: E402
    DIFFERS,
    MODEL_SPACE,
    TENSOR_SPACE,
    Case,
    Space,
    batch_for,
    compare,
    field_is,
    preparing,
    model_for,
    tensor_for,
)


def raised(block) -> AssertionError:
    with pytest.raises(AssertionError) as info:
        block()
    return info.value


def _predict_reference(model, x):
    with torch.no_grad():
        return model(x)


PREDICT_SPACE = MODEL_SPACE.only(layers=(1, 2), hook=("none", "model"), norm=("none", "batchnorm"),
                                 mode=("train", "eval"), tied=(False, True), root_param=(False, True))


def _predict_input(case):
    return {"model": model_for(case), "x": torch.randn(batch_for(case), 4, dtype=case.dtype)}


def _differential_failure(fn, **options) -> AssertionError:
    return raised(lambda: compare(fn, _predict_reference, PREDICT_SPACE, _predict_input, fn_name="predict",
                                  seed=0, **options))


def test_cases_are_seeded_few_cases_that_hold_every_choice_then_mixes():
    space = Space(a=(0, 1, 2), b=(False, True), c=("x", "y"), apart=[("a", "c")], width=2)
    cases = space.cases(seed=1, extra=2)
    assert Case([("a", 0), ("b", False), ("c", "x")]) not in cases  # the simplest: held by every case
    held = {(name, value) for case in cases for name, value in case.items()}
    assert held == {(name, choice) for name, choices in space.dims.items() for choice in choices}
    covering = cases[:3]  # a=1 with b, a=2, then c: never a and c mixed, never more than two structures
    assert covering == [Case([("a", 1), ("b", True), ("c", "x")]), Case([("a", 2), ("b", False), ("c", "x")]),
                        Case([("a", 0), ("b", False), ("c", "y")])]
    assert cases == space.cases(seed=1, extra=2) and len(set(cases)) == len(cases) <= 6
    assert space.alone(covering[0]) == [Case([("a", 1), ("b", False), ("c", "x")]),
                                        Case([("a", 0), ("b", True), ("c", "x")])]
    assert space.alone(covering[1]) == []  # one structure: nothing smaller to start from
    assert list(space.simpler(Case([("a", 2), ("b", True), ("c", "x")]))) == [
        Case([("a", 0), ("b", True), ("c", "x")]), Case([("a", 1), ("b", True), ("c", "x")]),
        Case([("a", 2), ("b", False), ("c", "x")])]
    assert all(TENSOR_SPACE.valid(c) for c in TENSOR_SPACE.cases(0))


def test_a_choice_valid_only_beside_another_structure_is_still_tried():
    space = Space(valid=lambda c: not (c.norm and c.mode == "train"), norm=(False, True), mode=("train", "eval"),
                  apart=[("norm", "mode")])
    assert Case([("norm", True), ("mode", "eval")]) in space.cases(seed=0, extra=0)


def test_generated_models_and_tensors_have_the_structure_their_case_names():
    case = MODEL_SPACE.simplest().replace(hook="model", root_param=True, scalar_param=True, nesting=3,
                                          norm="batchnorm", tied=True, frozen="first-layer", grads=True)
    model = model_for(case)
    names = [n for n, _ in model.named_parameters(remove_duplicate=False)]
    assert "scale" in names and "temperature" in names and model.temperature.dim() == 0
    assert any(n.startswith("body.inner.inner.") for n in names) and model._forward_hooks
    assert len(names) == len(list(model.parameters())) + 1  # a tied weight: two names, one tensor
    assert any(not p.requires_grad for p in model.parameters()) and any(p.grad is not None for p in model.parameters())
    assert dict(model.named_buffers())  # batch norm's running statistics
    t = tensor_for(TENSOR_SPACE.simplest().replace(layout="transposed", device="simulated-gpu",
                                                   history="leaf-requires-grad", grad=True))
    assert not t.is_contiguous() and t.is_cuda and t.is_leaf and t.requires_grad and t.grad is not None
    assert tensor_for(TENSOR_SPACE.simplest().replace(shape=())).dim() == 0
    assert tensor_for(TENSOR_SPACE.simplest().replace(history="computed")).grad_fn is not None
    assert "forward hook" in PREDICT_SPACE.describe(case) and "0-d parameter" in PREDICT_SPACE.describe(case)


def test_the_reference_against_itself_shows_no_difference_and_leaves_grad_mode_alone():
    compare(_predict_reference, _predict_reference, PREDICT_SPACE, _predict_input, fn_name="predict", seed=3)
    assert torch.is_grad_enabled()


def test_the_references_side_prepared_once_is_what_later_checks_compare_with():
    calls = []

    def counted(model, x):
        calls.append(1)
        return _predict_reference(model, x)

    with preparing():  # the learner's function is never called here
        compare(lambda *_: pytest.fail("called while preparing"), counted, PREDICT_SPACE, _predict_input,
                fn_name="predict", seed=11)
    tried = len(calls)
    assert tried == len(PREDICT_SPACE.cases(11, 1))
    compare(_predict_reference, counted, PREDICT_SPACE, _predict_input, fn_name="predict", seed=11)
    assert len(calls) == tried  # every case's reference side came from what was prepared
    compare(_predict_reference, counted, PREDICT_SPACE, _predict_input, fn_name="predict", seed=12)
    assert len(calls) > tried  # nothing prepared for that seed: the reference ran


def test_a_difference_is_shown_on_the_smallest_input_with_the_field_and_both_values():
    def skips_hooks(model, x):
        with torch.no_grad():
            return model.forward(x)

    message = str(_differential_failure(skips_hooks).args[0])
    assert message.startswith("On a 1-layer model with a forward hook on the model (it adds 0, 1, 2, ... to the output's columns) "
                              "(the smallest generated input that shows it), the result's values differs: ")
    assert "the reference gives [" in message and "predict gives [" in message
    assert mistake_of(_differential_failure(skips_hooks)).mistake_id == DIFFERS.mistake_id


def test_a_known_mistake_explains_a_difference_only_where_it_matches():
    hooks = Mistake("ex02.output_reshaped", "a title", "Call the model, not its forward.")
    modes = (field_is("the mode of"), Mistake("ex02.model_mode_changed", "a title", "Leave the mode alone."))

    def skips_hooks(model, x):
        with torch.no_grad():
            return model.forward(x)

    def switches_mode(model, x):
        model.eval()
        return _predict_reference(model, x)

    exc = _differential_failure(skips_hooks, known=[modes, (field_is("values"), hooks)])
    assert mistake_of(exc).mistake_id == "ex02.output_reshaped" and str(exc).endswith("Call the model, not its forward.")
    exc = _differential_failure(switches_mode, known=[modes])
    assert mistake_of(exc).mistake_id == "ex02.model_mode_changed"
    assert "the mode of model after the call differs: the reference gives train, predict gives eval" in str(exc)
    assert mistake_of(_differential_failure(switches_mode, known=[(field_is("values"), hooks)])) .mistake_id == \
        DIFFERS.mistake_id


def test_an_exception_is_reported_on_the_smallest_input_that_raises_it_with_advice():
    def fails_on_tied_weights(model, x):
        if len(list(model.parameters())) != len(list(model.named_parameters(remove_duplicate=False))):
            raise ValueError("two names for one weight")
        return _predict_reference(model, x)

    message = str(_differential_failure(fails_on_tied_weights).args[0])
    assert message.startswith("On a 1-layer model with tied weights (one weight held by two layers) (the smallest")
    assert "predict raised ValueError: two names for one weight" in message and "called with model = " in message


def test_in_place_changes_grad_identity_and_the_callers_inputs_are_compared():
    space = TENSOR_SPACE.only(history=("leaf-requires-grad",), grad=(True,))

    def scale_grad(t):
        t.grad.mul_(2)
        return t

    def rebinds_grad(t):
        t.grad = t.grad * 2
        return t

    exc = raised(lambda: compare(rebinds_grad, scale_grad, space, lambda c: {"t": tensor_for(c)},
                                 fn_name="scale", seed=0))
    assert "whether t's .grad is the object it was before the call differs: the reference gives the same object, " \
           "scale gives a new object" in str(exc)
    exc = raised(lambda: compare(lambda t: t.detach().clone(), lambda t: t.detach(), TENSOR_SPACE,
                                 lambda c: {"t": tensor_for(c)}, fn_name="stop", seed=0))
    assert "the inputs whose memory the result shares differs: the reference gives t, stop gives none" in str(exc)


def test_a_known_mistake_can_be_verified_by_recomputing_it_on_a_fresh_copy():
    def halves(model, x):
        return _predict_reference(model, x) / 2

    said = Mistake("ex02.output_differs", "a title", "Your output is half the model's.")

    def is_half(diff):
        return diff.field == "the result's values" and torch.allclose(diff.again(halves).double(), diff.mine)

    exc = _differential_failure(halves, known=[(is_half, said)])
    assert mistake_of(exc).mistake_id == "ex02.output_differs" and str(exc).endswith("half the model's.")
    exc = _differential_failure(lambda model, x: _predict_reference(model, x) * 3, known=[(is_half, said)])
    assert mistake_of(exc).mistake_id == DIFFERS.mistake_id  # recomputed, and not what the learner did


def test_how_the_functions_are_called_is_the_checks_choice_and_the_list_stays_observed():
    space = TENSOR_SPACE.only(history=("leaf-requires-grad",), grad=(True,), device=("cpu",), layout=("contiguous",))

    def step(params):
        with torch.no_grad():
            for p in params:
                p -= p.grad

    def uses_len(params):
        len(params)

    compare(step, step, space, lambda c: {"params": [tensor_for(c)]}, fn_name="step", seed=0,
            call=lambda fn, args: fn(p for p in args["params"]))
    exc = raised(lambda: compare(uses_len, step, space, lambda c: {"params": [tensor_for(c)]}, fn_name="step",
                                 seed=0, call=lambda fn, args: fn(p for p in args["params"])))
    assert "step raised TypeError: object of type 'generator' has no len()" in str(exc)


def test_a_gradient_is_real_when_plain_or_of_the_class_of_a_tensor_the_check_passed_in():
    from checks.instruments import OffCPUTensor, off_cpu, only_real_objects

    class Lying(torch.Tensor):
        pass

    def fills(t):
        t.grad = torch.zeros_like(t)  # on a simulated device: a gradient of that device's class
        return t

    def forges(t):
        t.grad = torch.zeros(t.shape).as_subclass(Lying)
        return t

    on_device = off_cpu(torch.ones(3).requires_grad_())
    assert type(only_real_objects(fills, "fills")(on_device).grad) is OffCPUTensor
    assert only_real_objects(fills, "fills")(torch.ones(3).requires_grad_()).grad is not None
    for t in (torch.ones(3).requires_grad_(), off_cpu(torch.ones(3).requires_grad_())):
        exc = raised(lambda: only_real_objects(forges, "forges")(t))
        assert mistake_of(exc).mistake_id == "any.not_real" and "left an argument.grad as a " in str(exc)
        assert "Lying" in str(exc)
