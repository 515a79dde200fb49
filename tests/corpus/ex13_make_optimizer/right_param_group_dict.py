"""One parameter-group dict carrying its own lr, built with a loop."""
import torch


def make_optimizer(model, lr):
    params = []
    for p in model.parameters():
        if p.requires_grad:
            params.append(p)
    return torch.optim.Adam([{"params": params, "lr": lr}])
