"""Exercise 14 — fine-tuning with two learning rates: parameter groups

When you fine-tune a pretrained network, the new head starts from random weights and
needs a large learning rate, while the pretrained body should move only a little. One
optimizer can do both: instead of a list of parameters, give it a list of *parameter
groups*, dicts with their own `"params"` and their own settings:

    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> opt = torch.optim.Adam([
    ...     {"params": [model[2].weight, model[2].bias], "lr": 1e-2},   # the head
    ...     {"params": [model[0].weight, model[0].bias], "lr": 1e-4},   # the body
    ... ])
    >>> [group["lr"] for group in opt.param_groups]
    [0.01, 0.0001]

Which parameters are in the head? Those whose qualified name (from
`model.named_parameters()`, such as `"2.weight"` or `"head.fc.bias"`) lies inside the
submodule named `head`: the name starts with `head` followed by a dot. Text alone is not
enough: with eleven layers or more in an `nn.Sequential`, `"10.weight".startswith("1")`
is True, yet layer 10 is not inside layer 1. The dot is the boundary (see ex09).

Rules of the groups:
- Frozen parameters (`requires_grad=False`) go in no group: a parameter frozen after a
  backward keeps its stale `.grad`, and the optimizer would keep moving it (see ex13).
- A parameter goes in exactly one group. Putting one in both makes Adam refuse: "some
  parameters appear in more than one parameter group". So the body is "every trainable
  parameter that is not in the head", not "every trainable parameter".
- A group with nothing in it is left out: when the whole head is frozen there is only the
  body's group, and when everything trainable is in the head only the head's group. Adam
  accepts an empty group without complaint, but a learning-rate schedule or a log of
  `opt.param_groups` then reports a group that trains nothing.

Your task: implement `finetune_optimizer(model, head, head_lr, body_lr)`.
- `head` is the qualified name of a submodule of the model (what `model.get_submodule(head)`
  finds, such as "head" or "blocks.1"), never of a single parameter.
- Return a `torch.optim.Adam` (other settings at their defaults) with one parameter group
  at `lr=head_lr` holding the trainable parameters inside submodule `head` (qualified name
  starting with `head + "."`), and one at `lr=body_lr` holding every other trainable
  parameter (the model's own parameters, held by no submodule, included).
- Frozen parameters are in no group; each trainable parameter is in exactly one group,
  once; a group that would be empty is omitted (the order of the groups is free).
- Change nothing in the model (flags, modes, values, `.grad`).
"""

import torch
from torch import nn


def finetune_optimizer(model: nn.Module, head: str, head_lr: float, body_lr: float) -> torch.optim.Adam:
    """Adam with the trainable parameters of submodule `head` at head_lr, the other trainable ones at body_lr."""
    raise NotImplementedError
