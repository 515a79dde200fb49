"""Switching grad mode off for everybody and never back on (and a no_grad view: still requires grad)."""
EXPECT = "left gradient tracking switched off"
MISTAKE = "any.grad_mode_left_off"

import torch


def stop_gradient(t):
    torch.set_grad_enabled(False)
    return t.view_as(t)
