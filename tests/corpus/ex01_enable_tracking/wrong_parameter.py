"""nn.Parameter(t): a new (Parameter) object; the caller's t is untouched."""
EXPECT = "a new tensor object that shares t's memory"
MISTAKE = "ex01.new_tensor_object"

from torch import nn


def enable_tracking(t):
    return nn.Parameter(t)
