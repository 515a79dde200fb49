"""The whole forward under no_grad: the output has no history, backward raises."""
EXPECT = "Nothing may run under `torch.no_grad()` and nothing may be detached here"
MISTAKE = "ex18.output_without_history"

import torch


def forward_frozen_middle(first, middle, last, x):
    middle.requires_grad_(False)
    with torch.no_grad():
        return last(middle(first(x)))
