"""Compares the largest score itself (max values), not its index, with the labels."""
EXPECT = "one prediction per row"
MISTAKE = "ex04.wrong_predictions"
NOT_EXPECT = "integer division"  # its 0.0 comes from labels it never matches, not from `//`

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).max(dim=1).values == y).float().mean().item()
