"""Catches the loss_fn's exception and returns nan: the caller never learns the validation failed."""
EXPECT = "evaluate did not let it through"
MISTAKE = "ex15.swallows_exception"

import torch


def evaluate(model, batches, loss_fn):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in batches:
                total += loss_fn(model(x), y).item() * len(x)
                count += len(x)
        return total / count
    except Exception:
        return float("nan")
    finally:
        for m, was in modes.items():
            m.training = was
