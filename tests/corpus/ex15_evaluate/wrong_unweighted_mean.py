"""Mean of the batch means: a small last batch counts as much as a full one."""
EXPECT = "the unweighted mean of the batch means"
MISTAKE = "ex15.unweighted_mean"

import torch


def evaluate(model, batches, loss_fn):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        losses = []
        with torch.no_grad():
            for x, y in batches:
                losses.append(loss_fn(model(x), y).item())
        return sum(losses) / len(losses)
    finally:
        for m, was in modes.items():
            m.training = was
