"""Checks for ex02: predict(model, x) returns model(x) without building a graph, changing nothing."""

import copy

import pytest
import torch
from torch import nn

from checks.instruments import (
    FailsOnPurpose,
    Mistake,
    assert_left_alone,
    assert_restored_when_it_raises,
    count_saved_tensors,
    describe_args,
    expect_tensor,
    explain_errors,
    grad_mode_kept,
    oracle,
    snapshot,
)
from checks.structures import MODEL_SPACE, batch_for, compare, model_for

IN_FEATURES, OUT_FEATURES = 4, 3

# id -> (layers between the two linear layers, width, batch size); weights and inputs are random per check
MODELS = {
    "mlp": ("tanh", 8, 6),
    "batchnorm": ("batchnorm", 6, 5),
    "dropout": ("dropout", 10, 7),
}

@pytest.fixture
def predict(learner):
    return learner


def make_model(kind, mode="train"):
    middle, width, batch = MODELS[kind]
    layers = [nn.Linear(IN_FEATURES, width)]
    if middle == "tanh":
        layers += [nn.Tanh()]
    elif middle == "batchnorm":
        layers += [nn.BatchNorm1d(width), nn.ReLU()]
    else:
        layers += [nn.ReLU(), nn.Dropout(0.5)]
    layers += [nn.Linear(width, OUT_FEATURES)]
    model = nn.Sequential(*layers)
    with torch.no_grad():  # give batch-norm running statistics that differ from the defaults
        for _ in range(3):
            model(torch.randn(batch, IN_FEATURES) * 2 + 1)
    if mode == "eval":
        model.eval()
    elif mode == "mixed":  # the caller keeps some submodules in eval mode
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.Dropout)):
                module.eval()
    return model, torch.randn(batch, IN_FEATURES)


def run(predict, model, x):
    with explain_errors("predict", called_with=describe_args(model=model, x=x)):
        return predict(model, x)


def call(predict, model, x):
    return expect_tensor(run(predict, model, x), "predict")


@oracle
def reference(model, x):
    """model(x) as the caller would get it now: on a copy of the model, with the current random stream."""
    twin = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        return twin(x.detach())



OUTPUT_RESHAPED = Mistake(
    "ex02.output_reshaped", "returning something else than the model's output as it is",
    "predict returned a tensor of shape {got}; model(x) has shape {want}. Return the model's output as it is "
    "(no `.squeeze()`, `.view(...)` or indexing: a size-1 dimension of the output is part of it)."
)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("kind", MODELS)
def test_same_values_as_model(predict, kind, mode):
    model, x = make_model(kind, mode)
    other_mode = copy.deepcopy(model).train(mode != "train")  # the model as it would be in the other mode
    want = reference(model, x)
    out = call(predict, model, x)
    assert out.shape == want.shape, OUTPUT_RESHAPED.says(got=tuple(out.shape), want=tuple(want.shape))
    assert out.dtype == want.dtype, LOWER_PRECISION.says(got=out.dtype, want=want.dtype)
    if not torch.allclose(out.detach().float(), want.float(), rtol=1e-5, atol=1e-6):
        diff = (out.detach().float() - want.float()).abs().max().item()
        if torch.allclose(out.detach().float(), reference(other_mode, x).float(), rtol=1e-5, atol=1e-6):
            raise AssertionError(Mistake(
                "ex02.output_in_another_mode", "running the model in another mode than the caller left it in",
                f"predict(model, x) differs from model(x) for a model in {mode} mode (largest difference "
                f"{diff:.3g}), and equals the output of the model in {'eval' if mode == 'train' else 'train'} mode. "
                "`torch.no_grad()` changes no value; switching the mode does: in eval mode dropout stops dropping "
                "and batch-norm uses its running statistics. Call the model in the mode the caller left it in "
                "(no `model.eval()` / `model.train()`), inside `with torch.no_grad():`."
            ))
        raise AssertionError(Mistake(
            "ex02.output_differs", "an output with other values than model(x)",
            f"predict(model, x) differs from model(x) for a model in {mode} mode (largest difference {diff:.3g}). "
            "`torch.no_grad()` changes no value. Likely causes: the input or the output changed by arithmetic, "
            "the model run on a copy of the input in another precision, or some modules run in another mode "
            "than the caller left them in. Return `model(x)` as it is, computed inside `with torch.no_grad():`."
        ))


