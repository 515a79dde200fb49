"""Compares the name's leading parts with the head's parts (a list comparison instead of startswith)."""
import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_parts = head.split(".")
    head_params, body_params = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.split(".")[: len(head_parts)] == head_parts:
            head_params.append(p)
        else:
            body_params.append(p)
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr)) if ps]
    return torch.optim.Adam(groups)
