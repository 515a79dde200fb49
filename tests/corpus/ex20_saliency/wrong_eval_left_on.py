"""model.eval() for the analysis, never switched back: the caller's model stays in eval mode."""
EXPECT = "was in train mode and is now in eval mode"
MISTAKE = "ex20.model_changed"

import torch


def saliency(model, x):
    model.eval()
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.sum()
        (grad,) = torch.autograd.grad(score, inputs)
    return grad.abs()
