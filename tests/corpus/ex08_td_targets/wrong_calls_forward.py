"""Calls `target_net.forward(next_states)`: the hooks registered on the network never run."""
EXPECT = "your targets are exactly those of `target_net.forward(next_states)`"
MISTAKE = "ex08.forward_skips_hooks"

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    with torch.no_grad():
        best_next = target_net.forward(next_states).max(dim=1).values
    return rewards + gamma * (~dones).float() * best_next
