"""Returns a percentage (42.86) instead of a fraction (0.4286)."""
EXPECT = "a fraction, not a percentage"
NOT_EXPECT = "argmax"
MISTAKE = "ex04.percentage"

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        correct = (model(x).argmax(dim=1) == y).sum().item()
    return 100 * correct / len(y)
