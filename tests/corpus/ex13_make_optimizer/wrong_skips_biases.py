"""Only the weights ("weight" in the name): trainable biases are left out."""
EXPECT = "trainable parameters are missing from the optimizer"
MISTAKE = "ex13.trainable_missing"

import torch


def make_optimizer(model, lr):
    params = [p for name, p in model.named_parameters() if p.requires_grad and "weight" in name]
    return torch.optim.Adam(params, lr=lr)
