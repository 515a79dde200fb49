"""Checks for ex20: saliency(model, x) = |d score / d x|, score = sum of each row's largest output,
also under torch.no_grad(), touching no parameter's .grad and not the caller's x."""

import pytest
import torch

from checks.instruments import Mistake, changes, graph_nodes, listed, oracle, snapshot
from checks.structures import MODEL_SPACE, batch_for, compare, describe_case, model_for
from checks.support_ex20_saliency import ENABLE_GRAD, INPUTS, MODELS, assert_saliency, call, make_model, reference


@pytest.fixture
def saliency(learner):
    return learner


@pytest.mark.parametrize("kind", MODELS)
def test_values_are_saliency(saliency, kind):
    model, x = make_model(kind)
    want = reference(model, x)
    out = call(saliency, model, x)
    assert_saliency(out, model, x, want)


@pytest.mark.parametrize("caller", ["no_grad", "set_grad_enabled-False"])
@pytest.mark.parametrize("kind", ["mlp-tanh", "conv1d"])
def test_works_under_no_grad(saliency, kind, caller):
    model, x = make_model(kind)
    want = reference(model, x)
    if caller == "no_grad":
        with torch.no_grad():
            out = call(saliency, model, x)
    else:
        torch.set_grad_enabled(False)
        out = call(saliency, model, x)
    if out.shape == x.shape and not out.detach().any() and want.any():
        raise AssertionError(ENABLE_GRAD.reworded(
            f"saliency returned only zeros when called inside `torch.no_grad()`. {ENABLE_GRAD}"))
    assert_saliency(out, model, x, want, how="called inside `torch.no_grad()`")


@pytest.mark.parametrize("caller", ["no_grad", "grad-enabled"])
@pytest.mark.parametrize("kind", ["mlp-tanh", "mlp-relu-f64"])
def test_result_has_no_graph(saliency, kind, caller):
    model, x = make_model(kind)
    want = reference(model, x)
    with torch.set_grad_enabled(caller == "grad-enabled"):
        out = call(saliency, model, x)
    assert_saliency(out, model, x, want)
    if not out.requires_grad and out.grad_fn is None:
        return
    carried = (f"the saliency map carries a graph (requires_grad={out.requires_grad}, grad_fn="
               f"{type(out.grad_fn).__name__ if out.grad_fn is not None else None}): it is a result to look at, not "
               "part of a computation, yet it keeps the model's whole graph alive")
    parameters = {id(p) for p in model.parameters()}
    leaves = [getattr(node, "variable", None) for node in graph_nodes(out)]
    if any(leaf is not None and id(leaf) not in parameters for leaf in leaves):  # a tracked stand-in of x
        raise AssertionError(Mistake(
            "ex20.create_graph", "create_graph=True, so the map carries a graph",
            f"{carried}. `torch.autograd.grad(..., create_graph=True)` records the gradient computation itself "
            "(for higher derivatives): leave create_graph off (the default)."
        ))
    raise AssertionError(Mistake(
        "ex20.map_connected_to_parameters", "a map still connected to the parameters (torch.func.grad with recording on)",
        f"{carried}: it is still connected to the model's parameters, and a backward from it would reach them. A "
        "gradient computed while autograd records the parameters keeps that link (`torch.func.grad` called with "
        "recording on does). Return a tensor without history: `torch.autograd.grad(score, inputs)` gives one, or "
        "`.detach()` the gradient before returning it."
    ))


