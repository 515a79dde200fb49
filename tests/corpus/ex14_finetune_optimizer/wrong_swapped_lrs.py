"""head_lr and body_lr swapped."""
EXPECT = "the learning rates are swapped"
MISTAKE = "ex14.swapped_lrs"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params, body_params = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (head_params if name.startswith(head + ".") else body_params).append(p)
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, body_lr), (body_params, head_lr)) if ps]
    return torch.optim.Adam(groups)
