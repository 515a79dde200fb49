"""Counts over model.state_dict(): buffers included, and its detached tensors never require grad."""
EXPECT = "buffers were counted too"
MISTAKE = "ex10.counts_buffers"


def count_parameters(model):
    tensors = list(model.state_dict().values())
    return sum(t.numel() for t in tensors if t.requires_grad), sum(t.numel() for t in tensors)
