"""Exercise 03 — a manual SGD step: in-place updates inside torch.no_grad()

An optimizer step is just arithmetic on the parameters:

    p  <-  p - lr * p.grad

Two things make it subtle.

1. The update must change the caller's tensor, not make a new one. A parameter is a
   *leaf* tensor: the model and the optimizer hold references to that very object.

       p = p - lr * p.grad      # WRONG: builds a new tensor and rebinds the local name;
                                # the model's parameter never changes
       p -= lr * p.grad         # right: in place, same object, same memory

2. Autograd must not record the update. `p` requires grad, so PyTorch refuses an
   in-place change of it while gradients are being tracked:

       RuntimeError: a leaf Variable that requires grad is being used in an in-place operation.

   Inside `with torch.no_grad():` nothing is recorded, and the in-place update is
   allowed. The version counter `p._version` still goes up, so autograd can tell the
   tensor changed. (Writing through `p.data` would hide the change from autograd:
   don't.)

After the update, clear the gradient with `p.grad = None`, so the next backward starts
fresh instead of adding onto the old gradient.

    >>> w = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> (w * w).sum().backward()           # w.grad is [2., 4.]
    >>> sgd_step([w], lr=0.1)
    >>> w, w.grad, w.is_leaf
    (tensor([0.8000, 1.6000], requires_grad=True), None, True)

Your task: implement `sgd_step(params, lr)`.
- For every parameter that has a gradient: `p <- p - lr * p.grad`, in place, then
  `p.grad = None`.
- Parameters whose `.grad` is None are left exactly as they are.
- `params` may be a one-shot generator such as `model.parameters()`: go through it once.
- Returns nothing.
"""

from typing import Iterable

import torch
from torch import Tensor


def sgd_step(params: Iterable[Tensor], lr: float) -> None:
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * p.grad
            p.grad = None
