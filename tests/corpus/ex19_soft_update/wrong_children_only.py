"""Pairs the networks' children and blends their parameters: a parameter the network holds
itself (a 0-dim temperature) belongs to no child and never moves."""
EXPECT = "a loop over `children()` never reaches them"
MISTAKE = "ex19.own_parameters_missed"

import torch


def soft_update(target, source, tau):
    with torch.no_grad():
        for child_t, child_s in zip(target.children(), source.children()):
            for p_t, p_s in zip(child_t.parameters(), child_s.parameters()):
                p_t.mul_(1 - tau).add_(p_s, alpha=tau)
