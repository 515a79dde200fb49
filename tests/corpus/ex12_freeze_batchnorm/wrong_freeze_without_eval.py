"""Parameters frozen, layers left in train mode: the running statistics keep moving."""
EXPECT = "running statistics of layer"
MISTAKE = "ex12.statistics_move"

from torch import nn


def freeze_batchnorm(model):
    count = 0
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            for p in m.parameters():
                p.requires_grad = False
            count += 1
    return count
