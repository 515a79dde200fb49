"""`with torch.no_grad:` without parentheses: TypeError."""
EXPECT = "write it with parentheses"
MISTAKE = "any.no_grad_without_parentheses"

import torch


def predict(model, x):
    with torch.no_grad:
        return model(x)
