"""Checks for ex19: soft_update(target, source, tau) blends every target parameter towards the
source's in place, under no_grad, leaving buffers, flags, grads and the source alone."""

import pytest
import torch
from torch import nn

from checks.instruments import (
    Mistake,
    count_saved_tensors,
    describe_args,
    explain_errors,
    grad_mode_kept,
    head,
    oracle,
    snapshot,
)
from checks.structures import MODEL_SPACE, compare, model_for

# id -> (whether the target network is trained too, tau, dtype); weights and statistics are random per check
CASES = {
    "frozen-target-tau0.3": (False, 0.3, torch.float32),
    "trainable-target-tau0.1": (True, 0.1, torch.float32),
    "frozen-target-tau0.75-f64": (False, 0.75, torch.float64),
    "frozen-target-tau1": (False, 1.0, torch.float32),
}
BOTH_KINDS = ["frozen-target-tau0.3", "trainable-target-tau0.1"]

ERRORS = {
    r"leaf Variable that requires grad is being used in an in-place operation": Mistake(
        "ex19.no_no_grad_trainable", "an in-place blend of trainable target parameters outside no_grad",
        "The target's parameters require grad here (a target network that is trained too), and autograd "
        "refuses to record an in-place change of them. Blend inside `with torch.no_grad():`, where autograd "
        "records nothing. (A frozen target would accept the same code silently, and its parameters would "
        "turn into non-leaf tensors tied to the source's graph.)"
    ),
    r"can't be cast to the desired output type Long|lerp.*Long|Long.*lerp": Mistake(
        "ex19.blends_all_state", "every state_dict entry blended, integer buffers included",
        "You are blending an integer buffer (batch-norm's `num_batches_tracked`): buffers are not averaged, "
        "only parameters are. Walk `zip(target.parameters(), source.parameters())`, not the `state_dict()`, "
        "which holds the buffers too."
    ),
    r"'str' object has no attribute": Mistake(
        "ex19.state_dict_keys", "a state dict's keys (names) gone through instead of its tensors",
        "Going through a state dict (`for a, b in zip(target.state_dict(), source.state_dict())`) gives its keys, "
        "the names, not the tensors. Walk the parameters themselves: "
        "`for p_t, p_s in zip(target.parameters(), source.parameters()):`."
    ),
}

BUFFERS_COPIED = Mistake(
    "ex19.buffers_copied", "the source's buffers copied into the target (load_state_dict)",
    "soft_update copied the source's batch-norm buffers into the target ({names}): "
    "`target.load_state_dict(source.state_dict())` (or a loop over the state dict) copies the running "
    "statistics too, also as a shortcut for tau == 1, where the parameters become copies of the source's. "
    "A soft update only blends the parameters, whatever tau is: walk "
    "`zip(target.parameters(), source.parameters())`."
)


@pytest.fixture
def soft_update(learner):
    return learner


