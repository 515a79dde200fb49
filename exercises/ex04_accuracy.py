"""Exercise 04 — a metric as a plain number: no_grad() and .item()

A classifier outputs one score per class for every row of its input: `model(x)` has shape
`(rows, classes)`. Its prediction for a row is the class with the largest score,
`model(x).argmax(dim=1)` (dim=1: along the classes, one answer per row). Accuracy is the
fraction of rows where that prediction equals the label in `y`.

A metric is for logging and for comparing, never for a backward pass. So:

1. Compute it inside `with torch.no_grad():`. Otherwise autograd records the whole forward
   pass and keeps its tensors in memory, for a backward that never comes.

2. Return a plain Python number. `(pred == y)` is a tensor of booleans; `.sum()` or
   `.float().mean()` on it is still a *tensor* with zero dimensions. `.item()` turns a
   one-element tensor into a Python `int` or `float`:

       >>> scores = torch.tensor([[0.1, 2.0, -1.0],    # 3 rows, 3 classes
       ...                        [3.0, 0.0, 0.5],
       ...                        [0.2, 0.1, 0.9]])
       >>> y = torch.tensor([1, 2, 2])
       >>> scores.argmax(dim=1)                   # the predicted class of each row
       tensor([1, 0, 2])
       >>> (scores.argmax(dim=1) == y).sum()      # still a tensor
       tensor(2)
       >>> correct = (scores.argmax(dim=1) == y).sum().item()
       >>> correct, correct / len(y)              # Python numbers
       (2, 0.6666666666666666)

   A tensor kept "just for logging" keeps its memory (and its device) alive, and appending
   it to a list every step slowly fills the memory.

Typical mistakes:
- `correct // len(y)`: integer division, which gives 0 unless every row is right. Divide
  with `/`.
- `(pred == y).mean()`: fails, a mean of booleans is not defined; convert first with
  `.float()`.
- `argmax(dim=0)` or `argmax()` without a dim: the best *row* per class, or one index into the
  flattened scores: not one prediction per row.
- calling `model.eval()` and leaving it there: the caller's model would silently stop using
  dropout in its training loop. Leave the mode (of the model and of every submodule), grad mode
  and the parameters' `requires_grad` and `.grad` as you found them.

Your task: implement `accuracy(model, x, y)`.
- Return the fraction of rows where `model(x).argmax(dim=1) == y`, as a Python float in [0, 1].
- Build no graph: autograd saves nothing while it runs.
- Leave grad mode, the model's (and submodules') modes and the parameters as they were.
"""

import torch
from torch import Tensor, nn


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Fraction of rows of `x` whose predicted class (argmax over dim 1) equals `y`, as a Python float."""
    raise NotImplementedError
