"""Frozen parameters kept in a second group at lr=0 instead of left out."""
EXPECT = "the optimizer holds frozen parameters"
MISTAKE = "ex13.frozen_at_lr_zero"

import torch


def make_optimizer(model, lr):
    trainable = [p for p in model.parameters() if p.requires_grad]
    frozen = [p for p in model.parameters() if not p.requires_grad]
    groups = [{"params": trainable, "lr": lr}]
    if frozen:
        groups.append({"params": frozen, "lr": 0.0})
    return torch.optim.Adam(groups)
