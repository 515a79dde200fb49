"""A shortcut for tau == 1 that copies the parameters only (not the buffers), in place."""

import torch


def soft_update(target, source, tau):
    with torch.no_grad():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            if tau == 1:
                p_t.copy_(p_s)
            else:
                p_t.mul_(1 - tau).add_(p_s, alpha=tau)
