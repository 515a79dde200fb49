"""Calls `model.forward(x)`: the hooks registered on the model never run, so the scores are not the model's."""
EXPECT = "your value is exactly what `model.forward(x)` gives"
MISTAKE = "ex04.forward_skips_hooks"

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        predictions = model.forward(x).argmax(dim=1)
    return (predictions == y).sum().item() / len(y)
