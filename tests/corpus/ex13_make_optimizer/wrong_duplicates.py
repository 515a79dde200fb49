"""named_parameters(remove_duplicate=False): a tied weight is handed over twice."""
EXPECT = "holds a parameter more than once"
MISTAKE = "ex13.duplicates"

import torch


def make_optimizer(model, lr):
    params = [p for _, p in model.named_parameters(remove_duplicate=False) if p.requires_grad]
    return torch.optim.Adam(params, lr=lr)
