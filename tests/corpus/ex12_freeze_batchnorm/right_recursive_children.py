"""Walks the tree by hand: the module itself, then each child's subtree, each layer once."""

from torch import nn


def freeze_batchnorm(model, seen=None):
    seen = set() if seen is None else seen
    if id(model) in seen:
        return 0
    seen.add(id(model))
    count = 0
    if isinstance(model, nn.modules.batchnorm._BatchNorm):
        for p in model.parameters():
            p.requires_grad = False
        model.eval()
        count = 1
    for child in model.children():
        count += freeze_batchnorm(child, seen)
    return count