LOWER_PRECISION = Mistake(
    "ex02.dtype_changed", "an output in another dtype than model(x) (autocast, a cast)",
    "predict returned a {got} tensor where model(x) is {want}: computing in another precision (`torch.autocast`, "
    "`.half()`, `.to(torch.bfloat16)`) changes the values, not only the dtype. `torch.no_grad()` is all predict "
    "needs: return `model(x)` as the model computes it."
)


@pytest.mark.parametrize("x_tracks", [False, True], ids=["x-plain", "x-requires-grad"])
@pytest.mark.parametrize("kind", ["mlp", "batchnorm"])
def test_builds_no_graph(predict, kind, x_tracks):
    model, x = make_model(kind)
    x.requires_grad_(x_tracks)
    before = snapshot(model)
    with count_saved_tensors() as saved:
        out = call(predict, model, x)
    if saved.count == 0 and not out.requires_grad and out.grad_fn is None:
        return
    recorded = f"autograd saved {saved.count} tensor(s) for a backward pass while predict ran"
    froze = [n for n, was in before.requires_grad.items() if was and not dict(model.named_parameters())[n].requires_grad]
    if froze:
        raise AssertionError(Mistake(
            "ex02.freezes_instead_of_no_grad", "freezing the parameters instead of torch.no_grad()",
            f"predict froze the parameters ({', '.join(froze[:4])}{', ...' if len(froze) > 4 else ''}) to avoid the graph, but {recorded}: here `x` "
            "itself requires grad, so everything computed from it is still recorded. Freezing changes the caller's "
            "model and is not what stops autograd: wrap the call in `with torch.no_grad():`."
        ))
    if not out.requires_grad and out.grad_fn is None:
        raise AssertionError(Mistake(
            "ex02.detaches_output", "detaching the output instead of running the model under no_grad",
            f"{recorded}, although the result has no history: detaching the output afterwards "
            "(`model(x).detach()`) comes too late, the graph was already built and its memory spent. "
            "Run the model inside `with torch.no_grad():`, so that nothing is recorded in the first place."
        ))
    if before.training["(the model)"] and not model.training:
        raise AssertionError(Mistake(
            "ex02.eval_instead_of_no_grad", "model.eval() used to stop autograd (it does not)",
            f"predict switched the model to eval mode, but eval mode does not stop autograd: {recorded}, and the "
            f"result carries a graph (grad_fn={type(out.grad_fn).__name__}). `model.eval()` only changes how "
            "layers such as dropout compute; the switch for autograd is `with torch.no_grad():`."
        ))
    raise AssertionError(Mistake(
        "ex02.graph_built", "running the model without torch.no_grad()",
        f"{recorded}, and the result carries a graph (requires_grad={out.requires_grad}, grad_fn="
        f"{type(out.grad_fn).__name__ if out.grad_fn else None}). Run the model inside `with torch.no_grad():`."
    ))


@pytest.mark.parametrize("caller", ["grad-enabled", "inside-no_grad"])
def test_grad_mode_unchanged(predict, caller):
    model, x = make_model("mlp")
    with grad_mode_kept("predict", caller=caller):
        call(predict, model, x)


@pytest.mark.parametrize("mode", ["train", "eval", "mixed"])
def test_model_mode_unchanged(predict, mode):
    model, x = make_model("batchnorm", mode)
    model.insert(2, nn.Dropout(0.2).train(mode == "train"))
    assert_left_alone(model, lambda: call(predict, model, x), "modes", Mistake(
        "ex02.model_mode_changed", "changing the train/eval mode of the caller's model",
        "predict changed the mode of the caller's model: {changes}. Train or eval mode is the "
        "caller's choice, and predict must leave every module as it found it. `torch.no_grad()` is all that "
        "predict needs, and it changes no mode."
    ))


@pytest.mark.parametrize("flags", ["all-trainable", "partly-frozen"])
def test_requires_grad_flags_unchanged(predict, flags):
    model, x = make_model("mlp")
    if flags == "partly-frozen":
        model[0].requires_grad_(False)
    assert_left_alone(model, lambda: call(predict, model, x), "flags", Mistake(
        "ex02.requires_grad_changed", "changing the requires_grad flags of the caller's parameters",
        "predict changed the caller's parameters: {changes}. Freezing the parameters is not the way "
        "to skip the graph: it changes the caller's model (and a graph is built anyway when `x` requires grad). "
        "Leave `requires_grad` alone and run the model inside `with torch.no_grad():`."
    ))


