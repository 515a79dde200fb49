"""Switches tracking off, then unconditionally on: breaks a caller inside no_grad."""
EXPECT = "left gradient tracking switched on"
MISTAKE = "any.grad_mode_left_on"

import torch


def predict(model, x):
    torch.set_grad_enabled(False)
    out = model(x)
    torch.set_grad_enabled(True)
    return out
