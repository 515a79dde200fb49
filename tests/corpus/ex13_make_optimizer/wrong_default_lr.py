"""lr forgotten: Adam trains at its default learning rate, 0.001."""
EXPECT = "That is Adam's default: pass `lr=lr`"
MISTAKE = "ex13.default_lr"

import torch


def make_optimizer(model, lr):
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
