"""Calls model.zero_grad() first: wipes gradients the caller accumulated."""
EXPECT = "accuracy changed gradients the caller had accumulated"
MISTAKE = "ex04.grads_cleared"

import torch


def accuracy(model, x, y):
    model.zero_grad()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()
