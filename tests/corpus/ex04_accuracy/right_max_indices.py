"""Predicts with `max(dim=1).indices`, which, like argmax, takes the first of equal largest scores."""

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        predictions = model(x).max(dim=1).indices
    return float((predictions == y).sum().item()) / float(y.shape[0])
