"""Exercise 09 — freezing parameters by name: requires_grad_(False) on part of a model

*Freezing* a parameter means: it keeps its values, but training no longer changes it.
Switch its tracking off with `p.requires_grad_(False)`. Autograd then computes no gradient
for it (its `.grad` is never filled), and an optimizer step leaves it alone. This is how you
fine-tune a pretrained network: freeze the body, train only the new head.

Every parameter of a model has a *qualified name*: the path of attribute names from the
model down to the tensor, joined with dots. `model.named_parameters()` yields
`(name, parameter)` pairs:

    >>> model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    >>> [name for name, p in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']

Nested modules give longer names, such as `encoder.layer1.weight`. A *prefix* names a
submodule (`"encoder"`, `"encoder.layer1"`, `"2"`) or one parameter (`"0.weight"`), and
matches everything inside it:

    >>> freeze_by_prefix(model, ["2"])
    ['2.bias', '2.weight']
    >>> [(name, p.requires_grad) for name, p in model.named_parameters()]
    [('0.weight', True), ('0.bias', True), ('2.weight', False), ('2.bias', False)]

The typical mistake is to compare text only: `name.startswith(prefix)`. In a Sequential
with eleven layers or more, prefix `"1"` then also matches `"10.weight"` and `"11.bias"`,
and `"encoder.layer1"` matches `"encoder.layer10.weight"`: you freeze layers you never
named. The dot is the boundary between names. A name matches a prefix when it *is* the
prefix (`"0.weight"` names that very parameter) or starts with the prefix followed by a
dot (`"1"` matches `"1.weight"`, not `"10.weight"`).

Two more traps:
- `prefixes` may be a generator, which can be gone through only once. If you loop over it
  inside your loop over the parameters, the first parameter uses it up and no other
  parameter can match. Make a list of it first.
- Change nothing else. A parameter that does not match keeps its flag: one that was frozen
  stays frozen, one that was trainable stays trainable. Don't "reset" the others with
  `requires_grad_(True)`, and don't replace parameters with new tensors: the optimizer and
  the rest of the code hold the original objects.

Your task: implement `freeze_by_prefix(model, prefixes)`.
- Freeze every parameter whose qualified name equals one of the prefixes or starts with
  that prefix followed by a dot. Parameters that were already frozen and match stay frozen
  and are reported too.
- Leave every other parameter exactly as it was; every parameter stays the same object
  with the same values.
- `prefixes` is any iterable of strings: a list, a one-shot generator, or empty (then
  nothing matches).
- Return the names of the matching parameters, sorted, each name once (even when several
  prefixes match it).
- A parameter's name is the one `model.named_parameters()` gives it. The model's own
  parameters (held by the model itself, not by a child module) have names without a dot,
  such as `"scale"`. A tied weight (one tensor held by two modules) has one name, the first
  module's: the second module's name for it (which only `named_parameters(remove_duplicate=
  False)` lists) matches no prefix and is never reported.
"""

from typing import Iterable

import torch
from torch import nn


def freeze_by_prefix(model: nn.Module, prefixes: Iterable[str]) -> list[str]:
    """Freeze the parameters named by `prefixes` (dot boundary); return their names, sorted, once each."""
    raise NotImplementedError
