"""Switching target_net to eval mode (and leaving it there), as if eval stopped gradients."""
EXPECT = "changed target_net's mode"
MISTAKE = "ex08.mode_changed"

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    target_net.eval()
    with torch.no_grad():
        best_next = target_net(next_states).max(dim=1).values
    return rewards + gamma * (~dones).float() * best_next
