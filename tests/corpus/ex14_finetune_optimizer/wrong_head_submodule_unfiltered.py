"""get_submodule(head).parameters() taken as is: the head's frozen parameters are included."""
EXPECT = "frozen parameters are in the optimizer's groups"
MISTAKE = "ex14.frozen_included"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params = list(model.get_submodule(head).parameters())
    ids = {id(p) for p in head_params}
    body_params = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr)) if ps]
    return torch.optim.Adam(groups)
