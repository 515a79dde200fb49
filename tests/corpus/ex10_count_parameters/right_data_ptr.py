"""Deduplicated by data pointer, module by module; numel from the shape with math.prod."""
import math


def count_parameters(model):
    unique = {}
    for module in model.modules():
        for p in module.parameters(recurse=False):
            unique[p.data_ptr()] = p
    total = sum(math.prod(p.shape) for p in unique.values())
    trainable = sum(math.prod(p.shape) for p in unique.values() if p.requires_grad)
    return (trainable, total)
