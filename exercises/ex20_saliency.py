"""Exercise 20 — input saliency: a gradient you need even when the caller said no_grad

Which input values does a model's decision depend on most? Take the model's output, pick
one number that stands for its decision (here: the largest output of each row, the score
of the predicted class), and ask autograd how strongly that number reacts to each input
value: the gradient of the score with respect to the *input* `x`. Its absolute value is a
"saliency map": large where a small change of the input moves the decision a lot.

    score = sum over the rows b of  max_j model(x)[b, j]
    saliency = | d score / d x |            (same shape as x)

Summing the rows' scores is a trick, not a modelling choice: for a model that treats rows
independently, row b's score depends only on x[b], so ONE backward pass gives every row its
own gradient at once.

Three things make this harder than it looks.

1. The gradient is wanted for `x`, not for the parameters. The usual `score.backward()`
   accumulates into the `.grad` of every parameter the score depends on: the caller's
   model now holds gradients it never asked for (and if it already held some, for an
   optimizer step it is about to take, they are now wrong). Ask for the one gradient you
   need instead:

       (g,) = torch.autograd.grad(score, inputs)   # returns d score / d inputs, touches no .grad

   (`score.backward(inputs=[...])` also works: it accumulates only into the tensors listed.)

2. The caller's `x` is not yours to change. `x.requires_grad_()` switches tracking on for the
   caller's tensor, for good; and if `x` already tracks gradients, going back through it
   may reach whatever `x` was computed from. Make your own tracked stand-in instead:
   `x.detach()` is a new tensor over the same values, cut off from any history, and
   `.requires_grad_()` on it concerns nobody else.

3. The caller may be inside `with torch.no_grad():` (saliency is typically computed during
   evaluation). Then nothing is recorded, the score has no graph, and asking for its
   gradient fails with

       RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn

   `with torch.enable_grad():` is the opposite of `no_grad()`: it switches recording back on
   inside the block, and restores the caller's mode when the block ends.
   (`torch.inference_mode()` is a stronger switch that `enable_grad()` cannot undo; this
   exercise only asks for `no_grad()`.)

    >>> model = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     model.weight[:] = torch.tensor([[1.0, -3.0], [0.5, 0.5]])
    ...     model.bias[:] = 0.0
    ...     s = saliency(model, torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    >>> s      # row 0: output 0 wins (1.0 > 0.5); row 1: output 1 wins (0.5 > -3.0)
    tensor([[1.0000, 3.0000],
            [0.5000, 0.5000]])
    >>> model.weight.grad is None
    True

Finally, what you return is a plain result, not part of a computation: it must not carry a
graph (`requires_grad=False`, `grad_fn=None`). `torch.autograd.grad(..., create_graph=True)`
would record the gradient computation itself, for higher derivatives: not wanted here.

Your task: implement `saliency(model, x)`.
- Return `|d score / d x|` where `score` is the sum over the batch of each row's largest
  output of `model(x)`: a tensor of `x`'s shape, `requires_grad=False`, no `grad_fn`.
- It works whether or not the caller is inside `torch.no_grad()`, and leaves the grad mode
  as it found it.
- Every parameter's `.grad` stays as it was (None stays None, an existing gradient keeps
  its values); the model's modes and `requires_grad` flags stay as they were.
- The caller's `x` stays untouched: its values, its `requires_grad`, its `.grad`, and
  whatever it was computed from.
"""

import torch
from torch import Tensor, nn


def saliency(model: nn.Module, x: Tensor) -> Tensor:
    """|d score / d x|, score = sum over rows of each row's largest output; touches no .grad."""
    raise NotImplementedError
