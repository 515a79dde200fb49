"""Computes the score from model.forward(inputs): the hooks registered on the model are skipped."""
EXPECT = "calling `model.forward(...)` runs the layers but skips the hooks"
MISTAKE = "ex20.forward_skips_hooks"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model.forward(inputs).max(dim=1).values.sum()
        (grad,) = torch.autograd.grad(score, inputs)
    return grad.abs()
