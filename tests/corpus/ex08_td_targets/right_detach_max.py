"""The network's output detached (a graph is built and thrown away, but nothing reaches target_net)."""


def td_targets(target_net, next_states, rewards, dones, gamma):
    best_next = target_net(next_states).detach().max(dim=1).values
    return rewards + gamma * (1 - dones.float()) * best_next
