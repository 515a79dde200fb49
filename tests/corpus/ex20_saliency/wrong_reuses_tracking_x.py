"""Reusing the caller's x when it already tracks gradients: backward accumulates into x.grad."""
EXPECT = "the caller's `x` got a `.grad`"
MISTAKE = "ex20.callers_x_gets_grad"

import torch


def saliency(model, x):
    inputs = x if x.requires_grad else x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.sum()
        score.backward(inputs=[inputs])
    return inputs.grad.abs()
