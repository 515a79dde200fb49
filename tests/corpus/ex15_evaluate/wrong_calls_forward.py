"""Calls model.forward(x) instead of model(x): the hooks registered on the model are skipped."""
EXPECT = "calling `model.forward(...)` runs the layers but skips the hooks"
MISTAKE = "ex15.forward_skips_hooks"

import torch


def evaluate(model, batches, loss_fn):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in batches:
                total += loss_fn(model.forward(x), y).item() * len(x)
                count += len(x)
        return total / count
    finally:
        for m, was in modes.items():
            m.training = was
