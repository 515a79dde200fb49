"""Switching requires_grad off to allow the in-place update, and not back on."""
EXPECT = "no longer requires grad"
MISTAKE = "ex03.freezes_to_update"


def sgd_step(params, lr):
    for p in params:
        if p.grad is not None:
            p.requires_grad_(False)
            p -= lr * p.grad
            p.grad = None
