"""Returning t inside torch.no_grad(): no_grad changes nothing about an existing tensor."""
EXPECT = "`torch.no_grad()` only affects the operations run inside the block"
MISTAKE = "ex07.history_kept"

import torch


def cut_history_(t):
    with torch.no_grad():
        return t
