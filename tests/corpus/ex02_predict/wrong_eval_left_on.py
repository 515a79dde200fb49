"""Switches to eval mode and leaves the model there."""
EXPECT = "was in train mode and is now in eval mode"
MISTAKE = "ex02.model_mode_changed"

import torch


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return model(x)
