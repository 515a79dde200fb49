"""model.apply() with a closure counting the layers; train(False) instead of eval()."""
from torch import nn


def freeze_batchnorm(model):
    found = []

    def visit(m):
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.train(False)
            for p in m.parameters(recurse=False):
                p.requires_grad = False
            found.append(m)

    model.apply(visit)
    return len({id(m) for m in found})
