"""filter() with a lambda, handed to Adam directly (used once)."""
import torch


def make_optimizer(model, lr):
    return torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=lr)
