"""Hands Adam a set of the trainable parameters (it makes a list of it without a word): they
come in the set's order, which changes from one run to the next."""
EXPECT = "holds the trainable parameters in another order"
MISTAKE = "ex13.order_changed"

import torch


def make_optimizer(model, lr):
    return torch.optim.Adam({p for p in model.parameters() if p.requires_grad}, lr=lr)
