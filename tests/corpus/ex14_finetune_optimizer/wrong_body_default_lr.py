"""The body group is given no lr: it trains at Adam's default 0.001."""
EXPECT = "0.001 is Adam's default"
MISTAKE = "ex14.default_lr"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params, body_params = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (head_params if name.startswith(head + ".") else body_params).append(p)
    groups = []
    if head_params:
        groups.append({"params": head_params, "lr": head_lr})
    if body_params:
        groups.append({"params": body_params})
    return torch.optim.Adam(groups)
