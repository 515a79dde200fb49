"""inference_mode only around the target network's forward: the arithmetic after it, outside
the block, produces an ordinary tensor (not an inference tensor) that the loss can use."""
import torch


def td_targets(target_net, next_states, rewards, dones, gamma):
    with torch.inference_mode():
        q_next = target_net(next_states)
    best_next = q_next.max(dim=1).values
    return rewards + gamma * ~dones * best_next
