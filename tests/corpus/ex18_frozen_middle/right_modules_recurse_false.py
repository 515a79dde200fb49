"""Freezes module by module, each one's own parameters (middle's included), setting the attribute."""


def forward_frozen_middle(first, middle, last, x):
    for module in middle.modules():
        for p in module.parameters(recurse=False):
            p.requires_grad = False
    return last(middle(first(x)))
