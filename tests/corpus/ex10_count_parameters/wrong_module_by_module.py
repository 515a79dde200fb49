"""Sums each module's own parameters: a weight shared by two modules is counted twice."""
EXPECT = "counted twice"
MISTAKE = "ex10.tied_counted_twice"


def count_parameters(model):
    trainable = total = 0
    for module in model.modules():
        for p in module.parameters(recurse=False):
            total += p.numel()
            if p.requires_grad:
                trainable += p.numel()
    return trainable, total