@pytest.mark.parametrize("caller", ["grad-enabled", "no_grad"])
@pytest.mark.parametrize("grads", ["no-grads", "existing-grads", "some-frozen"])
def test_parameter_grads_are_left_alone(saliency, grads, caller):
    model, x = make_model("mlp-tanh")
    params = dict(model.named_parameters())
    if grads == "existing-grads":  # the caller is between its own backward and its optimizer step
        model(torch.randn_like(x)).pow(2).mean().backward()
    elif grads == "some-frozen":
        params["0.weight"].requires_grad_(False)
        params["0.bias"].requires_grad_(False)
    before = snapshot(model)
    want = reference(model, x)
    with torch.set_grad_enabled(caller == "grad-enabled"):
        out = call(saliency, model, x)
    assert_saliency(out, model, x, want)
    regraded = before.regraded(model)
    appeared = [n for n in regraded if before.params[n].grad is None]
    cleared = [n for n in regraded if params[n].grad is None]
    changed = [n for n in regraded if n not in appeared + cleared]
    assert not appeared and not changed, Mistake(
        "ex20.fills_parameter_grads", "score.backward(), which fills the parameters' .grad",
        f"saliency changed the `.grad` of the model's parameters ({', '.join((appeared + changed)[:4])}"
        f"{', ...' if len(appeared + changed) > 4 else ''}). `score.backward()` accumulates into the `.grad` of "
        "every parameter the score depends on: the caller's model gets gradients it never asked for, and a caller "
        "between its own backward and its optimizer step now steps with wrong gradients. Ask for the one gradient "
        "you need: `torch.autograd.grad(score, inputs)` (or `score.backward(inputs=[inputs])`)."
    )
    assert not cleared, Mistake(
        "ex20.clears_parameter_grads", "the parameters' .grad cleared after a backward",
        f"saliency cleared the caller's gradients of {', '.join(cleared[:4])}{', ...' if len(cleared) > 4 else ''} "
        "(they are None now). Zeroing or clearing after `score.backward()` does not undo the damage: gradients the "
        "caller already had are lost. Don't touch parameters' `.grad` at all: use "
        "`torch.autograd.grad(score, inputs)`, which returns the gradient instead of storing it."
    )


@pytest.mark.parametrize("state", ["train", "eval", "partly-frozen"])
def test_model_is_left_as_it_was(saliency, state):
    model, x = make_model("mlp-relu-f64")
    if state == "eval":
        model.eval()
    elif state == "partly-frozen":
        model[2].requires_grad_(False)
    before = snapshot(model)
    want = reference(model, x)
    with torch.no_grad():
        out = call(saliency, model, x)
    assert_saliency(out, model, x, want)
    found = changes(before, model, "modes flags")
    assert not found, Mistake(
        "ex20.model_changed", "the model's modes or flags changed",
        f"saliency changed the caller's model: {listed(found)}. A function that only looks at the model must "
        "leave its modes and `requires_grad` flags as it found them. Nothing needs changing here: a frozen "
        "parameter does not stop the gradient from reaching the input, and `torch.enable_grad()` is what makes "
        "recording work under the caller's `no_grad()`."
    )


@pytest.mark.parametrize("made", INPUTS)
def test_callers_x_is_untouched(saliency, made):
    model, x0 = make_model("mlp-tanh")
    source = None
    if made == "plain":
        x = x0
    elif made in ("tracking-leaf", "leaf-with-grad"):
        x = x0.requires_grad_()
        if made == "leaf-with-grad":
            (x * torch.randn_like(x)).sum().backward()
    else:
        source = x0.requires_grad_()
        x = source * 2 - 1
    before = snapshot(x)
    want = reference(model, x)
    out = call(saliency, model, x)
    assert_saliency(out, model, x, want, how=f"for an x that is {made}")
    assert x.requires_grad == before.requires_grad, Mistake(
        "ex20.requires_grad_on_callers_x", "requires_grad switched on the caller's x instead of a stand-in",
        f"saliency switched {'on' if x.requires_grad else 'off'} `requires_grad` of the caller's `x`: the flag stays "
        "changed after your function returns, and everything the caller computes from x afterwards is recorded. "
        "Don't call `x.requires_grad_()`: make your own tracked stand-in, `inputs = x.detach().requires_grad_()` "
        "(`detach()` makes a new tensor over the same values, and its flag concerns nobody else)."
    )
    grad_before, grad_now = before.grad, snapshot(x).grad
    got_grad = grad_now is not None and (grad_before is None or not torch.equal(grad_now, grad_before))
    assert not got_grad, Mistake(
        "ex20.callers_x_gets_grad", "the caller's x used as the tracked input, so it gets a .grad",
        f"the caller's `x` got a `.grad` from saliency ({'it had none' if grad_before is None else 'it had one, now changed'}): "
        "the backward accumulated into the caller's tensor. Differentiate with respect to your own stand-in, "
        "`inputs = x.detach().requires_grad_()`, even when x already tracks gradients."
    )
    assert source is None or source.grad is None, Mistake(
        "ex20.backward_into_callers_graph", "a backward through x into the caller's computation",
        "x was computed from another tensor that requires grad, and that tensor now has a `.grad`: your backward "
        "went through x into the caller's computation. Cut x off from its history first: "
        "`inputs = x.detach().requires_grad_()`, and differentiate with respect to `inputs`."
    )
    unchanged = x.grad_fn is before.grad_fn and x._version == before.version and torch.equal(x.detach(), before.values)
    assert unchanged, Mistake(
        "ex20.callers_x_modified", "the caller's x modified",
        "saliency modified the caller's `x` (its values, its version counter or its history changed). "
        "Leave it as it is: compute on `x.detach().requires_grad_()`."
    )


