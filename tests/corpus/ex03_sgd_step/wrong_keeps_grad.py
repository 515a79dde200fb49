"""Forgetting to clear the gradient."""
EXPECT = "still has its gradient after sgd_step"
NOT_EXPECT = "A generator can be iterated only once"
MISTAKE = "ex03.grad_kept"

import torch


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
