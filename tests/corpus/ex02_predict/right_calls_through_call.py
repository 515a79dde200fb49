"""Calls the model through `__call__` explicitly, under `torch.inference_mode()`: hooks run, nothing recorded."""

import torch


def predict(model, x):
    with torch.inference_mode():
        out = model.__call__(x)
    return out
