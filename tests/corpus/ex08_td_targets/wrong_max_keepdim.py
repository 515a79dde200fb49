"""keepdim=True: a (batch, 1) column broadcast against (batch,) rewards gives (batch, batch)."""
EXPECT = "broadcasts into a table"
MISTAKE = "ex08.max_keepdim"

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    with torch.no_grad():
        best_next = target_net(next_states).max(dim=1, keepdim=True).values
        return rewards + gamma * (~dones).float() * best_next
