"""AdamW: decoupled weight decay (0.01 by default) shrinks every weight at each step."""
EXPECT = "returned an AdamW"
MISTAKE = "ex13.adamw"

import torch


def make_optimizer(model, lr):
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
