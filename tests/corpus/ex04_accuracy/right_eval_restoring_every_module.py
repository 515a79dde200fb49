"""Evaluates in eval mode and restores every module's own flag afterwards (also on errors)."""
import torch


def accuracy(model, x, y):
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            predictions = model(x).argmax(dim=1)
        return float((predictions == y).sum()) / y.numel()
    finally:
        for module, training in modes:
            module.train(training)
