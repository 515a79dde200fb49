"""Freezing target_net's parameters to stop the gradient: changes the caller's network."""
EXPECT = "changed the requires_grad flags of target_net"
MISTAKE = "ex08.freezes_target_net"


def td_targets(target_net, next_states, rewards, dones, gamma):
    target_net.requires_grad_(False)
    best_next = target_net(next_states).max(dim=1).values
    return rewards + gamma * (~dones).float() * best_next
