"""Checks for ex08: td_targets(target_net, next_states, rewards, dones, gamma) returns the Q-learning
targets as constants: right values, no graph back into target_net, usable in the online network's loss."""

import pytest
import torch

from checks.instruments import (FailsOnPurpose, Mistake, assert_left_alone, assert_restored_when_it_raises,
                                grad_mode_kept, oracle as reference_computation)
from checks.structures import MODEL_SPACE, compare, model_for
from checks.support_ex08_td_targets import (CASES, ERRORS, FLAGS, INFERENCE_TENSOR, assert_shape, assert_targets,
                                            call, make_batch, run, targets_of, train_online)


@pytest.fixture
def td_targets(learner):
    return learner


# --------------------------------------------------------------------------- the targets


@pytest.mark.parametrize("case", CASES)
def test_targets_have_one_value_per_transition(td_targets, case):
    b = make_batch(case)
    out = call(td_targets, b)
    assert_shape(out, b)


@pytest.mark.parametrize("case", CASES)
def test_values_match_the_formula(td_targets, case):
    targets_of(td_targets, case)


@pytest.mark.parametrize("case", CASES)
def test_result_does_not_require_grad(td_targets, case):
    _, out = targets_of(td_targets, case)
    assert not out.requires_grad and out.grad_fn is None, Mistake(
        "ex08.targets_tracked", "targets that carry target_net's graph",
        f"the targets td_targets returned still carry target_net's graph (requires_grad={out.requires_grad}, "
        f"grad_fn={type(out.grad_fn).__name__ if out.grad_fn else None}): a loss built on them sends gradients "
        "back into target_net, which must stay fixed while the online network learns. Compute the targets inside "
        "`with torch.no_grad():` (or `.detach()` the network's output)."
    )


@pytest.mark.parametrize("case", CASES)
def test_result_is_not_an_inference_tensor(td_targets, case):
    _, out = targets_of(td_targets, case)
    assert not out.is_inference(), INFERENCE_TENSOR


# --------------------------------------------------------------------------- the training step


