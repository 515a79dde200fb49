"""Returns the mean as a tensor instead of a Python float."""
EXPECT = "a plain Python float is expected"
MISTAKE = "any.tensor_not_number"

import torch


def evaluate(model, batches, loss_fn):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in batches:
                total = total + loss_fn(model(x), y) * len(x)
                count += len(x)
        return total / count
    finally:
        for m, was in modes.items():
            m.training = was
