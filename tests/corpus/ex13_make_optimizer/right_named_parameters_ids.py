"""named_parameters(remove_duplicate=False) deduplicated by identity, lr as a keyword after the list."""
import torch


def make_optimizer(model, lr):
    seen, params = set(), []
    for _, p in model.named_parameters(remove_duplicate=False):
        if p.requires_grad and id(p) not in seen:
            seen.add(id(p))
            params.append(p)
    return torch.optim.Adam(params, lr)
