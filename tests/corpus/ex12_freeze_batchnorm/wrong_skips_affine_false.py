"""Recognizes batch norm with isinstance, but skips a layer built with affine=False ("nothing
to freeze"): it stays in train mode, and its running statistics keep moving."""
EXPECT = "It was built with `affine=False`"
MISTAKE = "ex12.parameterless_layer_skipped"
NOT_EXPECT = "rather than listing classes or comparing class names"

from torch import nn


def freeze_batchnorm(model):
    count = 0
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine:
            for p in module.parameters():
                p.requires_grad = False
            module.eval()
            count += 1
    return count
