"""The cases, batches and networks of ex08's checks, and the helpers that call `td_targets` and say
what it returned (checks/test_ex08_td_targets.py holds the checks)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from checks.instruments import Mistake, describe_args, expect_tensor, explain_errors, head


HIDDEN = 8

# id -> (batch, n_actions, state size, gamma, dtype); states, rewards, dones and weights are random per check.
# The batch size never equals the number of actions, so a max over the wrong dimension shows.
CASES = {
    "batch8-actions3-gamma0.99": (8, 3, 4, 0.99, torch.float32),
    "batch5-actions6-gamma0.9": (5, 6, 3, 0.9, torch.float32),
    "batch7-actions2-gamma0.5-f64": (7, 2, 5, 0.5, torch.float64),
}

# which parameters of target_net the caller has frozen before the call
FLAGS = ["target-trainable", "target-partly-frozen"]

MAX_OVER_BATCH = Mistake(
    "ex08.max_over_batch", "the max taken over the batch (dim=0) instead of the actions",
    "one value per action: the max was taken over the batch (dim=0). Take it over the actions, dim=1.",
)

INFERENCE_TENSOR = Mistake(
    "ex08.inference_tensor", "targets computed under inference_mode",
    "td_targets returned an inference tensor (`targets.is_inference()` is True): it was computed inside "
    "`torch.inference_mode()`. Autograd refuses to save inference tensors, so `F.mse_loss(q, targets)` raises "
    "\"Inference tensors cannot be saved for backward\" as soon as the online network's Q-values require grad: "
    "these targets can never be trained against. Use `with torch.no_grad():`, whose results are ordinary tensors "
    "without history."
)

ERRORS = {
    r"Subtraction, the `-` operator, with a bool tensor is not supported": Mistake(
        "ex08.one_minus_bool", "`1 - dones` on a bool tensor",
        "`dones` is a bool tensor, and PyTorch has no arithmetic `1 - dones` on bools. Invert the mask with `~dones` "
        "(a bool tensor that multiplies like 0/1), or turn it into numbers first: `1 - dones.float()`."
    ),
    r"size of tensor a \(\d+\) must match the size of tensor b \(\d+\)": MAX_OVER_BATCH.reworded(
        "The shapes don't fit together: `target_net(next_states)` has shape (batch, n_actions), and the best next "
        "value of each transition is the max over the actions, `.max(dim=1).values`, of shape (batch,), like "
        "`rewards` and `dones`. A max over dim=0 (the batch) gives one value per action instead."
    ),
    r"only integer tensors of a single element can be converted to an index|return_types": Mistake(
        "ex08.max_without_values", "`q.max(dim=1)` used as a tensor (it is a pair: values, indices)",
        "`q.max(dim=1)` returns a pair of tensors (values, indices), not a tensor: take the values with "
        "`q.max(dim=1).values` (or `q.amax(dim=1)`)."
    ),
    r"Inference tensors cannot be saved for backward": INFERENCE_TENSOR.reworded(
        "The targets are an inference tensor (made under `torch.inference_mode()`). Autograd refuses to save "
        "inference tensors, and `F.mse_loss(q, targets)` must save its inputs to compute the online network's "
        "gradients: the targets can never enter the loss. Use `with torch.no_grad():` instead, which gives ordinary "
        "tensors without history."
    ),
}

VALUES_HINT = "The target is `rewards + gamma * (1 - dones) * target_net(next_states).max(dim=1).values`."


@dataclass
class Batch:
    net: nn.Module
    next_states: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor
    gamma: float
    n_actions: int


def make_net(state_size, n_actions, dtype=torch.float32):
    return nn.Sequential(nn.Linear(state_size, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, n_actions)).to(dtype)


def make_batch(case="batch8-actions3-gamma0.99", flags="target-trainable"):
    batch, n_actions, state_size, gamma, dtype = CASES[case]
    net = make_net(state_size, n_actions, dtype)
    if flags == "target-partly-frozen":
        net[0].requires_grad_(False)
    dones = torch.rand(batch) < 0.4
    dones[torch.randperm(batch)[:2]] = torch.tensor([True, False])  # at least one of each
    return Batch(
        net=net,
        next_states=torch.randn(batch, state_size, dtype=dtype),
        rewards=torch.randn(batch, dtype=dtype),
        dones=dones,
        gamma=gamma,
        n_actions=n_actions,
    )


def arguments(net, next_states, rewards, dones, gamma) -> str:
    return describe_args(target_net=net, next_states=next_states, rewards=rewards, dones=dones, gamma=gamma)


def run(td_targets, *inputs):
    with explain_errors("td_targets", ERRORS, called_with=arguments(*inputs)):
        return td_targets(*inputs)


def call(td_targets, b):
    return expect_tensor(run(td_targets, b.net, b.next_states, b.rewards, b.dones, b.gamma), "td_targets")


def oracle(b, *, use_dones=True, invert=False, gamma=None):
    """The targets, transition by transition, from a copy of the network."""
    gamma = b.gamma if gamma is None else gamma
    with torch.no_grad():
        q = copy.deepcopy(b.net)(b.next_states).double()
    values = []
    for i in range(len(b.rewards)):
        done = bool(b.dones[i])
        ended = (not done) if invert else done
        future = 0.0 if (use_dones and ended) else gamma * max(q[i].tolist())
        values.append(float(b.rewards[i]) + future)
    return torch.tensor(values, dtype=torch.float64)


def assert_shape(out, b):
    batch = len(b.rewards)
    if tuple(out.shape) == (batch,):
        return
    shape = tuple(out.shape)
    if shape == (batch, b.n_actions):
        why = Mistake("ex08.no_max", "the max over the actions left out",
                      "one value per (transition, action): the max over the actions is missing. Take "
                      "`.max(dim=1).values`.")
    elif shape in ((batch, 1), (batch, batch)):
        why = Mistake(
            "ex08.max_keepdim", "the best next values as a (batch, 1) column, which broadcasts into a table",
            "two-dimensional: the best next values came as a (batch, 1) column (`keepdim=True`, or an unsqueeze), "
            "and a column combined with `rewards` of shape (batch,) broadcasts into a table. Use "
            "`.max(dim=1).values`, of shape (batch,)."
        )
    elif shape == (b.n_actions,):
        why = MAX_OVER_BATCH
    elif shape == ():
        why = Mistake("ex08.max_over_everything", "the max taken over the whole tensor instead of per row",
                      "a single number: the max was taken over the whole tensor. Take it per row, "
                      "`.max(dim=1).values`.")
    else:
        why = Mistake("ex08.wrong_shape", "targets of another shape than one per transition",
                      "The result must have one target per transition.")
    raise AssertionError(why.reworded(
        f"td_targets returned a tensor of shape {shape} for a batch of {batch} transitions and {b.n_actions} "
        f"actions; expected shape ({batch},), one target per transition. Yours is {why}"
    ))


def assert_targets(out, b):
    """Shape and values, or a message that names the mistake (the same in every check)."""
    assert_shape(out, b)
    got = out.detach().double()
    if torch.allclose(got, oracle(b), rtol=1e-5, atol=1e-5):
        return
    if torch.allclose(got, oracle(b, use_dones=False), rtol=1e-5, atol=1e-5):
        raise AssertionError(Mistake(
            "ex08.ignores_dones", "the future term added also where the episode ended",
            "td_targets ignores `dones`: transitions whose episode ended (dones True) got `gamma * max Q(next_state)` "
            "added to their reward. After the last step of an episode there is no future: such a target is just the "
            "reward. Multiply the future term by `(1 - dones)`, written `~dones` or `1 - dones.float()` for a bool "
            "tensor."
        ))
    if torch.allclose(got, oracle(b, invert=True), rtol=1e-5, atol=1e-5):
        raise AssertionError(Mistake(
            "ex08.inverted_mask", "the done-mask the wrong way round",
            "td_targets has the done-mask the wrong way round: transitions whose episode ended got the future term, "
            "and the others lost it. The future term is multiplied by NOT done: `~dones` (or `1 - dones.float()`), "
            "not `dones`."
        ))
    if abs(b.gamma - 1.0) > 1e-9 and torch.allclose(got, oracle(b, gamma=1.0), rtol=1e-5, atol=1e-5):
        raise AssertionError(Mistake(
            "ex08.no_discount", "the future not discounted by gamma",
            f"td_targets does not discount the future: the targets equal those of gamma=1, but gamma is {b.gamma}. "
            "Multiply the best next value by `gamma`."
        ))
    want = oracle(b)
    raise AssertionError(Mistake(
        "ex08.wrong_targets", "targets other than rewards + gamma * (not done) * max Q",
        f"td_targets returned wrong targets (gamma={b.gamma}): expected {head(want, 4)}, found {head(got, 4)}. "
        f"{VALUES_HINT} `.max(dim=1)` gives the best value of each row (not `argmax`, its index)."
    ))


def targets_of(td_targets, case="batch8-actions3-gamma0.99", flags="target-trainable"):
    """A batch, and the targets td_targets computed for it, with their shape and values checked."""
    b = make_batch(case, flags)
    out = call(td_targets, b)
    assert_targets(out, b)
    return b, out


def train_online(b, targets):
    """The training step: an online network's Q-values at random actions against the targets, and backward."""
    online = make_net(b.next_states.shape[1], b.n_actions, b.next_states.dtype)
    states = torch.randn_like(b.next_states)
    actions = torch.randint(0, b.n_actions, (len(b.rewards),))
    with explain_errors("F.mse_loss(q, targets) (or its backward)", ERRORS):
        q = online(states).gather(1, actions.unsqueeze(1)).squeeze(1)
        F.mse_loss(q, targets).backward()
    return online
