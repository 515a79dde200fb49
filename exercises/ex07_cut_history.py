"""Exercise 07 — cutting a tensor's history in place: detach_()

Every tensor computed from tensors that require grad remembers how it was made: its
`grad_fn` points into a graph that reaches back to the leaves. That graph (and the
intermediate results it saved) stays in memory as long as the tensor is alive. A hidden
state carried from step to step of a long sequence, a running statistic, a cache: such a
tensor would drag an ever longer history along, and a backward pass through it would go
all the way back.

`t.detach_()` (trailing underscore: in place) cuts the history *of `t` itself*: afterwards
`t` is a leaf that does not require grad, with the same values in the same memory, and it
returns `t`, so calls can be chained. Whoever holds `t` sees the change.

    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> h = x * 3
    >>> h.grad_fn, h.is_leaf
    (<MulBackward0 object at ...>, False)
    >>> h.detach_() is h
    True
    >>> h, h.grad_fn, h.requires_grad, h.is_leaf
    (tensor([3., 6.]), None, False, True)

Typical mistakes:

    return t.detach()         # a NEW tensor without history; the caller's t keeps its
                              # whole graph, and the memory it holds
    t.requires_grad_(False)   # allowed only for a leaf: on a computed tensor PyTorch refuses
                              # ("you can only change requires_grad flags of leaf variables")
    with torch.no_grad():     # no_grad only affects operations run inside the block;
        return t              # a tensor that already has a history keeps it

(`detach_()` also refuses a *view* of another tensor, such as `t[1:]`: a view cannot
leave the graph alone while its base stays in it. The checks give you no views.)

Your task: implement `cut_history_(t)`.
- Detach `t` from its graph in place and return `t` itself (the same object).
- Afterwards `t.grad_fn` is None, `t.requires_grad` is False and `t.is_leaf` is True.
- `t`'s values and memory are unchanged.
"""

import torch
from torch import Tensor


def cut_history_(t: Tensor) -> Tensor:
    """Detach `t` from its graph in place and return `t` itself."""
    raise NotImplementedError
