"""Exercise 10 — counting parameters: trainable vs total, each tensor once

"How big is this model, and how much of it am I training?" is the first question after
freezing part of a network. The answer counts *numbers*, not tensors: a Linear(3, 2) layer
has a 2x3 weight and a bias of 2, so 6 + 2 = 8 parameters. `p.numel()` gives the number of
scalar elements of a tensor.

A parameter is *trainable* when `p.requires_grad` is True; frozen parameters still belong to
the model (they count in the total), but no gradient reaches them.

    >>> model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    >>> model[0].weight.requires_grad = False
    >>> count_parameters(model)          # 2x3 weight frozen; 2 + 2 + 1 trainable
    (5, 11)

Three things are easy to get wrong.

1. Elements, not tensors: `len(list(model.parameters()))` is 4 here, not 11.

2. Shared parameters count once. Language models often *tie* weights: the output layer
   uses the very same tensor as the embedding (`decoder.weight = embedding.weight`). It
   is one parameter, trained once, stored once. `model.parameters()` and
   `model.named_parameters()` give each tensor once; going module by module, or asking
   `named_parameters(remove_duplicate=False)`, sees it twice.

3. Buffers are not parameters. Batch norm keeps running statistics (`running_mean`,
   `running_var`, `num_batches_tracked`): they are saved with the model and appear in
   `model.state_dict()`, but they are not trained. Count from `model.parameters()`, not
   from the state dict.

Your task: implement `count_parameters(model)`.
- Return `(trainable, total)`: the number of scalar elements of the parameters that
  require grad, and of all parameters.
- A parameter shared by several modules counts once; buffers don't count.
- Both numbers are plain Python ints (not tensors, not numpy numbers).
- Change nothing in the model.
"""

import torch
from torch import nn


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) numbers of parameter elements; shared parameters once, buffers not at all."""
    params = list(model.parameters())  # each tensor once, shared ones included
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return trainable, total
