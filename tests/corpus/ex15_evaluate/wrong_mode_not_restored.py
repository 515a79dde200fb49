"""Switches to eval mode and never gives the caller its train mode back."""
EXPECT = "left the caller's model in eval mode"
MISTAKE = "ex15.mode_not_restored"

import torch


def evaluate(model, batches, loss_fn):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in batches:
            total += loss_fn(model(x), y).item() * len(x)
            count += len(x)
    return total / count