@pytest.mark.parametrize("case", CASES)
def test_online_network_gets_gradients(td_targets, case):
    online = train_online(*targets_of(td_targets, case))
    missing = [n for n, p in online.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing, Mistake(
        "ex08.online_gets_no_gradient", "targets the online network's loss cannot train against",
        f"after `F.mse_loss(q, targets).backward()` the online network's parameters {', '.join(missing)} got no "
        "gradient: the targets must be an ordinary constant tensor that the online network's loss can use."
    )


@pytest.mark.parametrize("flags", FLAGS)
def test_no_gradient_reaches_target_net(td_targets, flags):
    b, out = targets_of(td_targets, flags=flags)
    train_online(b, out)
    reached = [n for n, p in b.net.named_parameters() if p.grad is not None]
    assert not reached, Mistake(
        "ex08.no_stop", "gradients reaching target_net (no no_grad, no detach)",
        f"gradients reached target_net: after the online network's loss.backward(), target_net's parameters "
        f"{', '.join(reached)} have a .grad. The targets were computed with autograd recording, so they carry "
        "target_net's graph and the loss pulls the target network towards the prediction (the target chases the "
        "estimate). Compute them inside `with torch.no_grad():` (or `.detach()` target_net's output)."
    )


@pytest.mark.parametrize("flags", FLAGS)
def test_target_net_flags_unchanged(td_targets, flags):
    b = make_batch(flags=flags)
    assert_left_alone(b.net, lambda: call(td_targets, b), "flags", Mistake(
        "ex08.freezes_target_net", "freezing target_net instead of no_grad",
        "td_targets changed the requires_grad flags of target_net: {changes}. Freezing the parameters "
        "stops the gradient, but it changes the caller's network for good (whether it is trainable is decided "
        "elsewhere, e.g. by the code that syncs it with the online network). Leave the flags alone and stop the "
        "gradient on the way: `with torch.no_grad():` around the computation."
    ))


# --------------------------------------------------------------------------- global state


@pytest.mark.parametrize("caller", ["grad-enabled", "inside-no_grad"])
def test_grad_mode_unchanged(td_targets, caller):
    b = make_batch()
    with grad_mode_kept("td_targets", caller=caller):
        out = call(td_targets, b)
    assert_targets(out, b)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_target_net_mode_unchanged(td_targets, mode):
    b = make_batch()
    b.net.train(mode == "train")
    assert_left_alone(b.net, lambda: call(td_targets, b), "modes", Mistake(
        "ex08.mode_changed", "switching target_net's train/eval mode",
        "td_targets changed target_net's mode: {changes}. Train or eval mode is the caller's choice, and "
        "it has nothing to do with gradients: `eval()` does not stop autograd. `torch.no_grad()` is all it takes."
    ))


@pytest.mark.parametrize("case", CASES)
def test_inputs_are_not_modified(td_targets, case):
    b = make_batch(case)
    kept = {name: getattr(b, name).clone() for name in ("next_states", "rewards", "dones")}
    versions = {name: getattr(b, name)._version for name in kept}
    call(td_targets, b)
    for name, old in kept.items():
        now = getattr(b, name)
        assert now._version == versions[name] and torch.equal(now, old), Mistake(
            "ex08.modifies_inputs", "the caller's inputs modified in place",
            f"td_targets modified the caller's `{name}` in place. Those tensors usually come from the replay buffer "
            "and will be used again: build the result as a new tensor (`rewards + ...`), not with `+=` or a "
            "method ending in `_`."
        )


@pytest.mark.parametrize("flags", FLAGS)
def test_state_restored_when_target_net_raises(td_targets, flags):
    net = FailsOnPurpose(4, 3, "this network")
    if flags == "target-partly-frozen":
        net.linear.bias.requires_grad_(False)
    inputs = (net, torch.randn(5, 4), torch.randn(5), torch.rand(5) < 0.5, 0.9)
    assert_restored_when_it_raises(net, lambda: run(td_targets, *inputs), grad_mode=Mistake(
        "ex08.grad_mode_not_restored_on_error", "gradient tracking switched back by hand, not when target_net raises",
        "when target_net raised an error, td_targets left gradient tracking switched off for the caller: the line "
        "that switches it back never ran. `with torch.no_grad():` restores the previous mode when the block ends, "
        "also when an exception leaves it."
    ), changed=Mistake(
        "ex08.net_changed_on_error", "target_net's flags or modes left changed when it raises",
        "when target_net raised an error, td_targets left it changed: {changes}. Don't change flags or "
        "modes of target_net; `with torch.no_grad():` is all it takes."
    ))


# --------------------------------------------------------------------------- against the reference, on generated networks

# target networks of the structures the contract allows: depth, nesting, forward hooks, batch norm, frozen
# layers, modes, dtypes, a single action, a batch of one transition; called with grad mode on, or inside no_grad
GENERATED = MODEL_SPACE.only(layers=(1, 2), root_param=(False,), scalar_param=(False,), norm=("none", "batchnorm"),
                             dropout=(False,), tied=(False,), frozen=("none", "first-layer"), mode=("train", "eval"),
                             grads=(False,), ties=(False,), gamma=(0.9, 0.5), caller=("grad-enabled", "inside-no_grad"))
STATE_SIZE = 4


def generated_input(case):
    net = model_for(case, STATE_SIZE, 3)
    batch = 1 if case.batch == "one" else 6
    dones = torch.arange(batch) % 3 == 1  # some ended, some not (a batch of one: not ended)
    return {"target_net": net, "next_states": torch.randn(batch, STATE_SIZE, dtype=case.dtype),
            "rewards": torch.randn(batch, dtype=case.dtype), "dones": dones, "gamma": case.gamma}


@reference_computation
def td_reference(target_net, next_states, rewards, dones, gamma):
    with torch.no_grad():
        best_next = target_net(next_states).max(dim=1).values
        return rewards + gamma * (~dones).to(best_next.dtype) * best_next


def _without_hooks(target_net, next_states, rewards, dones, gamma):
    with torch.no_grad():
        best_next = target_net.forward(next_states).max(dim=1).values
        return rewards + gamma * (~dones).to(best_next.dtype) * best_next


def _skips_hooks(diff):
    if diff.field != "the result's values" or diff.case.hook == "none":
        return False
    forward = diff.again(_without_hooks).double()
    return forward.shape == diff.mine.shape and torch.allclose(forward, diff.mine, rtol=1e-5, atol=1e-5)


SKIPS_HOOKS = Mistake(
    "ex08.forward_skips_hooks", "calling target_net.forward(...), which skips the network's hooks",
    "The reference's Q-values pass through the hook and yours do not: your targets are exactly those of "
    "`target_net.forward(next_states)`. `forward` runs only the forward method; calling the network, "
    "`target_net(next_states)`, also runs the hooks registered on it (and on its layers)."
)
DTYPE = Mistake(
    "ex08.dtype_changed", "targets in another dtype than the network's output and the rewards",
    "Your targets are not in the dtype of the network's output and the rewards: a buffer made with "
    "`torch.zeros(batch)` (float32) and filled in, or a cast, loses the precision of a float64 network. Compute "
    "them as `rewards + gamma * ...`, which keeps the dtype."
)


def test_matches_the_reference_on_generated_networks(td_targets):
    compare(td_targets, td_reference, GENERATED, generated_input, fn_name="td_targets", explanations=ERRORS,
            rtol=1e-5, atol=1e-5, known=[
                (_skips_hooks, SKIPS_HOOKS),
                (lambda diff: diff.field == "the result's dtype", DTYPE),
            ])
