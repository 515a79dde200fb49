"""Accumulating into the caller's rewards tensor in place."""
EXPECT = "modified the caller's `rewards` in place"
MISTAKE = "ex08.modifies_inputs"

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    with torch.no_grad():
        rewards += gamma * (~dones).float() * target_net(next_states).max(dim=1).values
    return rewards