@pytest.mark.parametrize("caller", ["grad-enabled", "no_grad"])
def test_grad_mode_is_restored(saliency, caller):
    model, x = make_model("conv1d")
    want = reference(model, x)
    enabled = caller == "grad-enabled"
    torch.set_grad_enabled(enabled)
    try:
        out = call(saliency, model, x)
    finally:
        after = torch.is_grad_enabled()
        torch.set_grad_enabled(enabled)
    assert after == enabled, Mistake(
        "ex20.grad_mode_not_restored", "set_grad_enabled called as a function, leaving the caller's mode changed",
        f"saliency left gradient tracking switched {'on' if after else 'off'} for the caller "
        f"(torch.is_grad_enabled() was {enabled} before the call and {after} after). "
        "`torch.set_grad_enabled(...)` called as a function changes the mode for everybody until it is switched "
        "back: use the block form, `with torch.enable_grad():`, which restores the caller's mode when it ends."
    )
    assert_saliency(out, model, x, want)


# --------------------------------------------------------------------------- generated structures


SKIPS_HOOKS = Mistake(
    "ex20.forward_skips_hooks", "model.forward(...) called, which skips the hooks registered on model",
    "The difference shows only where a forward hook is registered on model itself: calling `model.forward(...)` runs "
    "the layers but skips the hooks registered on model (here one that changes its output), so the saliency map is not "
    "what the caller's model computes. Call the module itself, `model(inputs)`: that runs its hooks."
)


def skipped_hooks(diff):
    """The smallest input that differs has a hook on model itself, and a value differs."""
    return diff.case.get("hook") == "model" and diff.raised is None and "value" in diff.field


GENERATED = MODEL_SPACE.only(layers=(2,), nesting=(1,), root_param=(False,), tied=(False,), norm=("none",),
                             ties=(False,), frozen=("none", "alternate"), caller=("grad-enabled", "inside-no_grad"),
                             x=("plain", "requires grad", "computed"),
                             describe=lambda case: describe_case(case).replace(
                                 "(it adds 1 to the output)", "(it adds 1 to the output, and a second one doubles it)"))


@oracle
def reference_saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.sum()
        (grad,) = torch.autograd.grad(score, inputs)
    return grad.abs()


def generated_call(case):
    x = torch.randn(batch_for(case), 4, dtype=case.dtype)
    if case.x == "requires grad":
        x.requires_grad_()
    elif case.x == "computed":
        x = torch.randn_like(x).requires_grad_() * 2
    model = model_for(case)
    if case.hook == "model":  # a hook that also scales the output, so that the gradient shows it
        model.register_forward_hook(_doubled)
    return {"model": model, "x": x}


def _doubled(module, inputs, output):
    return output * 2


def test_agrees_with_the_reference_on_generated_structures(saliency):
    compare(saliency, reference_saliency, GENERATED, generated_call, fn_name="saliency", extra=1,
            known=[(skipped_hooks, SKIPS_HOOKS)])
