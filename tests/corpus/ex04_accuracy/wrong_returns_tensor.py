"""Returns the fraction as a zero-dimensional tensor instead of a Python float."""
EXPECT = "a plain Python float is expected"
MISTAKE = "any.tensor_not_number"

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean()
