"""Counts the frozen scalar elements (numel) instead of tensors."""
EXPECT = "you counted scalar elements"
MISTAKE = "ex11.counts_elements"


def unfreeze_all(model):
    frozen = 0
    for p in model.parameters():
        if not p.requires_grad:
            frozen += p.numel()
            p.requires_grad_(True)
    return frozen
