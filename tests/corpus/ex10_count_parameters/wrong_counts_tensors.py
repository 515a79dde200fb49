"""Counts parameter tensors instead of their elements."""
EXPECT = "you counted parameter tensors"
MISTAKE = "ex10.counts_tensors"


def count_parameters(model):
    params = list(model.parameters())
    return len([p for p in params if p.requires_grad]), len(params)
