"""Rebinding the loop variable: the target's parameters never change."""
EXPECT = "only rebinds your loop variable"
MISTAKE = "ex19.rebinding"

import torch


def soft_update(target, source, tau):
    with torch.no_grad():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            p_t = (1 - tau) * p_t + tau * p_s
