"""Takes a shortcut for tau == 1, where the target becomes a copy of the source:
load_state_dict, which copies the batch-norm buffers too."""
EXPECT = "also as a shortcut for tau == 1"
MISTAKE = "ex19.buffers_copied"

import torch


def soft_update(target, source, tau):
    if tau == 1:
        target.load_state_dict(source.state_dict())
        return
    with torch.no_grad():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            p_t.lerp_(p_s, tau)
