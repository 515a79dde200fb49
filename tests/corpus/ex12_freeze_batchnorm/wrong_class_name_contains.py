"""'BatchNorm' in the class name: also hits a container such as ConvBatchNormBlock (its conv frozen,
its dropout switched to eval)."""
EXPECT = "is not a batch-norm layer, yet freeze_batchnorm changed"
MISTAKE = "ex12.not_batchnorm_changed"


def freeze_batchnorm(model):
    count = 0
    for m in model.modules():
        if "BatchNorm" in type(m).__name__:
            for p in m.parameters():
                p.requires_grad = False
            m.eval()
            count += 1
    return count
