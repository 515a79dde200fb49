"""Assigning p_t.data = blend: the parameter's memory is swapped."""
EXPECT = "now lives in different memory"
MISTAKE = "ex19.data_replaced"

import torch


def soft_update(target, source, tau):
    with torch.no_grad():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            p_t.data = (1 - tau) * p_t + tau * p_s
