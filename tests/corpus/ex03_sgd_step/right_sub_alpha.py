"""sub_ with alpha, grads cleared in the same loop."""
import torch


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p.sub_(p.grad, alpha=lr)
            p.grad = None
