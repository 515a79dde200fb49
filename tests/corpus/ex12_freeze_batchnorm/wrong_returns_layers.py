"""Returns the list of layers instead of their number."""
EXPECT = "a Python int is expected"
MISTAKE = "any.not_a_number"

from torch import nn


def freeze_batchnorm(model):
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in layers:
        for p in m.parameters():
            p.requires_grad = False
        m.eval()
    return layers
