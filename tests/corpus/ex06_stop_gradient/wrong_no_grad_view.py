"""A view made under torch.no_grad(): it keeps requires_grad=True and may not be modified in place later."""
EXPECT = "taken under `torch.no_grad()`"
MISTAKE = "ex06.no_grad_view"

import torch


def stop_gradient(t):
    with torch.no_grad():
        return t.view_as(t)
