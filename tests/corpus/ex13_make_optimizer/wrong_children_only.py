"""Collects the parameters of the model's children: those the model holds itself are left out."""
EXPECT = "`model.children()` (or a loop over submodules) never reaches them"
MISTAKE = "ex13.own_parameters_missing"

import torch


def make_optimizer(model, lr):
    params = [p for child in model.children() for p in child.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=lr)
