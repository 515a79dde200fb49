"""torch.set_grad_enabled(False) and never switched back."""
EXPECT = "left gradient tracking switched off"
MISTAKE = "any.grad_mode_left_off"

import torch


def accuracy(model, x, y):
    torch.set_grad_enabled(False)
    return (model(x).argmax(dim=1) == y).float().mean().item()
