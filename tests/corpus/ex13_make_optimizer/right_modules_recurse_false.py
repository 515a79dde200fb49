"""Module by module, each one's own parameters (the model's first), each tensor once by id: the
same order as model.parameters()."""

import torch


def make_optimizer(model, lr):
    seen, params = set(), []
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                params.append(p)
    return torch.optim.Adam(params, lr=lr)
