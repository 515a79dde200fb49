"""Counts buffers with the parameters ("everything the model stores")."""
EXPECT = "buffers were counted too"
MISTAKE = "ex10.counts_buffers"


def count_parameters(model):
    params = list(model.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params) + sum(b.numel() for b in model.buffers())
    return trainable, total
