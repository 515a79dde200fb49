"""Exercise 05 — a safe conversion to numpy: detach(), then cpu(), then numpy()

A numpy array is plain numbers in the computer's main memory. It knows nothing of
autograd and nothing of GPUs. A tensor can carry both, and `t.numpy()` refuses each:

1. A tensor that requires grad is part of a graph autograd records. An array cannot
   take part in that graph, so PyTorch refuses rather than silently drop the gradient:

       >>> w = torch.tensor([1.0, 2.0], requires_grad=True)
       >>> w.numpy()
       RuntimeError: Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.

   `w.detach()` is a new tensor with the same values *in the same memory*, outside the
   graph. `w` itself is not changed: it still requires grad and backward still works.

2. A tensor on a GPU lives in the GPU's memory, which numpy cannot read:

       >>> g.numpy()                     # g.device is cuda:0
       TypeError: can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.

   `g.cpu()` copies it into main memory. For a tensor already on the CPU, `.cpu()` costs
   nothing: it returns the very same tensor, no copy.

For a CPU tensor, `numpy()` makes no copy either: the array is a view of the tensor's
memory, with the same dtype and shape. Large tensors convert instantly, and writing into
the array writes into the tensor:

    >>> t = w * 3                        # tensor([3., 6.], grad_fn=<MulBackward0>)
    >>> a = t.detach().cpu().numpy()
    >>> a
    array([3., 6.], dtype=float32)
    >>> a[0] = 100.0
    >>> t
    tensor([100.,   6.], grad_fn=<MulBackward0>)

Typical mistakes:

    t.numpy()               # refused when t requires grad, and for a tensor on a GPU
    t.detach_().numpy()     # works, but the underscore means "in place": it detaches the
                            # caller's tensor itself, whose backward() then fails
    t.detach().numpy()      # fine on the CPU, refused for a tensor on a GPU
    np.array(t.tolist())    # goes through Python numbers: a slow copy, and float32 becomes
                            # float64

Detach first, then move: `t.cpu()` on a GPU tensor that requires grad would be recorded
by autograd as one more operation of the graph, for nothing.

Your task: implement `to_numpy(t)`.
- Return a numpy array with `t`'s values, shape and dtype, whatever `t` is: requiring
  grad or not, a leaf or the result of a computation, on the CPU or on another device.
- For a tensor on the CPU, the array shares memory with `t` (no copy).
- Leave `t` itself untouched: same `requires_grad`, same `grad_fn`, and a backward pass
  through `t` still works afterwards.
"""

import numpy as np
import torch
from torch import Tensor


def to_numpy(t: Tensor) -> np.ndarray:
    """Return `t`'s values as a numpy array (no copy for a CPU tensor); leave `t` untouched."""
    return t.detach().cpu().numpy()
