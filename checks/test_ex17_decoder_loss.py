"""Checks for ex17: decoder_loss(encoder, decoder, x, target, loss_fn) returns the loss of
decoder(encoder(x)) such that backward trains the decoder only, without touching the encoder's flags."""

import pytest
import torch
from torch import nn

from checks.instruments import (FailsOnPurpose, Mistake, as_mistake, assert_left_alone, assert_restored_when_it_raises,
                                changes, count_saved_tensors, grad_mode_kept, listed, oracle, snapshot, what_changed)
from checks.structures import MODEL_SPACE, batch_for, compare, gradients_seen, model_for
from checks.support_ex17_decoder_loss import (CALLERS_X, CASES, CODE, ENCODERS, IN_FEATURES, NOT_SCALAR, Setup,
                                              _names, assert_loss, backward, call, run)


@pytest.fixture
def decoder_loss(learner):
    return learner


# --------------------------------------------------------------------------- the loss


@pytest.mark.parametrize("case", CASES)
def test_loss_is_a_scalar_tensor(decoder_loss, case):
    s = Setup(case)
    loss = call(decoder_loss, s)
    assert loss.dim() == 0, NOT_SCALAR.says(shape=tuple(loss.shape))


@pytest.mark.parametrize("case", CASES)
def test_loss_value(decoder_loss, case):
    s = Setup(case)
    loss = call(decoder_loss, s)
    assert_loss(loss, s)


@pytest.mark.parametrize("case", CASES)
def test_loss_requires_grad(decoder_loss, case):
    s = Setup(case)
    before = snapshot(s.decoder)
    with count_saved_tensors() as saved:
        loss = call(decoder_loss, s)
    assert_loss(loss, s)
    if loss.requires_grad and loss.grad_fn is not None:
        return
    if loss.requires_grad:  # a leaf that requires grad: it has no history at all, backward reaches nothing
        raise AssertionError(Mistake(
            "ex17.loss_rebuilt", "the loss rebuilt as a new tensor (from a number), which has no history",
            "the loss decoder_loss returned requires grad, but it has no history (grad_fn=None, is_leaf=True): it is "
            "a new tensor, made from the loss's value (`torch.tensor(loss.item(), requires_grad=True)`, or a copy "
            "of its values), not the result of the computation. `loss.backward()` then stops at the loss itself and "
            "the decoder learns nothing. Return the tensor loss_fn gives you, as it is."
        ))
    problem = (
        f"the loss decoder_loss returned does not require grad (requires_grad={loss.requires_grad}, grad_fn=None): "
        "`loss.backward()` raises \"element 0 of tensors does not require grad and does not have a grad_fn\", and "
        "the decoder learns nothing."
    )
    froze = [c for c in changes(before, s.decoder, "flags") if "requires_grad=False" in c]
    if froze:
        why = Mistake(
            "ex17.freezes_decoder", "the decoder frozen, so the loss has no history",
            f"decoder_loss froze the decoder ({listed(froze)}). Only the encoder is pretrained; the decoder must "
            "stay trainable, and its flags are the caller's anyway."
        )
    elif loss.is_inference():
        why = Mistake(
            "ex17.inference_loss", "the loss computed under inference_mode",
            "The loss is an inference tensor: it was computed under `torch.inference_mode()`, which records "
            "nothing, and whose results can never enter a backward pass. Only the encoder's call may be "
            "exempt from tracking, and with `torch.no_grad()`."
        )
    elif saved.count == 0:
        why = Mistake(
            "ex17.everything_under_no_grad", "the decoder and the loss computed under no_grad too",
            "Nothing at all was recorded while decoder_loss ran: the decoder and the loss were computed under "
            "`torch.no_grad()` too. Only the encoder's call belongs in the no_grad block; the decoder and the loss "
            "come after it, with tracking on."
        )
    else:
        why = Mistake(
            "ex17.detaches_loss", "the decoder's output or the loss detached",
            "The decoder's computation was recorded, and then cut off: a `.detach()` on the decoder's output or on "
            "the loss throws that history away. Detach only where the gradient must stop, between the encoder and "
            "the decoder (`encoder(x).detach()`, or the encoder inside `with torch.no_grad():`), and return the loss "
            "as loss_fn gives it."
        )
    raise AssertionError(as_mistake(why, f"{problem} {why}"))


