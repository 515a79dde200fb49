"""Re-registers each frozen parameter as a new nn.Parameter (requires_grad=True by default)."""
EXPECT = "was replaced by a new object"
MISTAKE = "ex11.replaces_parameters"

from torch import nn


def unfreeze_all(model):
    frozen = 0
    for module in model.modules():
        for name, p in list(module._parameters.items()):
            if p is not None and not p.requires_grad:
                frozen += 1
                setattr(module, name, nn.Parameter(p.detach().clone()))
    return frozen
