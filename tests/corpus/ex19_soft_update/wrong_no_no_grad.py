"""In-place blend outside no_grad: a frozen target silently becomes a non-leaf; a trainable one raises."""
EXPECT = "ties the target to the source's graph, silently"
MISTAKE = "ex19.no_no_grad"


def soft_update(target, source, tau):
    for p_t, p_s in zip(target.parameters(), source.parameters()):
        p_t.mul_(1 - tau).add_(p_s, alpha=tau)
