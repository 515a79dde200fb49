"""get_submodule(head) with a set of ids; the body group first."""
import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_ids = {id(p) for p in model.get_submodule(head).parameters()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    head_params = [p for p in trainable if id(p) in head_ids]
    body_params = [p for p in trainable if id(p) not in head_ids]
    groups = []
    if body_params:
        groups.append({"params": body_params, "lr": body_lr})
    if head_params:
        groups.append({"params": head_params, "lr": head_lr})
    return torch.optim.Adam(groups)
