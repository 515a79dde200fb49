"""SGD instead of Adam."""
EXPECT = "but the task asks for `torch.optim.Adam`"
MISTAKE = "ex13.other_optimizer"

import torch


def make_optimizer(model, lr):
    return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
