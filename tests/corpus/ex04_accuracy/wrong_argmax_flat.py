"""argmax without a dim: one index into the flattened scores, compared with every label."""
EXPECT = "one prediction per row"
MISTAKE = "ex04.wrong_predictions"
NOT_EXPECT = "integer division"

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax() == y).float().mean().item()
