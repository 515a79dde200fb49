"""All parameters handed to Adam, frozen ones included: their stale .grad keeps moving them."""
EXPECT = "opt.step() moved frozen parameters"
MISTAKE = "ex13.frozen_move"

import torch


def make_optimizer(model, lr):
    return torch.optim.Adam(model.parameters(), lr=lr)
