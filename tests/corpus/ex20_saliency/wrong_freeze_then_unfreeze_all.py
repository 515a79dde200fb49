"""Freezing every parameter so backward fills only x's gradient, then unfreezing them all:
parameters the caller had frozen come back trainable."""
EXPECT = "had requires_grad=False and now has requires_grad=True"
MISTAKE = "ex20.model_changed"

import torch


def saliency(model, x):
    model.requires_grad_(False)
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.sum()
        score.backward()
    model.requires_grad_(True)
    return inputs.grad.abs()
