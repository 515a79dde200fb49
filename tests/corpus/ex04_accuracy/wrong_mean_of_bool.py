"""Mean of a boolean tensor: RuntimeError."""
EXPECT = "a mean of booleans is not defined"
MISTAKE = "ex04.mean_of_bool"

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).mean().item()
