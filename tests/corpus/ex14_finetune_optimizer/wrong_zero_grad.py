"""Clears the gradients while building the optimizer: the caller's backward is lost."""
EXPECT = "finetune_optimizer changed the model"
MISTAKE = "ex14.model_changed"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params, body_params = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (head_params if name.startswith(head + ".") else body_params).append(p)
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr)) if ps]
    opt = torch.optim.Adam(groups)
    opt.zero_grad()
    return opt
