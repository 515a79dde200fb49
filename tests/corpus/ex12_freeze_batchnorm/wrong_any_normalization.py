"""isinstance on _NormBase: InstanceNorm layers are frozen and switched to eval too."""
EXPECT = "is not a batch-norm layer, yet freeze_batchnorm changed"
MISTAKE = "ex12.not_batchnorm_changed"

from torch import nn


def freeze_batchnorm(model):
    count = 0
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._NormBase):
            for p in m.parameters():
                p.requires_grad = False
            m.eval()
            count += 1
    return count
