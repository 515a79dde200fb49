"""A loop over state_dict(): the batch-norm running statistics are blended too."""
EXPECT = "the batch-norm running statistics were blended too"
MISTAKE = "ex19.blends_buffers"

import torch


def soft_update(target, source, tau):
    source_state = source.state_dict()
    with torch.no_grad():
        for name, t in target.state_dict().items():
            if t.is_floating_point():
                t.mul_(1 - tau).add_(source_state[name], alpha=tau)
