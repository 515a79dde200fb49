"""Exercise 18 — a frozen layer in the middle: freeze it, don't cut the graph

Freezing a module means: its parameters get no gradient, so no optimizer moves them.
There are two ways to keep gradients away from a module, and they are NOT the same when
the module sits in the middle of a network:

1. Freeze its parameters: `p.requires_grad_(False)` for each of them. Autograd no longer
   computes a gradient *for the parameters*, but the module still computes its output as a
   function of its input, and that is recorded: gradients flow THROUGH the module, back to
   the layers before it.

2. Cut the graph: run the module under `torch.no_grad()`, or `.detach()` its output. Its
   output is then a constant for autograd, with no link to its input: gradients stop there,
   and everything BEFORE the module gets nothing either.

    first -> middle -> last

    frozen middle:        last gets grads, middle none, first gets grads   (what we want)
    no_grad / detach:     last gets grads, middle none, first NONE         (graph cut)

    >>> first, middle, last = nn.Linear(3, 4), nn.Linear(4, 4), nn.Linear(4, 2)
    >>> out = forward_frozen_middle(first, middle, last, torch.randn(5, 3))
    >>> out.sum().backward()
    >>> first.weight.grad is None, middle.weight.grad is None, last.weight.grad is None
    (False, True, False)
    >>> middle.weight.requires_grad                       # frozen, and stays frozen
    False

Typical mistakes:

    with torch.no_grad():                    # WRONG: middle's output has no history, the
        h = middle(first(x))                 # graph is cut and `first` learns nothing
    h = middle(first(x)).detach()            # WRONG for the same reason
    middle.eval()                            # WRONG: eval mode changes how dropout and
                                             # batch-norm compute; it freezes nothing
    for p in list(first.parameters()) + list(middle.parameters()):
        p.requires_grad_(False)              # WRONG: only middle is frozen

Your task: implement `forward_frozen_middle(first, middle, last, x)`.
- Freeze every parameter of `middle` (set `requires_grad` to False); they stay frozen after
  the call: freezing is this function's job.
- Return `last(middle(first(x)))`, computed so that after `out.sum().backward()` the
  parameters of `first` and `last` have gradients and those of `middle` have none.
- Don't change `first`'s or `last`'s `requires_grad` flags, any module's train/eval mode,
  or the grad mode.
"""

import torch
from torch import Tensor, nn


def forward_frozen_middle(first: nn.Module, middle: nn.Module, last: nn.Module, x: Tensor) -> Tensor:
    """Freeze `middle`'s parameters and return last(middle(first(x))) with the graph intact."""
    raise NotImplementedError
