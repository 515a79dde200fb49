"""Calls model.train() at the end whatever mode the caller was in."""
EXPECT = "Calling `model.train()` unconditionally"
MISTAKE = "ex15.always_train"

import torch


def evaluate(model, batches, loss_fn):
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in batches:
                total += loss_fn(model(x), y).item() * len(x)
                count += len(x)
        return total / count
    finally:
        model.train()
