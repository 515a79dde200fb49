"""model.children(): only direct children, so nested layers and the model itself are missed."""
EXPECT = "`model.children()` gives only the direct children"
MISTAKE = "ex12.children_only"

from torch import nn


def freeze_batchnorm(model):
    count = 0
    for m in model.children():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            for p in m.parameters():
                p.requires_grad = False
            m.eval()
            count += 1
    return count
