"""Replaces each parameter with a new nn.Parameter holding the blend."""
EXPECT = "were replaced by new objects"
MISTAKE = "ex19.new_parameters"

import torch
from torch import nn


def soft_update(target, source, tau):
    with torch.no_grad():
        for (name, p_t), p_s in zip(list(target.named_parameters()), source.parameters()):
            owner_name, _, attr = name.rpartition(".")
            owner = target.get_submodule(owner_name)
            setattr(owner, attr, nn.Parameter((1 - tau) * p_t + tau * p_s, requires_grad=p_t.requires_grad))
