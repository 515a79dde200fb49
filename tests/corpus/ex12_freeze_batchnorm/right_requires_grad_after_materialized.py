"""requires_grad_(False) on real parameters, the attribute only on a lazy layer's placeholders."""
from torch import nn
from torch.nn.parameter import UninitializedParameter


def freeze_batchnorm(model):
    count = 0
    for m in model.modules():
        if not isinstance(m, nn.modules.batchnorm._BatchNorm):
            continue
        for p in m.parameters():
            if isinstance(p, UninitializedParameter):
                p.requires_grad = False
            else:
                p.requires_grad_(False)
        m.eval()
        count += 1
    return count
