"""Fills a buffer made with torch.zeros(batch): float32, whatever the dtype of the network and the rewards."""
EXPECT = "Your targets are not in the dtype of the network's output and the rewards"
MISTAKE = "ex08.dtype_changed"

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    targets = torch.zeros(len(rewards))
    with torch.no_grad():
        best_next = target_net(next_states).max(dim=1).values
        targets[:] = rewards + gamma * (~dones) * best_next
    return targets
