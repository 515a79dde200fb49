"""x.requires_grad_() on the caller's tensor: its flag stays switched on afterwards."""
EXPECT = "switched on `requires_grad` of the caller's `x`"
MISTAKE = "ex20.requires_grad_on_callers_x"

import torch


def saliency(model, x):
    x.requires_grad_()
    with torch.enable_grad():
        score = model(x).max(dim=1).values.sum()
        (grad,) = torch.autograd.grad(score, x)
    return grad.abs()
