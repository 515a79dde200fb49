"""Exercise 06 — stopping the gradient without a copy: detach()

Sometimes a value must enter a computation as a *constant*: autograd should use its
numbers but not send gradients back through it (a target that must not move, a
normalising factor, a value you only want to log). `t.detach()` gives exactly that:

- a new tensor object, with `requires_grad=False` and no `grad_fn`, so nothing computed
  from it leads back into `t`'s graph;
- sharing `t`'s memory: no copy, however large `t` is;
- `t` itself is untouched: it keeps its graph, and backward through it still works.

    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x * x                         # y = x², part of the graph
    >>> c = y.detach()                    # same numbers, a constant for autograd
    >>> c.requires_grad, c.grad_fn, y.grad_fn is not None
    (False, None, True)
    >>> (c * x).sum().backward()          # d/dx (c * x) = c: no path through c back to x
    >>> x.grad
    tensor([1., 4.])

The detached tensor also shares `t`'s *version counter*: every in-place change through it
increases `t._version`. Autograd uses that counter to notice when a tensor it saved for
the backward pass was modified afterwards, and refuses to compute a wrong gradient:

    >>> e = x.exp()                       # exp saves its result e for the backward pass
    >>> e.detach().zero_()                # e._version goes from 0 to 1
    >>> e.sum().backward()
    RuntimeError: one of the variables needed for gradient computation has been modified by an inplace operation ...

Typical mistakes:

    t.detach_()             # trailing underscore: detaches the caller's t itself, whose
                            # graph is then gone
    t.clone().detach()      # a copy: twice the memory, and changes no longer reach t
    t.data                  # shares memory, but NOT the version counter: an in-place change
                            # through it is invisible to autograd, and the same backward as
                            # above silently returns a wrong gradient
    t                       # still tracked: gradients flow through it
    with torch.no_grad():   # a *view* made under no_grad of a tensor that requires grad
        t.view_as(t)        # still reports requires_grad=True, and may not be modified in
                            # place later

Your task: implement `stop_gradient(t)`.
- Return a new tensor object (not `t`) with `t`'s values, shape and dtype, sharing `t`'s
  memory, on `t`'s device: no copy, neither to the CPU (`.cpu()` copies a GPU tensor) nor
  into contiguous memory (`.contiguous()` copies a transposed one), whatever `t`'s shape
  (size-1 dimensions stay) and layout.
- The result has `requires_grad=False` and `grad_fn=None`.
- `t` keeps its graph: same `requires_grad`, same `grad_fn`.
- An in-place change through the result must increase `t._version`, so autograd can
  still detect misuse.
"""

import torch
from torch import Tensor


def stop_gradient(t: Tensor) -> Tensor:
    """Return `t`'s values as a new tensor that autograd does not track, sharing `t`'s memory."""
    raise NotImplementedError
