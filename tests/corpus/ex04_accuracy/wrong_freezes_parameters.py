"""Freezes the parameters instead of using no_grad (and never unfreezes them)."""
EXPECT = "Freezing the parameters is not the way"
MISTAKE = "ex04.requires_grad_changed"


def accuracy(model, x, y):
    model.requires_grad_(False)
    return (model(x).argmax(dim=1) == y).float().mean().item()
