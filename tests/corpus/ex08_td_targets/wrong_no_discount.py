"""Forgetting gamma."""
EXPECT = "does not discount the future"
MISTAKE = "ex08.no_discount"

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    with torch.no_grad():
        return rewards + (~dones).float() * target_net(next_states).max(dim=1).values
