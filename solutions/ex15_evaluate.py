"""Exercise 15 — a validation loop: eval mode, no graph, and the caller's modes restored

Checking a model on validation data in the middle of training takes two different switches,
and a bit of bookkeeping.

1. `torch.no_grad()`: nobody will call `backward()` on a validation loss, so autograd must not
   record anything. Without it every batch builds a graph and keeps its saved tensors alive.

2. Eval mode (`model.eval()`): some layers compute differently while training. Dropout zeroes
   random activations, batch-norm normalizes with the statistics of the current batch (and
   updates its running statistics). For a validation loss you want the deterministic eval
   behaviour. `model.eval()` switches the model and every submodule: it sets each module's
   `training` flag to False.

3. The mode is the caller's: the training loop calls `evaluate` between two training steps and
   expects its model back exactly as it gave it. Remember the flag of EVERY module before you
   switch, and put each one back afterwards:

       modes = {m: m.training for m in model.modules()}
       ...
       for m, was_training in modes.items():
           m.training = was_training

   Why not just `was_training = model.training` and `model.train(was_training)`? Because
   `model.train(flag)` sets the flag of every submodule, not just of the model. A caller that
   froze its batch-norm layers keeps them in eval mode inside a model that is in train mode;
   `model.train(True)` would silently switch them back to train mode. And never call
   `model.train()` unconditionally: a caller that was in eval mode would get a model in
   train mode back.

   Modules can be nested at any depth (a block inside a block inside the model): go through
   `model.modules()`, not only `model.children()`, and set each flag by itself. Don't restore
   with `child.train(flag)` either: like `model.train(flag)`, it sets every module below too.

   Restore the modes in a `finally:` block, so that they come back also when something in the
   loop raises (a bad batch, a shape mismatch in the loss): the exception still reaches the
   caller, and the model is not left in eval mode behind its back.

4. The mean over samples: `loss_fn` returns the MEAN loss of a batch. Batches can have
   different sizes (the last one is usually smaller), so the mean of the batch means is not the
   mean over all samples. Weight each batch mean by the batch size:

       mean over samples = sum(batch_mean * batch_size) / total number of samples

    >>> model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 1))   # in train mode
    >>> batches = [(torch.randn(4, 3), torch.randn(4, 1)), (torch.randn(1, 3), torch.randn(1, 1))]
    >>> evaluate(model, batches, nn.functional.mse_loss)       # (4 * mean_1 + 1 * mean_2) / 5
    0.8231...
    >>> model.training                                         # back in train mode
    True

`batches` may be a one-shot generator (a DataLoader, `zip(...)`, a generator expression):
go through it once. Return a Python float (`.item()`), not a tensor: a number for logging.

Your task: implement `evaluate(model, batches, loss_fn)`.
- For every `(x, y)` in `batches`, compute `loss_fn(model(x), y)` (a batch mean) with every
  module of the model in eval mode and without building a graph, in the model's own dtype
  (no autocast). Run the caller's model itself, not a copy (`copy.deepcopy(model)` holds a
  second set of weights in memory for nothing, and what the caller attached to its model,
  such as a forward hook, sees nothing of the evaluation).
- Return the mean loss per sample over all batches (each batch mean weighted by its size), as
  a Python float.
- Afterwards every module of the model is in the mode it was in before (train stays train,
  eval stays eval, module by module), also when `loss_fn` raises; the exception propagates.
- Grad mode, the parameters' `requires_grad` and `.grad` are unchanged.
"""

from typing import Callable, Iterable

import torch
from torch import Tensor, nn


def evaluate(
    model: nn.Module,
    batches: Iterable[tuple[Tensor, Tensor]],
    loss_fn: Callable[[Tensor, Tensor], Tensor],
) -> float:
    """Mean per-sample loss of `model` over `batches`, in eval mode, without a graph."""
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in batches:
                n = len(x)
                total += loss_fn(model(x), y).item() * n
                count += n
        return total / count
    finally:
        for module, was_training in modes.items():
            module.training = was_training
