"""The score sums every output instead of each row's largest one."""
EXPECT = "the gradient of the sum of ALL outputs"
MISTAKE = "ex20.sum_of_all_outputs"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).sum()
        (grad,) = torch.autograd.grad(score, inputs)
    return grad.abs()
