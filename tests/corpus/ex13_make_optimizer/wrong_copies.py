"""Hands Adam detached copies of the parameters: stepping them never changes the model."""
EXPECT = "that is not one of the model's parameters"
MISTAKE = "ex13.copies"

import torch


def make_optimizer(model, lr):
    copies = [p.detach().clone().requires_grad_() for p in model.parameters() if p.requires_grad]
    return torch.optim.Adam(copies, lr=lr)
