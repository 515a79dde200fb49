"""The whole result detached at the end, the mask inverted with logical_not."""
import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    not_done = torch.logical_not(dones).to(rewards.dtype)
    return (rewards + gamma * not_done * target_net(next_states).max(1)[0]).detach()
