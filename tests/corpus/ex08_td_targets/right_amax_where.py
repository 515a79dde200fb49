"""`amax` over the actions of the detached output, and `torch.where` for the ended episodes."""

import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    best_next = target_net(next_states).detach().amax(dim=1)
    return torch.where(dones, rewards, rewards + gamma * best_next)
