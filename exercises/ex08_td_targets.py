"""Exercise 08 — Q-learning targets: a value that must not move

In Q-learning a network estimates Q(s, a), how good action `a` is in state `s`. It learns
by moving its estimate towards a *target* built from the reward and the best value of the
next state:

    target = reward + gamma * max_a Q_target(next_state, a)      (0 when the episode ended)

The best next value comes from a second network, the *target network*: a slowly updated
copy of the online network. The target is what the online network is pulled towards, so it
must behave as a constant. If gradients could flow into it, the loss would also push the
target network (and the target would chase the prediction instead of the other way round).

A constant, for autograd, is a tensor with no history: computed inside
`with torch.no_grad():` (nothing is recorded) or cut off with `.detach()`.

    >>> target_net = nn.Linear(3, 2)                       # 2 actions
    >>> next_states = torch.randn(4, 3)                    # a batch of 4 transitions
    >>> rewards = torch.tensor([1.0, 0.0, 0.5, 2.0])
    >>> dones = torch.tensor([False, False, True, False])  # transition 2 ended its episode
    >>> y = td_targets(target_net, next_states, rewards, dones, gamma=0.9)
    >>> y.shape, y.requires_grad, y[2]                      # an ended episode has no future
    (torch.Size([4]), False, tensor(0.5000))

Then the training step uses it as the regression target of the online network:

    q = online_net(states).gather(1, actions.unsqueeze(1)).squeeze(1)
    loss = F.mse_loss(q, y)
    loss.backward()          # gradients for online_net only; target_net gets none

Details that matter:

- `target_net(next_states)` has shape `(batch, n_actions)`: the best action is a max over
  the actions, `dim=1` (`.max(dim=1).values`), not over the batch.
- `dones` is a bool tensor, and PyTorch refuses `1 - dones` on bools (RuntimeError:
  "Subtraction, the `-` operator, with a bool tensor is not supported"). Invert the mask
  with `~dones`, or make it a number first: `1 - dones.float()`.

Typical mistakes:

    target_net.requires_grad_(False)     # stops the gradient, but changes the caller's
                                         # network for good (it is some other code's
                                         # business whether it is trainable)
    with torch.inference_mode():         # around everything: the result is an "inference
        ...                              # tensor", which autograd refuses to save, so
                                         # F.mse_loss(q, y) raises "Inference tensors cannot
                                         # be saved for backward"
    no stop at all                       # y requires grad, and loss.backward() sends
                                         # gradients into target_net

Your task: implement `td_targets(target_net, next_states, rewards, dones, gamma)`.
- Return `rewards + gamma * (1 - dones) * max_a target_net(next_states)[:, a]`, shape `(batch,)`,
  where `dones` is a bool tensor (a finished episode contributes only its reward).
- The result does not require grad: no gradient can ever reach `target_net` through it,
  and it can be used in a loss with the online network's Q-values. Whether a graph is built
  along the way is up to you: under `torch.no_grad()` none is, and `.detach()` of the
  network's output drops the one that was; either way the result has no history.
- Call the network as `target_net(next_states)` (its hooks run); the targets are in the
  dtype of the network's output and the rewards.
- Don't change `target_net` (its parameters' `requires_grad`, its mode) or the grad mode.
"""

import torch
from torch import Tensor, nn


def td_targets(target_net: nn.Module, next_states: Tensor, rewards: Tensor, dones: Tensor, gamma: float) -> Tensor:
    """The Q-learning targets of a batch of transitions, as constants for autograd."""
    raise NotImplementedError
