"""Sums the shapes as tensors: returns tensors instead of Python ints."""
EXPECT = "returned a tensor"
MISTAKE = "any.tensor_not_number"

import torch


def count_parameters(model):
    params = list(model.parameters())
    sizes = torch.tensor([p.numel() for p in params])
    trainable = torch.tensor([p.requires_grad for p in params])
    return sizes[trainable].sum(), sizes.sum()
