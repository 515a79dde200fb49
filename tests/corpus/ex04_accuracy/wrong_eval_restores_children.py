"""Switches to eval mode and restores the modes of the model's direct children only, each with
`child.train(was)`: a module nested deeper that the caller had in another mode than its parent loses it."""
EXPECT = "nested deeper than `model.children()`"
MISTAKE = "ex04.model_mode_changed"

import torch


def accuracy(model, x, y):
    was = model.training
    children = [(child, child.training) for child in model.children()]
    model.eval()
    try:
        with torch.no_grad():
            return (model(x).argmax(dim=1) == y).float().mean().item()
    finally:
        model.training = was
        for child, training in children:
            child.train(training)
