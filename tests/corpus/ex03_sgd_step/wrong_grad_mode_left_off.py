"""torch.set_grad_enabled(False) and never switched back."""
EXPECT = "left gradient tracking switched off"
MISTAKE = "any.grad_mode_left_off"

import torch


def sgd_step(params, lr):
    torch.set_grad_enabled(False)
    for p in params:
        if p.grad is not None:
            p -= lr * p.grad
            p.grad = None
