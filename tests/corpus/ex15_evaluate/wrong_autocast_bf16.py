"""Runs the validation loop under bfloat16 autocast to go faster: the loss is rounded."""
EXPECT = "The model ran under autocast (in bfloat16)"
MISTAKE = "ex15.autocast"
NOT_EXPECT = "evaluate ran the model with modules in train mode"

import torch


def evaluate(model, batches, loss_fn):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            for x, y in batches:
                total += loss_fn(model(x), y).float().item() * len(x)
                count += len(x)
        return total / count
    finally:
        for m, was in modes.items():
            m.training = was
