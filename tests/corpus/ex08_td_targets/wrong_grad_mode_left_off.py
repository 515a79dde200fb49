"""torch.set_grad_enabled(False) and never switched back."""
EXPECT = "left gradient tracking switched off"
MISTAKE = "any.grad_mode_left_off"

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    torch.set_grad_enabled(False)
    return rewards + gamma * (~dones).float() * target_net(next_states).max(dim=1).values
