"""Evaluates a deep copy in eval mode, which leaves the caller's modes alone without any
bookkeeping, but runs a second model, not the caller's."""
EXPECT = "evaluate ran a copy of the caller's model"
MISTAKE = "ex15.evaluates_a_copy"
NOT_EXPECT = "evaluate never called the model"

import copy

import torch


def evaluate(model, batches, loss_fn):
    twin = copy.deepcopy(model).eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in batches:
            total += loss_fn(twin(x), y).item() * len(x)
            count += len(x)
    return total / count
