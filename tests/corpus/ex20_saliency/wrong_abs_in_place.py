"""Takes the absolute value of the gradient in place, `grad.abs_()`: autograd may hand back a gradient
whose entries share memory (an expanded tensor, for a model that sums its input), which cannot be
written to."""
EXPECT = "Never modify a gradient autograd gives you in place"
MISTAKE = "ex20.gradient_changed_in_place"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.sum()
        (grad,) = torch.autograd.grad(score, inputs)
    return grad.abs_()
