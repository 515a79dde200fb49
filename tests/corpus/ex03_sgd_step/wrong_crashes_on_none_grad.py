"""No check for a missing gradient: crashes on parameters whose .grad is None."""
EXPECT = "Skip them: `if p.grad is None: continue`"

import torch


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
