"""Puts back the flags of the model and its direct children only: the modules nested deeper stay
in the eval mode that model.eval() gave them."""
EXPECT = "but not the modules nested below them"
MISTAKE = "ex15.nested_modes_reset"

import torch


def evaluate(model, batches, loss_fn):
    saved = [(model, model.training)] + [(child, child.training) for child in model.children()]
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in batches:
                total += loss_fn(model(x), y).item() * len(x)
                count += len(x)
        return total / count
    finally:
        for module, mode in saved:
            module.training = mode
