"""model.train() first, to "reset" modes: a module the caller had put in eval mode is switched back."""
EXPECT = "every other module keeps the mode the caller chose"
MISTAKE = "ex12.other_modes_changed"

from torch import nn


def freeze_batchnorm(model):
    model.train()
    count = 0
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            for p in m.parameters():
                p.requires_grad = False
            m.eval()
            count += 1
    return count
