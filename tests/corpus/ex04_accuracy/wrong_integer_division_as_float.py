"""Integer division, converted to float afterwards: still 0.0."""
EXPECT = "that is integer division"
MISTAKE = "ex04.integer_division"

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        correct = (model(x).argmax(dim=1) == y).sum().item()
    return float(correct // y.numel())
