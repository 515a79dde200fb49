"""named_modules(remove_duplicate=False): a layer used in two places is counted twice."""
EXPECT = "A layer used in two places is one layer"
MISTAKE = "ex12.counts_shared_twice"

from torch import nn


def freeze_batchnorm(model):
    count = 0
    for _, m in model.named_modules(remove_duplicate=False):
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            for p in m.parameters():
                p.requires_grad = False
            m.eval()
            count += 1
    return count
