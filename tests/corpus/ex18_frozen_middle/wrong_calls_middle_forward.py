"""Freezes middle, then calls middle.forward(h): the hooks registered on middle are skipped."""
EXPECT = "calling `middle.forward(...)` runs the layers but skips the hooks"
MISTAKE = "ex18.forward_skips_hooks"


def forward_frozen_middle(first, middle, last, x):
    middle.requires_grad_(False)
    return last(middle.forward(first(x)))
