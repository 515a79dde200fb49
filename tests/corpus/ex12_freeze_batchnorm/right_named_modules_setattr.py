"""named_modules(), parameters frozen through setattr on named_parameters, a generator sum."""
import torch


def freeze_batchnorm(model):
    bns = [m for _, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.eval()
        for _, p in m.named_parameters():
            setattr(p, "requires_grad", False)
    return sum(1 for _ in bns)
