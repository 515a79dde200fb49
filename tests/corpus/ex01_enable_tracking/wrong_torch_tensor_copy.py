"""torch.tensor(t, requires_grad=True): a copy in new memory; the caller's t never tracks."""
EXPECT = "a copy of t in new memory"
MISTAKE = "ex01.returns_a_copy"

import torch


def enable_tracking(t):
    return torch.tensor(t, requires_grad=True)
