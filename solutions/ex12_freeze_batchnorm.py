"""Exercise 12 — freezing batch norm: frozen parameters AND eval mode, for those layers only

A batch-norm layer normalizes its input with a mean and a variance, then scales and
shifts the result with two parameters (`weight` and `bias`, when `affine=True`). Which
mean and variance it uses depends on the layer's *mode*, not on `requires_grad`:

- in train mode (`layer.training` True) it uses the statistics of the current batch, and
  updates its *running statistics* (`running_mean`, `running_var`, `num_batches_tracked`:
  buffers, not parameters) at every forward pass;
- in eval mode it uses the running statistics and leaves them alone.

Running statistics are changed by the forward pass itself, without any gradient. So
freezing the parameters (`requires_grad = False`) does NOT stop them from moving: a
"frozen" pretrained batch-norm layer in train mode keeps overwriting the statistics it
learned on the big dataset with those of your small batches. Freezing batch norm takes
both steps:

    >>> bn = nn.BatchNorm1d(3)
    >>> for p in bn.parameters():
    ...     p.requires_grad = False          # weight and bias: no gradient, no optimizer step
    >>> _ = bn.eval()                        # use the running statistics, stop updating them
    >>> _ = bn(torch.randn(8, 3))
    >>> bn.num_batches_tracked               # still 0: nothing was updated
    tensor(0)

The typical mistake is `model.eval()`: it does put the batch-norm layers in eval mode,
but also every other module, so dropout stops dropping and the rest of the network no
longer trains as it should. Change the mode of the batch-norm layers only: every module
has its own `training` flag, and `module.eval()` sets it for that module and the modules
inside it. (When the training loop later calls `model.train()`, that switches the
batch-norm layers back to train mode too: call this function again after it.)

Which modules are batch-norm layers? Every one of them is an instance of the common base
class `torch.nn.modules.batchnorm._BatchNorm`: `nn.BatchNorm1d`, `nn.BatchNorm2d`,
`nn.BatchNorm3d`, `nn.SyncBatchNorm`, the lazy ones (`nn.LazyBatchNorm2d`, ...) and any
subclass someone wrote. Testing for `nn.BatchNorm1d` and `nn.BatchNorm2d` only, or
comparing class names as text, misses some of them (and a name test such as
`"BatchNorm" in type(m).__name__` also catches a container called `ConvBatchNormBlock`).
`isinstance(m, torch.nn.modules.batchnorm._BatchNorm)` finds exactly them. Other
normalization layers (`nn.LayerNorm`, `nn.GroupNorm`, `nn.InstanceNorm2d`) are not batch
norm: leave them alone. `model.modules()` gives every module of the model, nested ones
and the model itself included, each once.

Two special kinds of batch-norm layer:
- `affine=False`: no weight and no bias, so nothing to freeze; it still goes to eval mode
  and still counts.
- lazy layers (`nn.LazyBatchNorm1d()`) learn their size at their first forward pass. Until
  then their parameters are placeholders (`UninitializedParameter`) that refuse almost
  every operation, `p.requires_grad_(False)` and `layer.requires_grad_(False)` included
  (ValueError: "Attempted to use an uninitialized parameter"). Setting the attribute,
  `p.requires_grad = False`, works on placeholders and real parameters alike, and the
  flag survives when the placeholder becomes a real parameter.

Your task: implement `freeze_batchnorm(model)`.
- For every batch-norm layer of the model (every instance of `_BatchNorm`, at any depth,
  the model itself included): set `requires_grad` to False on each of its parameters
  (also on a lazy layer that has not run yet), and put the layer in eval mode.
- Every other module keeps its mode and every other parameter its `requires_grad`.
- Return the number of batch-norm layers, as a Python int (a layer used twice in the model
  counts once).
"""

import torch
from torch import nn


def freeze_batchnorm(model: nn.Module) -> int:
    """Freeze the parameters of every batch-norm layer and put it in eval mode; return how many there are."""
    count = 0
    for module in model.modules():  # every module once: nested ones and the model itself
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            for param in module.parameters():
                param.requires_grad = False  # the attribute also works on a lazy layer's placeholders
            module.eval()
            count += 1
    return count
