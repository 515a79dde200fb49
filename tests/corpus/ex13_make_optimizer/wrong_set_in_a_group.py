"""Removes duplicates with a set inside a parameter group, which Adam refuses."""
EXPECT = "Adam refuses a set of parameters in a group"
MISTAKE = "ex13.set_of_parameters"

import torch


def make_optimizer(model, lr):
    trainable = {p for p in model.parameters() if p.requires_grad}
    return torch.optim.Adam([{"params": trainable, "lr": lr}])
