"""Switches the model to eval mode and leaves it there."""
EXPECT = "was in train mode and is now in eval mode"
MISTAKE = "ex04.model_mode_changed"

import torch


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()
