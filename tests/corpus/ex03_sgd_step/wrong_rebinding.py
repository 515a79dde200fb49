"""Rebinding the loop variable: the caller's tensors never change."""
EXPECT = "only rebinds your loop variable"
MISTAKE = "ex03.rebinding"

import torch


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p = p - lr * p.grad
