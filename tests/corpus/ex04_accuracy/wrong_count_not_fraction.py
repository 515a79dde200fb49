"""Returns the number of correct rows (as a float) instead of the fraction."""
EXPECT = "the number of correct rows, not the fraction"
MISTAKE = "ex04.count_not_fraction"

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).sum().item())
