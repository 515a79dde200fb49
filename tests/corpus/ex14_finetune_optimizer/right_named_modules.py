"""named_modules() to find the head, a default lr=body_lr for the body group."""
import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_module = dict(model.named_modules())[head]
    head_ids = {id(p) for p in head_module.parameters() if p.requires_grad}
    head_params = [p for p in model.parameters() if id(p) in head_ids]
    body_params = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    groups = [{"params": head_params, "lr": head_lr}] if head_params else []
    if body_params:
        groups.append({"params": body_params})
    return torch.optim.Adam(groups, lr=body_lr)
