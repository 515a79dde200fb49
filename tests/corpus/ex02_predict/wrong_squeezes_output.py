"""Squeezes the output "to tidy it up": a batch of one row, or a single output, loses its dimension."""
EXPECT = "a `.squeeze()`, `.view(-1)` or `.flatten()` changes its shape"
MISTAKE = "ex02.output_reshaped_on_size_1"

import torch


def predict(model, x):
    with torch.no_grad():
        return model(x).squeeze()
