"""Arguments mixed up: the source is moved towards the target."""
EXPECT = "the update went into the wrong network"
MISTAKE = "ex19.updates_source"

import torch


def soft_update(target, source, tau):
    with torch.no_grad():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            p_s.mul_(1 - tau).add_(p_t, alpha=tau)
