"""Gradient ascent: adds lr * grad instead of subtracting it."""
EXPECT = "holds the wrong values"
MISTAKE = "ex03.wrong_update"

import torch


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p += lr * p.grad
                p.grad = None
