"""Builds the body from the model's children other than the head's: the model's own
parameter (a temperature no child holds) ends up in no group."""
EXPECT = "the ones the model holds itself"
MISTAKE = "ex14.own_parameters_missing"

import torch


def finetune_optimizer(model, head, head_lr, body_lr):
    head_params = [p for p in model.get_submodule(head).parameters() if p.requires_grad]
    in_head = {id(p) for p in head_params}
    body_params = []
    for child in model.children():
        for p in child.parameters():
            if p.requires_grad and id(p) not in in_head and all(p is not q for q in body_params):
                body_params.append(p)
    groups = [{"params": ps, "lr": lr} for ps, lr in ((head_params, head_lr), (body_params, body_lr)) if ps]
    return torch.optim.Adam(groups)
