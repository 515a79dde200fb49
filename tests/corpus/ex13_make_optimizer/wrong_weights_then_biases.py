"""Collects the weights first and the biases after them, in one list."""
EXPECT = "holds the trainable parameters in another order"
MISTAKE = "ex13.order_changed"

import torch


def make_optimizer(model, lr):
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    ordered = [p for n, p in named if not n.endswith("bias")] + [p for n, p in named if n.endswith("bias")]
    return torch.optim.Adam(ordered, lr=lr)
