"""Compares only the first part of the name: a dotted head such as "blocks.1" never matches."""
EXPECT = "is inside submodule 'blocks.1' (the head) but trains at body_lr"
MISTAKE = "ex14.head_at_body_lr"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params, body_params = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (head_params if name.split(".")[0] == head else body_params).append(p)
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr)) if ps]
    return torch.optim.Adam(groups)
