"""Unfreezes first, counts afterwards: always 0."""
EXPECT = "you counted after unfreezing"
MISTAKE = "ex11.counts_after_unfreezing"


def unfreeze_all(model):
    model.requires_grad_(True)
    return sum(1 for p in model.parameters() if not p.requires_grad)
