"""Exercise 13 — an optimizer over what trains: hand Adam the trainable parameters only

An optimizer (`torch.optim.SGD`, `torch.optim.Adam`, ...) is built from the tensors it may
change and its settings, such as the learning rate `lr`:

    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    >>> opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    >>> opt.param_groups[0]["lr"], len(opt.param_groups[0]["params"])
    (0.001, 4)

It keeps them in `opt.param_groups`: a list of groups, each a dict holding a list of
parameters (`"params"`) and the settings for them (`"lr"`, ...). `opt.step()` updates
every parameter of every group that has a `.grad`, and `opt.zero_grad()` clears them.

The optimizer never looks at `requires_grad`. A frozen parameter (`requires_grad=False`)
gets no new gradient, but it may still hold an old one: a parameter frozen after a
backward keeps its stale `.grad`, and `step()` then goes on moving it with that gradient,
step after step. "Frozen" only means frozen if the optimizer does not hold it at all:

    opt = torch.optim.Adam(model.parameters(), lr=lr)    # WRONG: frozen ones included
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)

Leaving them out also saves memory: Adam keeps two extra tensors (its running averages)
for every parameter it holds.

Four more traps:
- A parameter must be handed over once. A weight shared by two modules (tied weights) is
  one tensor: `model.parameters()` gives it once, `named_parameters(remove_duplicate=False)`
  twice (Adam then updates it twice per step).
- A generator such as `(p for p in ... if p.requires_grad)` can be gone through only once:
  if you count or print it first, the optimizer gets nothing ("optimizer got an empty
  parameter list"). Make a list when you need it twice.
- Without `lr=...`, Adam trains at its default learning rate, 0.001.
- The order counts: a saved optimizer state (`opt.state_dict()`) is matched to the
  parameters by position when it is loaded back. A `set` of parameters has an order of its
  own, different from one run to the next, so a checkpoint's running averages would land on
  the wrong parameters. Keep the model's order (a list, not a set).

Your task: implement `make_optimizer(model, lr)`.
- Return a `torch.optim.Adam` (Adam's other settings left at their defaults) whose
  parameter groups hold exactly the trainable parameters of the model (`requires_grad`
  True), each once, at learning rate `lr`, in the order `model.parameters()` gives them.
- Change nothing in the model: flags, modes, values and `.grad` stay as they are (the
  optimizer is built, not stepped).
"""

import torch
from torch import nn


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Adam:
    """Adam over the model's trainable parameters, each once, at learning rate `lr`."""
    raise NotImplementedError
