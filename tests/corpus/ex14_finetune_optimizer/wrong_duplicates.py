"""named_parameters(remove_duplicate=False): a layer used twice in the body is held twice."""
EXPECT = "holds a parameter more than once"
MISTAKE = "ex14.duplicates"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params, body_params = [], []
    for name, p in model.named_parameters(remove_duplicate=False):
        if p.requires_grad:
            (head_params if name.startswith(head + ".") else body_params).append(p)
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr)) if ps]
    return torch.optim.Adam(groups)
