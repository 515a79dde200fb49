"""Switches to eval mode and leaves the model there."""
EXPECT = "was in train mode and is now in eval mode"

import torch


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return model(x)
