"""Exercise 02 — inference without a graph: torch.no_grad()

Every time a model runs while gradients are tracked, autograd builds a *graph*: for each
operation it records how to differentiate it, and saves the tensors it will need for that
(the inputs of every matrix product, the outputs of every activation...). That memory is
kept alive as long as the result is. For training this is the price of `backward()`; for a
prediction it is pure waste: no backward will ever come.

Inside `with torch.no_grad():` autograd records nothing. The model computes exactly the same
values, and the result is a plain tensor with no history:

    >>> model = nn.Linear(3, 2)
    >>> x = torch.randn(4, 3)
    >>> model(x).grad_fn                  # a graph was built (and its memory kept)
    <AddmmBackward0 object at ...>
    >>> with torch.no_grad():
    ...     out = model(x)
    >>> out.grad_fn, out.requires_grad    # nothing was recorded
    (None, False)

When the block ends, tracking is back to what it was, also if the model raised an error.

Typical mistakes:
- `model.eval()`: a different switch. Eval mode changes how some layers compute (dropout
  stops dropping, batch-norm uses its running statistics); it does not stop autograd at all.
  And it changes the caller's model: whether it is in train or eval mode is the caller's
  business, not predict's.
- `model(x).detach()`: the result has no history, but the graph was built (and its memory
  spent) before the detach. Too late.
- `torch.set_grad_enabled(False)` on its own line: switches tracking off for the whole
  program, until somebody switches it back. The `with` block restores it for you.
- freezing the parameters (`p.requires_grad_(False)`): changes the caller's model, and the
  graph is built anyway as soon as `x` itself requires grad.

Your task: implement `predict(model, x)`.
- Return `model(x)`: the same values the caller would get by calling the model in its
  current mode (train or eval, you don't change it).
- Build no graph: autograd saves nothing, and the result has `requires_grad=False`.
- Leave everything as you found it: grad mode (`torch.is_grad_enabled()`), the mode of the
  model and of every submodule, every parameter's `requires_grad` and `.grad`.
"""

import torch
from torch import Tensor, nn


def predict(model: nn.Module, x: Tensor) -> Tensor:
    """Return `model(x)` computed without building an autograd graph."""
    raise NotImplementedError
