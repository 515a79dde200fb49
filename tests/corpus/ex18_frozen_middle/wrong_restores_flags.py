"""middle frozen only for the forward and switched back on: it must stay frozen."""
EXPECT = "trainable again after the call"
MISTAKE = "ex18.restores_flags"


def forward_frozen_middle(first, middle, last, x):
    middle.requires_grad_(False)
    out = last(middle(first(x)))
    middle.requires_grad_(True)
    return out
