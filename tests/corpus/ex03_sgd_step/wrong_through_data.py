"""Updating through .data: hides the change from autograd's version counter."""
EXPECT = "went through `p.data`"
MISTAKE = "ex03.through_data"


def sgd_step(params, lr):
    for p in params:
        if p.grad is not None:
            p.data -= lr * p.grad
            p.grad = None
