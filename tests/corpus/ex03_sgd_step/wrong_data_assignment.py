"""Assigning p.data = ...: swaps the parameter's storage."""
EXPECT = "now lives in different memory"
MISTAKE = "ex03.data_replaced"


def sgd_step(params, lr):
    for p in params:
        if p.grad is not None:
            p.data = p.data - lr * p.grad
            p.grad = None
