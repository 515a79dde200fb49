"""Exercise 01 — turning gradient tracking on, in place: requires_grad_()

Autograd only follows tensors that ask for it. A tensor's `requires_grad` flag says whether
autograd should record what is computed from it, so that `backward()` can later fill its
`.grad`. Tensors you create yourself start with the flag off:

    >>> w = torch.tensor([1.0, 2.0])
    >>> w.requires_grad, w.is_leaf
    (False, True)

Methods whose name ends in an underscore work *in place*: they change the tensor you call
them on and return that very tensor. `w.requires_grad_()` switches tracking on for `w`
itself, with its values and its memory untouched:

    >>> same = w.requires_grad_()
    >>> same is w, w.requires_grad, w.is_leaf
    (True, True, True)
    >>> (w * w).sum().backward()
    >>> w.grad
    tensor([2., 4.])

`w` is still a *leaf*: a tensor made by you, not computed by autograd from other tensors.
Leaves are where gradients are stored (`w.grad`), which is exactly what you want of a weight.

The typical mistake is to make a *new* tensor that tracks gradients and leave the caller's
tensor as it was:

    torch.tensor(w, requires_grad=True)   # a copy: new object, new memory
    w.clone().requires_grad_()            # a copy too: new object, new memory
    w.detach().requires_grad_()           # a new object sharing w's memory
    nn.Parameter(w)                       # a new object as well

Whoever holds `w` (a model, an optimizer, the caller) still holds the old, untracked tensor:
backward() will never fill *its* `.grad`. Another trap: `w.requires_grad_` without the
parentheses only names the method and does nothing; `w.requires_grad(True)` fails, because
`requires_grad` (no underscore) is the flag itself, a plain bool.

Your task: implement `enable_tracking(t)`.
- Switch gradient tracking on for `t` itself, in place, and return `t` (the same object).
- `t` stays a leaf with the same values, dtype and memory.
- A tensor that already tracks gradients is returned unchanged, without an error.
- `t.grad` is left as it is: None stays None (backward() fills it later; don't pre-fill it
  with zeros), and a `.grad` already there stays, the same object with the same values.
- `t` may have any floating-point dtype and shape (a single number, size-1 dimensions), be a
  view of another tensor or not contiguous, and live on any device: only its flag changes.
"""

import torch
from torch import Tensor


def enable_tracking(t: Tensor) -> Tensor:
    """Turn on gradient tracking for the floating-point tensor `t` in place; return `t` itself."""
    t.requires_grad_(True)
    return t
