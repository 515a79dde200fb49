"""Rescales the output "for stability": values that are not the model's, whatever its mode."""
EXPECT = "Likely causes"
MISTAKE = "ex02.output_differs"
NOT_EXPECT = "switching the mode does"

import torch


def predict(model, x):
    with torch.no_grad():
        return model(x) * 0.5
