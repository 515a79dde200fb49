"""The new values computed by a compiled function (torch.compile), written into each parameter
in place inside no_grad. Compiling is not charged to the time limits. (The aot_eager backend
compiles through Dynamo and AOTAutograd without Inductor's C++ step, which would cost the corpus
half a minute; tests/test_compiling.py grades the default backend with a cold cache.)"""
import torch


@torch.compile(backend="aot_eager")
def stepped(p, grad, lr):
    return p - lr * grad


def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p.copy_(stepped(p, p.grad, lr))
            p.grad = None
