"""Calls model.zero_grad() "to be safe": wipes gradients the caller accumulated."""
EXPECT = "predict changed gradients the caller had accumulated"
MISTAKE = "ex02.grads_cleared"

import torch


def predict(model, x):
    model.zero_grad()
    with torch.no_grad():
        return model(x)
