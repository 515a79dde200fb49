"""Exercise 11 — unfreezing a whole model: requires_grad_(True) on every parameter, and nothing else

After fine-tuning only a new head on a frozen body, a common next step is to unfreeze
everything and train the whole network at a small learning rate. Unfreezing means
switching tracking back on for every parameter: `p.requires_grad_(True)`.

    >>> model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    >>> _ = model[0].requires_grad_(False)    # freezes 0.weight and 0.bias
    >>> unfreeze_all(model)                   # two parameter tensors were frozen
    2
    >>> all(p.requires_grad for p in model.parameters())
    True

What to leave alone:

- Buffers. Batch norm keeps running statistics (`running_mean`, `running_var`,
  `num_batches_tracked`) in *buffers*: tensors saved with the model but never trained.
  They are updated by the forward pass itself, not by gradients, and must keep
  `requires_grad=False` (`num_batches_tracked` is an integer count, which cannot even
  require grad). `model.state_dict()` lists buffers next to the parameters, which makes it
  the wrong place to unfreeze from; `model.parameters()` gives parameters only.
- Module modes. Trainable (`requires_grad`) and training mode (`model.train()`) are two
  different things: the caller decides the mode, you only change the flags.

The number to return is how many parameter *tensors* were frozen before the call, so it
must be counted before you unfreeze anything (afterwards every parameter requires grad,
and the count is always 0). A weight shared by two modules (tied weights) is one tensor:
it counts once; `model.parameters()` gives each tensor once.

Your task: implement `unfreeze_all(model)`.
- Afterwards every parameter of the model requires grad; each stays the same object with
  the same values.
- Return the number of parameter tensors that were frozen (`requires_grad` False) before
  the call, each shared tensor once, as a Python int.
- Buffers keep their values, their objects and `requires_grad=False`; module modes and
  the parameters' `.grad` stay as they were.
"""

import torch
from torch import nn


def unfreeze_all(model: nn.Module) -> int:
    """Make every parameter trainable; return how many parameter tensors were frozen before."""
    raise NotImplementedError
