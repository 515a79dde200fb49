"""One group per parameter: the right learning rates, but not one group per part."""
EXPECT = "groups, but"
MISTAKE = "ex14.groups_split"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    groups = []
    for name, p in model.named_parameters():
        if p.requires_grad:
            lr = head_lr if name.startswith(head + ".") else body_lr
            groups.append({"params": [p], "lr": lr})
    return torch.optim.Adam(groups)
