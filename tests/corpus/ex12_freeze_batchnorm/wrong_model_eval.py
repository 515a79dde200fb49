"""model.eval() instead of eval on the batch-norm layers: dropout is switched off too."""
EXPECT = "dropout module"
MISTAKE = "ex12.model_eval"

from torch import nn


def freeze_batchnorm(model):
    model.eval()
    count = 0
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            for p in m.parameters():
                p.requires_grad = False
            count += 1
    return count
