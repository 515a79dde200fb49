"""A list first, then update under torch.inference_mode() is NOT allowed on tensors made outside it?
No: in-place updates of normal tensors under inference_mode are allowed and bump the version."""
import torch


def sgd_step(params, lr):
    params = [p for p in params if p.grad is not None]
    with torch.inference_mode():
        for p in params:
            p.add_(-lr * p.grad)
    for p in params:
        p.grad = None
