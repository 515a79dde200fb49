"""Exercise 16 — gradient clipping, and norms for the training log

A training step that meets an unusually steep part of the loss gets huge gradients, and one
huge step can wreck a model. *Gradient clipping* caps the size of the step: after the backward
and before the optimizer's step, if the gradients together are longer than `max_norm`, they are
all scaled down by the same factor so that together they have length `max_norm`.

"Together" means: put every entry of every gradient into one long vector and take its L2
norm (square root of the sum of squares). For two gradients `g1` and `g2`:

    total = sqrt(||g1||^2 + ||g2||^2)          # NOT ||g1|| + ||g2||

If `total > max_norm`, every gradient is multiplied by `max_norm / total` (PyTorch adds 1e-6 to
the denominator to avoid dividing by zero); the direction of the step is kept, only its length
shrinks. If `total <= max_norm`, nothing changes. Parameters without a gradient (`p.grad is
None`: they took no part in the loss) are skipped.

PyTorch does all of this in one call, which changes the gradients in place and returns the
total norm measured BEFORE clipping, as a 0-dim tensor:

    >>> model = nn.Linear(3, 2)
    >>> (model(torch.randn(8, 3)) * 100).pow(2).mean().backward()
    >>> total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> total                                 # the norm before clipping
    tensor(152.3160)
    >>> torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # measured again: clipped
    tensor(1.0000)

Both norms are worth logging: the gradient norm shows exploding gradients (log it BEFORE
clipping: afterwards it is just `max_norm` every time), the norm of the weights shows them
growing or collapsing. Logged numbers are Python floats (`.item()`), not tensors.

The typical mistake is computing the weight norm as an ordinary expression:

    sum(p.pow(2).sum() for p in model.parameters()).sqrt()     # WRONG outside no_grad

The parameters require grad, so autograd records every operation and saves tensors for a
backward pass that never comes. Compute norms for logging inside `with torch.no_grad():`.

Your task: implement `clip_and_log(model, max_norm)`, called after `loss.backward()`.
- Clip the gradients in place so that their total L2 norm is at most `max_norm` (scale them all
  by `max_norm / (total + 1e-6)` when `total > max_norm`; otherwise leave them as they are).
  In place means each `p.grad` stays the same tensor object, its values changed
  (`p.grad.mul_(factor)`); `p.grad = p.grad * factor` puts a new tensor there instead, and
  whoever holds the old one (a hook, a gradient bucket, a logger) no longer sees the gradient.
- Return `{"grad_norm": ..., "weight_norm": ...}`, both Python floats:
  - "grad_norm": the total L2 norm of the gradients BEFORE clipping (parameters without a
    gradient are skipped);
  - "weight_norm": the total L2 norm of all parameters (all their entries together, also of
    parameters without a gradient, and of 0-dim ones; buffers such as batch norm's running
    statistics are not parameters: `model.state_dict()` lists them too, `model.parameters()`
    does not).
- Build no graph; leave the parameters' values and `requires_grad` flags, and the grad mode,
  as they were.
"""

import torch
from torch import nn


def clip_and_log(model: nn.Module, max_norm: float) -> dict[str, float]:
    """Clip the gradients of `model` to total norm `max_norm`; return the norms for the log."""
    raise NotImplementedError
