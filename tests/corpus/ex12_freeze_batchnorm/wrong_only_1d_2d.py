"""Only BatchNorm1d and BatchNorm2d handled: BatchNorm3d, SyncBatchNorm, lazy layers are missed."""
EXPECT = "was not treated as a batch-norm layer"
MISTAKE = "ex12.misses_layers"

from torch import nn


def freeze_batchnorm(model):
    count = 0
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            for p in m.parameters():
                p.requires_grad = False
            m.eval()
            count += 1
    return count
