"""A loop over state_dict() that blends every entry, the integer num_batches_tracked included: crashes."""
EXPECT = "You are blending an integer buffer"
MISTAKE = "ex19.blends_all_state"

import torch


def soft_update(target, source, tau):
    with torch.no_grad():
        for t, s in zip(target.state_dict().values(), source.state_dict().values()):
            t.mul_(1 - tau).add_(s, alpha=tau)
