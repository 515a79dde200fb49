"""Restores with model.train(was_training): flips a batch-norm layer the caller kept in eval mode."""
EXPECT = "`model.train(was_training)` sets the flag of EVERY submodule"
MISTAKE = "ex15.train_was_training"

import torch


def evaluate(model, batches, loss_fn):
    was_training = model.training
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in batches:
                total += loss_fn(model(x), y).item() * len(x)
                count += len(x)
        return total / count
    finally:
        model.train(was_training)
