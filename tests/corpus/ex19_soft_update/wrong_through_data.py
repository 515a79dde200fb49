"""Blending through .data: right values, but the change is hidden from autograd's version counter."""
EXPECT = "the update went through `.data`"
MISTAKE = "ex19.through_data"


def soft_update(target, source, tau):
    for p_t, p_s in zip(target.parameters(), source.parameters()):
        p_t.data.mul_(1 - tau).add_(tau * p_s.data)
