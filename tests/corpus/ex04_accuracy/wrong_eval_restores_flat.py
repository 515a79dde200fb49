"""Restores only the top-level flag with model.train(was): submodules the caller kept in eval go to train."""
EXPECT = "was in eval mode and is now in train mode"
MISTAKE = "ex04.model_mode_changed"

import torch


def accuracy(model, x, y):
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return (model(x).argmax(dim=1) == y).float().mean().item()
    finally:
        model.train(was_training)
