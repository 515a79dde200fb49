"""A view made under torch.no_grad(): it keeps requires_grad=True and may not be modified in place later."""
EXPECT = "taken under `torch.no_grad()`"

import torch


def stop_gradient(t):
    with torch.no_grad():
        return t.view_as(t)
