"""Replaces each matching parameter with a new frozen nn.Parameter: the optimizer still holds the old one."""
EXPECT = "was replaced by a new object"
MISTAKE = "ex09.replaces_parameters"

from torch import nn


def freeze_by_prefix(model, prefixes):
    prefixes = list(prefixes)
    names = []
    for name, p in list(model.named_parameters()):
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            owner_name, _, leaf = name.rpartition(".")
            owner = model.get_submodule(owner_name)
            setattr(owner, leaf, nn.Parameter(p.detach().clone(), requires_grad=False))
            names.append(name)
    return sorted(names)