@pytest.mark.parametrize("encoder", CALLERS_X)
def test_callers_x_left_alone(decoder_loss, encoder):
    s = Setup()
    if encoder == "identity-encoder":
        s.encoder, s.x = nn.Identity(), torch.randn(len(s.x), CODE).requires_grad_()
    elif encoder == "reshaping-encoder":
        s.encoder, s.x = nn.Flatten(), torch.randn(len(s.x), 1, CODE, requires_grad=True) * 2
    s.refresh()
    before = snapshot(s.x)
    call(decoder_loss, s)
    changed = before.changes(s.x, name="x")
    if not torch.equal(s.x.detach(), before.values) or s.x._version != before.version:
        changed.append("x's values were changed in place")
    assert not changed, Mistake(
        "ex17.callers_x_changed", "the caller's x changed (the encoder's output detached in place)",
        f"with {CALLERS_X[encoder]}, decoder_loss changed the caller's x: {listed(changed)}. "
        + ("The encoder's output is x itself here, so detaching it in place (`features.detach_()`) or changing it "
           "detaches or changes the caller's tensor. " if encoder != "mlp-encoder" else "")
        + "Leave x alone: `encoder(x).detach()` makes a new tensor, and the encoder inside "
        "`with torch.no_grad():` records nothing."
    )


# --------------------------------------------------------------------------- backward


@pytest.mark.parametrize("case", CASES)
def test_decoder_gets_gradients(decoder_loss, case):
    s = Setup(case)
    loss = call(decoder_loss, s)
    assert_loss(loss, s)
    backward(loss)
    params = dict(s.decoder.named_parameters())
    missing = [n for n in s.want_grads if params[n].grad is None or not params[n].grad.any()]
    assert not missing, Mistake(
        "ex17.decoder_gets_no_gradient", "the decoder's parameters getting no gradient",
        f"after loss.backward() the decoder's parameters {_names(missing)} have no gradient: the decoder would not "
        "learn. The graph must run from the loss back through the decoder; stop it only at the encoder's output."
    )
    wrong = [n for n, g in s.want_grads.items() if not torch.allclose(params[n].grad, g, rtol=1e-4, atol=1e-6)]
    assert not wrong, Mistake(
        "ex17.wrong_decoder_gradients", "decoder gradients unlike one pass's (backward called, or the loss built twice)",
        f"after loss.backward() the decoder's parameters {_names(wrong)} have gradients different from those of "
        "loss_fn(decoder(encoder(x)), target): the loss must come from a single pass of the decoder over the "
        "encoder's output of x. (Did you call backward() yourself, or build the loss twice?)"
    )


@pytest.mark.parametrize("encoder", ENCODERS)
def test_no_gradient_reaches_encoder(decoder_loss, encoder):
    s = Setup()
    if encoder == "encoder-partly-frozen":
        s.encoder[2].weight.requires_grad_(False)
    if encoder == "encoder-has-old-grads":
        s.encoder(torch.randn_like(s.x)).pow(2).mean().backward()
    before = snapshot(s.encoder)
    loss = call(decoder_loss, s)
    assert_loss(loss, s)
    backward(loss)
    changed = changes(before, s.encoder, "grads")
    if not changed:
        return
    message = (
        f"gradients reached the pretrained encoder: after loss.backward(), {listed(changed)}. An optimizer "
        "stepping over these parameters would change the encoder. The decoder's input must be a tensor without "
        "history: compute the encoder's output inside `with torch.no_grad():` (or take `encoder(x).detach()`)."
    )
    if before.training["(the model)"] and not s.encoder.training:
        raise AssertionError(Mistake(
            "ex17.eval_instead_of_stop", "the encoder switched to eval mode instead of stopping the gradient",
            message + " Switching the encoder to eval mode does not stop gradients: `eval()` only changes how "
            "layers such as dropout and batch-norm compute."
        ))
    raise AssertionError(Mistake("ex17.no_stop", "gradients reaching the pretrained encoder (no no_grad, no detach)",
                                 message))


# --------------------------------------------------------------------------- the caller's modules


@pytest.mark.parametrize("flags", ["encoder-trainable", "encoder-partly-frozen"])
def test_encoder_flags_unchanged(decoder_loss, flags):
    s = Setup()
    if flags == "encoder-partly-frozen":
        s.encoder[0].requires_grad_(False)
        s.refresh()
    changed = what_changed(s.encoder, lambda: call(decoder_loss, s), "flags")
    if not changed:
        return
    unfrozen = [c for c in changed if "had requires_grad=False" in c]
    if unfrozen:
        raise AssertionError(Mistake(
            "ex17.unfreezes_encoder", "the encoder frozen and then everything unfrozen",
            f"decoder_loss unfroze parameters the caller had frozen on purpose: {listed(unfrozen)}. Freezing the "
            "encoder and switching everything back on afterwards does not restore the caller's flags. Don't touch "
            "`requires_grad` at all: stop the gradient at the encoder's output with `with torch.no_grad():` (or "
            "`.detach()`)."
        ))
    raise AssertionError(Mistake(
        "ex17.freezes_encoder", "the encoder frozen instead of stopping the gradient at its output",
        f"decoder_loss froze the caller's encoder: {listed(changed)}. That stops the gradient, but it changes the "
        "caller's model for good: a later fine-tuning run would find the encoder frozen. Leave `requires_grad` "
        "alone and stop the gradient at the boundary instead: the encoder inside `with torch.no_grad():` (or "
        "`encoder(x).detach()`)."
    ))


