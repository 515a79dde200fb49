"""score.backward(): the gradient reaches x, but also every parameter's .grad."""
EXPECT = "accumulates into the `.grad` of every parameter"
MISTAKE = "ex20.fills_parameter_grads"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.sum()
        score.backward()
    return inputs.grad.abs()
