"""Leaving the frozen module out of the forward: wrong values."""
EXPECT = "values different from last(middle(first(x)))"
MISTAKE = "ex18.wrong_values"


def forward_frozen_middle(first, middle, last, x):
    middle.requires_grad_(False)
    return last(first(x))
