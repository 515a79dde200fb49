"""The score averages the rows' largest outputs instead of summing them."""
EXPECT = "not their mean"
MISTAKE = "ex20.mean_over_batch"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.mean()
        (grad,) = torch.autograd.grad(score, inputs)
    return grad.abs()
