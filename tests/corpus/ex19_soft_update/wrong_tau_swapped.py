"""tau and 1 - tau swapped: the target jumps almost all the way to the source."""
EXPECT = "tau and 1 - tau are swapped"
MISTAKE = "ex19.tau_swapped"

import torch


def soft_update(target, source, tau):
    with torch.no_grad():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            p_t.mul_(tau).add_(p_s, alpha=1 - tau)
