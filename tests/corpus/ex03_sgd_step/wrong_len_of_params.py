"""Indexing params: fails for generators such as model.parameters()."""
EXPECT = "may be a generator"
MISTAKE = "ex03.params_as_list"

import torch


def sgd_step(params, lr):
    with torch.no_grad():
        for i in range(len(params)):
            p = params[i]
            if p.grad is not None:
                p -= lr * p.grad
                p.grad = None
