"""`1 - dones` on a bool tensor: PyTorch refuses the subtraction."""
EXPECT = "Invert the mask with `~dones`"
MISTAKE = "ex08.one_minus_bool"

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    with torch.no_grad():
        best_next = target_net(next_states).max(dim=1).values
        return rewards + gamma * (1 - dones) * best_next
