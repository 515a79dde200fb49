"""torch.set_grad_enabled(True) called as a function: the caller's no_grad() is switched off for good."""
EXPECT = "left gradient tracking switched on"
MISTAKE = "ex20.grad_mode_not_restored"

import torch


def saliency(model, x):
    torch.set_grad_enabled(True)
    inputs = x.detach().requires_grad_()
    score = model(inputs).max(dim=1).values.sum()
    (grad,) = torch.autograd.grad(score, inputs)
    return grad.abs()
