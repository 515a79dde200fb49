"""Multiplies each shape's sizes with reduce and no start value: a 0-d parameter has no sizes, and it fails."""
EXPECT = "`reduce(mul, p.size())` has nothing to multiply"
MISTAKE = "ex10.product_of_no_sizes"

from functools import reduce
from operator import mul


def count_parameters(model):
    params = list(model.parameters())
    total = sum(reduce(mul, p.size()) for p in params)
    trainable = sum(reduce(mul, p.size()) for p in params if p.requires_grad)
    return trainable, total
