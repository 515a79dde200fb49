"""score.backward(), then model.zero_grad() to "clean up": the caller's own gradients are lost."""
EXPECT = "cleared the caller's gradients"
MISTAKE = "ex20.clears_parameter_grads"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.sum()
        score.backward()
    model.zero_grad()
    return inputs.grad.abs()