@pytest.mark.parametrize("flags", ["decoder-trainable", "decoder-partly-frozen"])
def test_decoder_flags_unchanged(decoder_loss, flags):
    s = Setup()
    if flags == "decoder-partly-frozen":
        s.decoder[0].bias.requires_grad_(False)
        s.refresh()
    assert_left_alone(s.decoder, lambda: call(decoder_loss, s), "flags", Mistake(
        "ex17.decoder_flags_changed", "the decoder's flags changed",
        "decoder_loss changed the decoder's parameters: {changes}. Which decoder parameters train is the "
        "caller's choice (some may be frozen on purpose). Leave every `requires_grad` flag as it is: all "
        "decoder_loss decides is where the gradient stops."
    ))


def test_grad_mode_unchanged(decoder_loss):
    s = Setup()
    with grad_mode_kept("decoder_loss"):
        loss = call(decoder_loss, s)
    assert_loss(loss, s)


@pytest.mark.parametrize("modes", ["both-train", "encoder-eval", "both-eval"])
def test_modules_modes_unchanged(decoder_loss, modes):
    s = Setup()
    s.encoder.train(modes == "both-train")
    s.decoder.train(modes != "both-eval")
    assert_left_alone({"encoder": s.encoder, "decoder": s.decoder}, lambda: call(decoder_loss, s), "modes", Mistake(
        "ex17.modes_changed", "the modules' train/eval mode changed",
        "decoder_loss changed the modules' train/eval mode: {changes}. The mode is the caller's choice, "
        "and it has nothing to do with gradients (`eval()` does not stop autograd). Leave it, and stop the "
        "gradient with `torch.no_grad()` around the encoder."
    ))


def test_state_restored_when_encoder_raises(decoder_loss):
    s = Setup()
    s.encoder = FailsOnPurpose(IN_FEATURES, CODE, "this encoder")
    s.encoder.linear.bias.requires_grad_(False)
    assert_restored_when_it_raises(s.encoder, lambda: run(decoder_loss, s), grad_mode=Mistake(
        "ex17.grad_mode_not_restored_on_error", "gradient tracking switched back by hand, not when the encoder raises",
        "when the encoder raised an error, decoder_loss left gradient tracking switched off for the caller: the "
        "line that switches it back never ran. `with torch.no_grad():` restores the previous mode when the block "
        "ends, also when an exception leaves it."
    ), changed=Mistake(
        "ex17.encoder_changed_on_error", "the encoder's flags or mode left changed when it raises",
        "when the encoder raised an error, decoder_loss left it changed: {changes}. Don't change the "
        "encoder's flags or mode; `with torch.no_grad():` around its call is all it takes."
    ))


# --------------------------------------------------------------------------- generated structures


SKIPS_HOOKS = Mistake(
    "ex17.forward_skips_hooks", "encoder.forward(...) called, which skips the hooks registered on encoder",
    "The difference shows only where a forward hook is registered on encoder itself: calling `encoder.forward(...)` runs "
    "the layers but skips the hooks registered on encoder (here one that changes its output), so the loss is not "
    "what the caller's encoder computes. Call the module itself, `encoder(x)`: that runs its hooks."
)


def skipped_hooks(diff):
    """The smallest input that differs has a hook on encoder itself, and a value differs."""
    return diff.case.get("hook") == "model" and diff.raised is None and "value" in diff.field


GENERATED = MODEL_SPACE.only(layers=(2,), nesting=(1,), root_param=(False,), scalar_param=(False,), tied=(False,),
                             ties=(False,), batch=("several",), frozen=("none", "alternate"), caller=("grad-enabled",))


@oracle
def reference_decoder_loss(encoder, decoder, x, target, loss_fn):
    with torch.no_grad():
        features = encoder(x)
    return loss_fn(decoder(features), target)


def generated_call(case):
    encoder = model_for(case)
    code = 1 if case.outputs == "one" else 3
    decoder = nn.Sequential(nn.Linear(code, 4), nn.Tanh(), nn.Linear(4, 2)).to(case.dtype)
    n = batch_for(case)
    return {"encoder": encoder, "decoder": decoder, "x": torch.randn(n, 4, dtype=case.dtype),
            "target": torch.randn(n, 2, dtype=case.dtype), "loss_fn": nn.MSELoss()}


def gradients_after_backward(args, loss):
    """What the caller's `loss.backward()` leaves: which parameters have a .grad, and their values."""
    loss.backward()
    return gradients_seen({"encoder": args["encoder"], "decoder": args["decoder"]}, "loss.backward()")


def test_agrees_with_the_reference_on_generated_structures(decoder_loss):
    compare(decoder_loss, reference_decoder_loss, GENERATED, generated_call, fn_name="decoder_loss", extra=1,
            known=[(skipped_hooks, SKIPS_HOOKS)],
            probe=gradients_after_backward)
