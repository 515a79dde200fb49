"""detach() inside torch.no_grad(): the block is unnecessary but harmless."""
import torch


def stop_gradient(t):
    with torch.no_grad():
        return t.detach()
