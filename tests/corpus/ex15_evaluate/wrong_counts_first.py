"""Counts the samples in a first pass over `batches`: a generator is then empty for the second."""
EXPECT = "a second pass over it sees nothing"
MISTAKE = "ex15.counts_first"

import torch


def evaluate(model, batches, loss_fn):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        count = sum(len(x) for x, _ in batches)
        total = 0.0
        with torch.no_grad():
            for x, y in batches:
                total += loss_fn(model(x), y).item() * len(x)
        return total / count
    finally:
        for m, was in modes.items():
            m.training = was
