"""Switches tracking on for every floating-point tensor of the model, buffers included."""
EXPECT = "now requires grad"
MISTAKE = "ex11.buffers_unfrozen"

import itertools


def unfreeze_all(model):
    frozen = sum(1 for p in model.parameters() if not p.requires_grad)
    for t in itertools.chain(model.parameters(), model.buffers()):
        if t.is_floating_point():
            t.requires_grad_(True)
    return frozen
