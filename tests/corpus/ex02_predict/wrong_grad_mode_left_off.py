"""torch.set_grad_enabled(False) and never switched back."""
EXPECT = "left gradient tracking switched off"
MISTAKE = "any.grad_mode_left_off"

import torch


def predict(model, x):
    torch.set_grad_enabled(False)
    return model(x)
