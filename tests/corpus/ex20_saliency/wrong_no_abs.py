"""Forgetting the absolute value: the signed gradient is returned."""
EXPECT = "take `.abs()` of the gradient"
MISTAKE = "ex20.no_abs"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.sum()
        (grad,) = torch.autograd.grad(score, inputs)
    return grad
