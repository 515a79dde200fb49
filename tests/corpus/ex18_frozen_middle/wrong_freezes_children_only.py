"""Freezes the parameters of middle's children: a parameter middle holds itself is left
trainable (and a leaf module such as nn.Linear has no children at all)."""
EXPECT = "`middle.children()` never reaches them"
MISTAKE = "ex18.children_only"


def forward_frozen_middle(first, middle, last, x):
    for child in middle.children():
        for p in child.parameters():
            p.requires_grad_(False)
    return last(middle(first(x)))
