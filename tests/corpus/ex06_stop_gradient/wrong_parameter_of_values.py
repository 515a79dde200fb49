"""Wraps the detached values in nn.Parameter "to keep them as a tensor of their own": a new leaf that
requires grad, so autograd tracks everything computed from the result."""
EXPECT = "a new leaf that requires grad made from t's values"
MISTAKE = "ex06.requires_grad_on"
NOT_EXPECT = "don't switch the flag back on"

from torch import nn


def stop_gradient(t):
    return nn.Parameter(t.detach())
