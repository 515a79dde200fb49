"""Calls zero_grad() while building: the caller's gradients are wiped."""
EXPECT = "make_optimizer changed the model"
MISTAKE = "ex13.model_changed"

import torch


def make_optimizer(model, lr):
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    opt.zero_grad()
    return opt
