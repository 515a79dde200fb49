"""Multiplying by dones instead of not-dones."""
EXPECT = "done-mask the wrong way round"
MISTAKE = "ex08.inverted_mask"

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    with torch.no_grad():
        return rewards + gamma * dones.float() * target_net(next_states).max(dim=1).values
