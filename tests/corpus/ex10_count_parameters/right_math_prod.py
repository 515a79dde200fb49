"""Multiplies each shape's sizes with math.prod, which is 1 for the empty shape of a 0-d parameter."""
import math


def count_parameters(model):
    trainable = total = 0
    for p in model.parameters():
        size = int(math.prod(p.shape))
        total += size
        if p.requires_grad:
            trainable += size
    return trainable, total
