"""Switches tracking off by hand and restores the previous mode in a finally block."""
import torch


def predict(model, x):
    previous = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        return model(x)
    finally:
        torch.set_grad_enabled(previous)
