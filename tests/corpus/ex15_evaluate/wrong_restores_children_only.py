"""Saves and restores the modes of the model and its direct children only, with child.train(flag):
that call sets every module below the child too, so a layer nested deeper that the caller kept
in eval mode comes back in train mode."""
EXPECT = "but not the modules nested below them"
MISTAKE = "ex15.nested_modes_reset"

import torch


def evaluate(model, batches, loss_fn):
    was = model.training
    children = {child: child.training for child in model.children()}
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in batches:
                total += loss_fn(model(x), y).item() * len(x)
                count += len(x)
        return total / count
    finally:
        model.training = was
        for child, mode in children.items():
            child.train(mode)
