"""Always two groups, even when one of them is empty (Adam accepts it silently)."""
EXPECT = "is empty: it trains nothing"
MISTAKE = "ex14.empty_group_kept"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params, body_params = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (head_params if name.startswith(head + ".") else body_params).append(p)
    return torch.optim.Adam([{"params": head_params, "lr": head_lr}, {"params": body_params, "lr": body_lr}])
