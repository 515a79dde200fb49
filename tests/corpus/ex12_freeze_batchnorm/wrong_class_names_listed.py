"""Class names compared as text against a list: SyncBatchNorm, lazy layers and subclasses are missed."""
EXPECT = "was not treated as a batch-norm layer"
MISTAKE = "ex12.misses_layers"


def freeze_batchnorm(model):
    count = 0
    for m in model.modules():
        if type(m).__name__ in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
            for p in m.parameters():
                p.requires_grad = False
            m.eval()
            count += 1
    return count
