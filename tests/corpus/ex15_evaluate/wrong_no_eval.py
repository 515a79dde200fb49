"""no_grad() but no eval mode: dropout drops, batch-norm uses batch statistics."""
EXPECT = "ran the model with modules in train mode"
MISTAKE = "ex15.no_eval"

import torch


def evaluate(model, batches, loss_fn):
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in batches:
            total += loss_fn(model(x), y).item() * len(x)
            count += len(x)
    return total / count
