"""Exercise 19 — Polyak averaging: a soft update of a target network, in place, under no_grad

Many reinforcement-learning methods (DQN, DDPG, SAC) keep two copies of a network: the *source*
(online) network that the optimizer trains, and a *target* network used to compute learning
targets. The target must move slowly, so after every training step it takes a small step
towards the source:

    p_target  <-  (1 - tau) * p_target + tau * p_source        (tau small, e.g. 0.005)

for every pair of corresponding parameters. With tau = 1 the target becomes a copy of the
source; with tau = 0 it never moves; in between it is a running average of the source.

The pairs come from walking both networks' parameters in the same order (the two networks
have the same architecture):

    for p_t, p_s in zip(target.parameters(), source.parameters()):
        ...

Three things matter.

1. In place. Whoever holds the target network (the code computing the targets, an optimizer,
   a checkpoint) holds its parameter OBJECTS. `p_t = (1 - tau) * p_t + tau * p_s` makes a new
   tensor and only rebinds your loop variable: the network never changes. Update `p_t` itself:
   `p_t.mul_(1 - tau)` then `p_t.add_(p_s, alpha=tau)`, or `p_t.lerp_(p_s, tau)`, which
   computes `p_t + tau * (p_s - p_t)`, the same thing.

2. Inside `torch.no_grad()`. The update is bookkeeping, not a computation to differentiate.
   Outside `no_grad`:
   - a target parameter that requires grad refuses the in-place change (RuntimeError: a leaf
     Variable that requires grad is being used in an in-place operation);
   - a FROZEN target parameter (the usual set-up: the target network is never trained) accepts
     it silently, and autograd records it: since `p_s` requires grad, `p_t` becomes a non-leaf
     tensor with a `grad_fn`, tied to the source's graph. It is no longer a parameter you can
     use normally.
   Don't go through `p_t.data` either: that hides the change from autograd's version counter.

3. Parameters only, not buffers. Buffers such as batch-norm running statistics are not
   averaged here, and `num_batches_tracked` is an integer that cannot be blended anyway. So
   `target.load_state_dict(source.state_dict())` is wrong twice: it copies instead of
   blending, and it copies the buffers too. A loop over `state_dict()` entries also reaches
   the buffers: walk `parameters()`.

    >>> target, source = nn.Linear(2, 1), nn.Linear(2, 1)
    >>> _ = nn.init.zeros_(target.weight), nn.init.ones_(source.weight)
    >>> soft_update(target, source, tau=0.1)
    >>> target.weight
    Parameter containing:
    tensor([[0.1000, 0.1000]], requires_grad=True)

Your task: implement `soft_update(target, source, tau)`.
- For every pair of corresponding parameters: `p_t <- (1 - tau) * p_t + tau * p_s`, in place.
- Target parameters stay the same objects, leaves with `grad_fn` None, their `requires_grad`
  flags (and `.grad`) unchanged; their version counters increase (no `.data`).
- Buffers of the target are untouched, for every tau (also tau == 1, where the parameters
  become copies of the source's: still no `load_state_dict`); the source is untouched.
- Build no graph. Return nothing.
"""

import torch
from torch import nn


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Move every parameter of `target` a fraction `tau` of the way towards `source`'s, in place."""
    with torch.no_grad():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            p_t.mul_(1 - tau)
            p_t.add_(p_s, alpha=tau)
