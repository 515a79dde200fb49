"""module.requires_grad_(False): refused by a lazy layer that has not run yet (UninitializedParameter)."""
EXPECT = "Set the attribute instead"
MISTAKE = "ex12.requires_grad_on_lazy"

from torch import nn


def freeze_batchnorm(model):
    count = 0
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.requires_grad_(False)
            m.eval()
            count += 1
    return count
