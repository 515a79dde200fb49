"""No stop at all: the targets carry target_net's graph, so the loss sends gradients into it."""
EXPECT = "gradients reached target_net"
MISTAKE = "ex08.no_stop"


def td_targets(target_net, next_states, rewards, dones, gamma):
    best_next = target_net(next_states).max(dim=1).values
    return rewards + gamma * (~dones).float() * best_next
