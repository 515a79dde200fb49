"""Freezing `m.weight` and `m.bias` by name: a batch-norm layer built with affine=False has
neither (both are None)."""
EXPECT = "built with `affine=False` has no learnable scale and shift"
MISTAKE = "ex12.weight_and_bias_by_name"

from torch import nn


def freeze_batchnorm(model):
    count = 0
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.weight.requires_grad = False
            m.bias.requires_grad = False
            m.eval()
            count += 1
    return count
