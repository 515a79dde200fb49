"""Eval mode only: the affine parameters still require grad and keep training."""
EXPECT = "`.eval()` changes the layer's mode"
MISTAKE = "ex12.eval_without_freezing"

from torch import nn


def freeze_batchnorm(model):
    count = 0
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
            count += 1
    return count
