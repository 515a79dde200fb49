"""Frozen parameters are put in the groups too: their stale .grad keeps moving them."""
EXPECT = "frozen parameters are in the optimizer's groups"
MISTAKE = "ex14.frozen_included"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params, body_params = [], []
    for name, p in model.named_parameters():
        if name.startswith(head + "."):
            head_params.append(p)
        else:
            body_params.append(p)
    return torch.optim.Adam([{"params": head_params, "lr": head_lr}, {"params": body_params, "lr": body_lr}])
