"""Zeroing the gradient instead of clearing it."""
EXPECT = "zeroed (filled with 0) instead of cleared"
NOT_EXPECT = "A generator can be iterated only once"
MISTAKE = "ex03.grad_zeroed"

import torch


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
                p.grad.zero_()
