"""Iterating the generator twice: the second pass (clearing grads) sees nothing."""
EXPECT = "A generator can be iterated only once"
MISTAKE = "ex03.two_passes"

import torch


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
    for p in params:
        p.grad = None
