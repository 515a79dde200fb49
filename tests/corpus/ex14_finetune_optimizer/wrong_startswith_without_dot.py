"""name.startswith(head): with head "1", layers 10 and 11 go with the head too."""
EXPECT = "its name starts with the text"
MISTAKE = "ex14.startswith_without_dot"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params, body_params = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (head_params if name.startswith(head) else body_params).append(p)
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr)) if ps]
    return torch.optim.Adam(groups)
