"""No torch.enable_grad(): under the caller's no_grad() the score has no graph."""
EXPECT = "switches recording back on inside the block"
MISTAKE = "ex20.no_enable_grad"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    score = model(inputs).max(dim=1).values.sum()
    (grad,) = torch.autograd.grad(score, inputs)
    return grad.abs()
