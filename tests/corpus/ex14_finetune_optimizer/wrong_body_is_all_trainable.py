"""The body group takes every trainable parameter, so the head's are in both groups."""
EXPECT = "a parameter is in both groups"
MISTAKE = "ex14.in_both_groups"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith(head + ".")]
    body_params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr)) if ps]
    return torch.optim.Adam(groups)