@pytest.mark.parametrize("grads", ["no-grads-yet", "grads-from-earlier-backward"])
def test_parameter_grads_unchanged(predict, grads):
    model, x = make_model("mlp")
    if grads == "grads-from-earlier-backward":
        model(torch.randn_like(x)).pow(2).mean().backward()
    known = COMPUTES_GRADIENTS if grads == "no-grads-yet" else GRADS_CLEARED
    assert_left_alone(model, lambda: call(predict, model, x), "grads", known)


COMPUTES_GRADIENTS = Mistake(
    "ex02.computes_gradients", "calling backward() in a prediction",
    "after predict, {changes}: a prediction computes no gradients. Don't call backward() in "
    "predict; just return the output computed inside `with torch.no_grad():`."
)
GRADS_CLEARED = Mistake(
    "ex02.grads_cleared", "clearing or zeroing the caller's gradients",
    "predict changed gradients the caller had accumulated: {changes}. Clearing or zeroing "
    "gradients (`model.zero_grad()`) is the training loop's business; a prediction in between must leave "
    "them alone."
)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_state_restored_when_model_raises(predict, mode):
    model = FailsOnPurpose(IN_FEATURES, OUT_FEATURES).train(mode == "train")
    x = torch.randn(3, IN_FEATURES)
    assert_restored_when_it_raises(model, lambda: run(predict, model, x), grad_mode=Mistake(
        "ex02.grad_mode_not_restored_on_error", "gradient tracking switched back by hand, not when the model raises",
        "when the model raised an error, predict left gradient tracking switched off for the caller: the line "
        "that switches it back never ran. `with torch.no_grad():` restores the previous mode when the block "
        "ends, also when an exception leaves it."
    ), changed=Mistake(
        "ex02.model_changed_on_error", "the model's modes or flags left changed when the model raises",
        "when the model raised an error, predict left the caller's model changed: {changes}. "
        "Don't change modes or flags in predict; `with torch.no_grad():` is all it needs."
    ))


# --------------------------------------------------------------------------- against the reference, on generated models

# models of the structures the contract allows: depth, nesting, forward hooks, batch norm, dropout, frozen
# layers, modes (mixed too), dtypes, gradients from earlier, size-1 outputs and batches; called with grad
# mode on, or from inside no_grad
GENERATED = MODEL_SPACE.only(layers=(1, 2), root_param=(False,), scalar_param=(False,), norm=("none", "batchnorm"),
                             tied=(False,), frozen=("none", "first-layer"), ties=(False,),
                             caller=("grad-enabled", "inside-no_grad"))


def generated_input(case):
    return {"model": model_for(case, IN_FEATURES, OUT_FEATURES),
            "x": torch.randn(batch_for(case), IN_FEATURES, dtype=case.dtype)}


@oracle
def predict_reference(model, x):
    with torch.no_grad():
        return model(x)


SKIPS_HOOKS = Mistake(
    "ex02.forward_skips_hooks", "calling model.forward(x), which skips the model's hooks",
    "The reference's output passes through the hook and yours does not: your values are exactly "
    "`model.forward(x)`'s. `model.forward(x)` runs only the forward method; calling the model, `model(x)`, also "
    "runs the hooks registered on it (and on its layers). Call `model(x)` inside `with torch.no_grad():`."
)


def _plain_forward(model, x):
    with torch.no_grad():
        return model.forward(x)


def _skips_hooks(diff):
    if diff.field != "the result's values" or diff.case.hook == "none":
        return False
    forward = diff.again(_plain_forward).double()
    return forward.shape == diff.mine.shape and torch.allclose(forward, diff.mine, rtol=1e-5, atol=1e-6)


def _reshaped(diff):
    return diff.field == "the result's shape"


def test_matches_the_reference_on_generated_models(predict):
    compare(predict, predict_reference, GENERATED, generated_input, fn_name="predict", known=[
        (_skips_hooks, SKIPS_HOOKS),
        (lambda diff: diff.field == "the result's dtype",
         lambda diff: LOWER_PRECISION.says(got=diff.mine_text, want=diff.theirs_text)),
        (_reshaped, Mistake(
            "ex02.output_reshaped_on_size_1", "a size-1 dimension of the output squeezed or reshaped away",
            "Return the model's output as it is: a `.squeeze()`, `.view(-1)` or `.flatten()` changes its shape "
            "when the batch or the output has one element."
        )),
    ])
