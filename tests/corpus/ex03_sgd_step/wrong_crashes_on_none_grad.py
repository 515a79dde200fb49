"""No check for a missing gradient: crashes on parameters whose .grad is None."""
EXPECT = "Skip them: `if p.grad is None: continue`"
MISTAKE = "ex03.none_grad_not_skipped"

import torch


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
