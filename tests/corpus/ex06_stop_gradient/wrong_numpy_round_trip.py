"""A round trip through numpy: shares memory, but has its own version counter."""
EXPECT = "did not increase t._version"
MISTAKE = "ex06.version_not_shared"

import torch


def stop_gradient(t):
    return torch.from_numpy(t.detach().numpy())
