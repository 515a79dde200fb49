"""create_graph=True: the returned map carries a graph."""
EXPECT = "the saliency map carries a graph"
MISTAKE = "ex20.create_graph"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max(dim=1).values.sum()
        (grad,) = torch.autograd.grad(score, inputs, create_graph=True)
        return grad.abs()
