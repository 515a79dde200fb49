"""Restores the previous grad mode, but not when the model raises (no try/finally)."""
EXPECT = "when the model raised an error, predict left gradient tracking switched off"
MISTAKE = "ex02.grad_mode_not_restored_on_error"

import torch


def predict(model, x):
    previous = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    out = model(x)
    torch.set_grad_enabled(previous)
    return out