class Net(nn.Module):
    """Layers with batch norm (running statistics: buffers), and a 0-dim temperature of the network's own, which
    none of its children holds."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        self.temperature = nn.Parameter(torch.rand(()) + 0.5)

    def forward(self, x):
        return self.layers(x) / self.temperature


def make_net(dtype):
    net = Net().to(dtype)
    with torch.no_grad():  # running statistics of its own (different for target and source)
        for _ in range(torch.randint(2, 5, ()).item()):
            net(torch.randn(12, 4, dtype=dtype) * 3 + torch.randn(()).item())
    return net


def make_pair(case):
    trainable, tau, dtype = CASES[case]
    target, source = make_net(dtype), make_net(dtype)
    with torch.enable_grad():  # also when the check itself runs inside no_grad
        source(torch.randn(6, 4, dtype=dtype)).pow(2).mean().backward()  # the online network was just trained
        if trainable:
            target(torch.randn(6, 4, dtype=dtype)).pow(2).mean().backward()  # the target has grads of its own
    if not trainable:
        target.requires_grad_(False)  # the usual set-up: the target network is never trained
    return target, source, tau


def call(soft_update, target, source, tau):
    with explain_errors("soft_update", ERRORS, called_with=describe_args(target=target, source=source, tau=tau)):
        soft_update(target, source, tau)


def _all_close(tensors, wanted):
    return all(torch.allclose(t.double(), w.double(), rtol=1e-5, atol=1e-6) for t, w in zip(tensors, wanted))


def assert_blended(target, source, before_t, before_s, tau):
    """Every target parameter (the same object) holds (1 - tau) * old + tau * source; else say what happened."""
    replaced = before_t.replaced(target)
    if replaced:
        raise AssertionError(Mistake(
            "ex19.new_parameters", "the target's parameters replaced by new objects",
            f"the target's parameters {', '.join(replaced)} were replaced by new objects: whoever holds the "
            "target network's parameters (an optimizer, the code computing the targets) still has the old ones, "
            "which never changed. Update each parameter in place: `p_t.mul_(1 - tau).add_(p_s, alpha=tau)` "
            "or `p_t.lerp_(p_s, tau)`, inside `torch.no_grad()`."
        ))
    names = list(before_t.params)
    now = [before_t.params[n].obj.detach() for n in names]
    old = [before_t.params[n].values for n in names]
    src = [before_s.params[n].values for n in names]
    if _all_close(now, [(1 - tau) * o + tau * s for o, s in zip(old, src)]):
        return
    if all(torch.equal(t, o) for t, o in zip(now, old)):
        source_now = [p.detach() for p in source.parameters()]
        if not all(torch.equal(t, s) for t, s in zip(source_now, src)):
            raise AssertionError(Mistake(
                "ex19.updates_source", "the source updated instead of the target",
                "the target's parameters did not change, the source's did: the update went into the wrong "
                "network. The target moves towards the source: `p_t.mul_(1 - tau).add_(p_s, alpha=tau)` with "
                "`p_t` from `target.parameters()`; the source is only read."
            ))
        raise AssertionError(Mistake(
            "ex19.rebinding", "rebinding the loop variable instead of an in-place update",
            f"the target's parameters did not change (tau={tau}). If you wrote `p_t = (1 - tau) * p_t + tau * p_s`, "
            "that builds a new tensor and only rebinds your loop variable: the network's parameter stays as it "
            "was. Change it in place: `p_t.mul_(1 - tau)` then `p_t.add_(p_s, alpha=tau)`, inside "
            "`torch.no_grad()`."
        ))
    if _all_close(now, src):
        raise AssertionError(Mistake(
            "ex19.copies_source", "the source's values copied instead of blended",
            f"the target's parameters are now copies of the source's (tau={tau}): soft_update copied the "
            "source's values instead of blending them (`load_state_dict`, `copy_`). A soft update moves the "
            "target only a fraction tau of the way: `p_t <- (1 - tau) * p_t + tau * p_s`."
        ))
    if _all_close(now, [tau * o + (1 - tau) * s for o, s in zip(old, src)]):
        raise AssertionError(Mistake(
            "ex19.tau_swapped", "tau and 1 - tau swapped",
            f"the target's parameters hold `tau * p_t + (1 - tau) * p_s` (tau={tau}): tau and 1 - tau are "
            "swapped. tau is the (small) share of the SOURCE: `p_t <- (1 - tau) * p_t + tau * p_s`, as "
            "`p_t.lerp_(p_s, tau)` computes."
        ))
    wrong = [n for n, t, o, s in zip(names, now, old, src)
             if not torch.allclose(t.double(), ((1 - tau) * o + tau * s).double(), rtol=1e-5, atol=1e-6)]
    if all("." not in n for n in wrong) and all(torch.equal(t, o) for n, t, o in zip(names, now, old) if n in wrong):
        raise AssertionError(Mistake(
            "ex19.own_parameters_missed", "the network's own parameters left out (only its children gone through)",
            f"the target's parameters {', '.join(wrong)} did not move, while those of its submodules were blended: "
            "these are held by the network itself, not by any of its children, and a loop over `children()` "
            "never reaches them. Walk `zip(target.parameters(), source.parameters())`, which gives every "
            "parameter, the network's own included."
        ))
    name, t, o, s = next((n, t, o, s) for n, t, o, s in zip(names, now, old, src) if n in wrong)
    want = (1 - tau) * o + tau * s
    raise AssertionError(Mistake(
        "ex19.wrong_blend", "a blend other than (1 - tau) * p_t + tau * p_s",
        f"target parameter {name} holds the wrong values after soft_update (tau={tau}): expected "
        f"`(1 - tau) * p_t + tau * p_s` = {head(want)}, found {head(t)}."
    ))


def updated(soft_update, case):
    """Make the networks, run soft_update, check the values: the one values message for every check."""
    target, source, tau = make_pair(case)
    before_t, before_s = snapshot(target), snapshot(source)
    call(soft_update, target, source, tau)
    assert_blended(target, source, before_t, before_s, tau)
    return target, source, before_t, before_s


@pytest.mark.parametrize("case", CASES)
def test_parameters_are_blended(soft_update, case):
    updated(soft_update, case)


@pytest.mark.parametrize("case", [*BOTH_KINDS, "frozen-target-tau1"])
def test_target_buffers_untouched(soft_update, case):
    target, source, before_t, before_s = updated(soft_update, case)
    buffers = dict(target.named_buffers())
    moved = [n for n, b in before_t.buffers.items() if not torch.equal(buffers[n], b.values)]
    if not moved:
        return
    copied = [n for n in moved if torch.equal(buffers[n], before_s.buffers[n].values)]
    if copied:
        raise AssertionError(BUFFERS_COPIED.says(names=", ".join(copied)))
    raise AssertionError(Mistake(
        "ex19.blends_buffers", "the batch-norm running statistics blended too",
        f"soft_update changed the target's buffers ({', '.join(moved)}): the batch-norm running statistics "
        "were blended too, as a loop over `state_dict()` does. Buffers are not averaged here (and "
        "`num_batches_tracked` is an integer count); only the parameters are. Walk "
        "`zip(target.parameters(), source.parameters())`."
    ))


@pytest.mark.parametrize("case", BOTH_KINDS)
def test_source_untouched(soft_update, case):
    target, source, before_t, before_s = updated(soft_update, case)
    regraded = before_s.regraded(source)
    for name, p in source.named_parameters():
        was = before_s.params[name]
        assert p is was.obj and torch.equal(p.detach(), was.values), Mistake(
            "ex19.source_changed", "the source's parameters changed",
            f"the source's parameter {name} changed: the source network is only read. Update the target's "
            "parameters (`p_t`), not the source's."
        )
        assert p._version == was.version, Mistake(
            "ex19.source_written", "the source's parameters written to in place",
            f"the source's parameter {name} was written to in place (its version counter moved from "
            f"{was.version} to {p._version}), even if with the same values: the source is only read."
        )
        assert p.requires_grad == was.requires_grad, Mistake(
            "ex19.source_flags_changed", "the source's flags changed",
            f"the source's parameter {name} had requires_grad={was.requires_grad} and now has "
            f"requires_grad={p.requires_grad}: the source is the network being trained; don't freeze it. "
            "`torch.no_grad()` is what keeps the update out of autograd."
        )
        assert name not in regraded, Mistake(
            "ex19.source_grads_changed", "the source's gradients changed",
            f"the source's parameter {name} had its `.grad` changed: soft_update must not touch the gradients "
            "of the network being trained (no `zero_grad()`, no backward)."
        )
    buffers = dict(source.named_buffers())
    moved = [n for n, b in before_s.buffers.items() if not torch.equal(buffers[n], b.values)]
    assert not moved, Mistake("ex19.source_buffers_changed", "the source's buffers changed",
                              f"the source's buffers {', '.join(moved)} changed: the source network is only read.")


@pytest.mark.parametrize("case", BOTH_KINDS)
def test_parameters_stay_same_objects(soft_update, case):
    target, source, before_t, before_s = updated(soft_update, case)
    for name, p in target.named_parameters():
        assert p.untyped_storage().data_ptr() == before_t.params[name].storage, Mistake(
            "ex19.data_replaced", "the target's `.data` replaced instead of updated in place",
            f"target parameter {name} now lives in different memory: its values were replaced (for example "
            "`p_t.data = ...`) instead of updated in place. Update in place: `p_t.mul_(1 - tau).add_(p_s, "
            "alpha=tau)` under `torch.no_grad()`."
        )


@pytest.mark.parametrize("case", CASES)
def test_parameters_stay_leaves_with_their_flags(soft_update, case):
    target, source, before_t, before_s = updated(soft_update, case)
    regraded = before_t.regraded(target)
    for name, p in target.named_parameters():
        was = before_t.params[name]
        if not p.is_leaf or p.grad_fn is not None:
            frozen = "frozen " if not was.requires_grad else ""
            raise AssertionError(Mistake(
                "ex19.no_no_grad", "the blend recorded by autograd, so target parameters stop being leaves",
                f"the {frozen}target parameter {name} is no longer a leaf: it has grad_fn="
                f"{type(p.grad_fn).__name__} and requires_grad={p.requires_grad}. The in-place update was "
                "recorded by autograd: the target's parameters do not require grad, but the source's do, so "
                "`p_t.add_(p_s, ...)` outside `no_grad` ties the target to the source's graph, silently. Do the "
                "update inside `with torch.no_grad():`."
            ))
        assert p.requires_grad == was.requires_grad, Mistake(
            "ex19.target_flags_changed", "the target's flags changed",
            f"target parameter {name} had requires_grad={was.requires_grad} and now has "
            f"requires_grad={p.requires_grad}: soft_update must not freeze or unfreeze the target. "
            "`torch.no_grad()` is what keeps the update out of autograd, without touching the flags."
        )
        assert name not in regraded, Mistake(
            "ex19.target_grads_changed", "the target's gradients changed",
            f"target parameter {name} had its `.grad` changed: soft_update blends values, it does not touch "
            "gradients."
        )


@pytest.mark.parametrize("case", BOTH_KINDS)
def test_version_counters_increase(soft_update, case):
    target, source, before_t, before_s = updated(soft_update, case)
    for name, p in target.named_parameters():
        assert p._version > before_t.params[name].version, Mistake(
            "ex19.through_data", "the update made through `.data`, hidden from autograd",
            f"autograd's version counter of target parameter {name} did not move (`p._version` is still "
            f"{before_t.params[name].version}): the update went through `.data`, which hides the change from autograd. "
            "If that parameter was saved for a backward (the targets computed with it), autograd can no longer "
            "tell it was modified. Update it inside `with torch.no_grad():` instead of through `.data`."
        )


@pytest.mark.parametrize("case", ["frozen-target-tau0.3", "frozen-target-tau0.75-f64"])
def test_builds_no_graph(soft_update, case):
    target, source, tau = make_pair(case)
    before_t, before_s = snapshot(target), snapshot(source)
    with count_saved_tensors() as saved:
        call(soft_update, target, source, tau)
    assert_blended(target, source, before_t, before_s, tau)
    assert saved.count == 0, Mistake(
        "ex19.graph_built", "the blending recorded in a graph",
        f"autograd saved {saved.count} tensor(s) for a backward pass while soft_update ran: the blending was "
        "recorded in a graph. Do all of the arithmetic inside `with torch.no_grad():`."
    )
    recorded = [n for n, p in target.named_parameters() if p.grad_fn is not None]
    assert not recorded, Mistake(
        "ex19.parameters_carry_graph", "target parameters that carry a graph after the update",
        f"target parameters {', '.join(recorded)} carry a graph after soft_update: the update was recorded by "
        "autograd. Do it inside `with torch.no_grad():`."
    )


@pytest.mark.parametrize("caller", ["grad-enabled", "inside-no_grad"])
def test_grad_mode_unchanged(soft_update, caller):
    with grad_mode_kept("soft_update", caller=caller):
        updated(soft_update, "trainable-target-tau0.1")


# --------------------------------------------------------------------------- generated structures


GENERATED = MODEL_SPACE.only(layers=(2,), nesting=(1,), hook=("none",), dropout=(False,), mode=("train",),
                             ties=(False,), outputs=("several",), batch=("several",), frozen=("none", "alternate"),
                             tau=(0.3, 1.0, 0.0))


@oracle
def reference_soft_update(target, source, tau):
    with torch.no_grad():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            p_t.mul_(1 - tau)
            p_t.add_(p_s, alpha=tau)


def generated_call(case):
    return {"target": model_for(case), "source": model_for(case), "tau": case.tau}


def test_agrees_with_the_reference_on_generated_structures(soft_update):
    compare(soft_update, reference_soft_update, GENERATED, generated_call, fn_name="soft_update", extra=1)
