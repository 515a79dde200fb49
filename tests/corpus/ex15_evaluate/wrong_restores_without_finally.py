"""Restores the modes on the line after the loop: skipped when loss_fn raises."""
EXPECT = "The exception skipped the code that gives the modes back"
MISTAKE = "ex15.restores_without_finally"

import torch


def evaluate(model, batches, loss_fn):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in batches:
            total += loss_fn(model(x), y).item() * len(x)
            count += len(x)
    for m, was in modes.items():
        m.training = was
    return total / count
