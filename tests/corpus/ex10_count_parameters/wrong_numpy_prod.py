"""np.prod(p.shape) per tensor: numpy integers instead of Python ints."""
EXPECT = "a numpy number"
MISTAKE = "ex10.numpy_numbers"

import numpy as np


def count_parameters(model):
    params = list(model.parameters())
    trainable = np.sum([np.prod(p.shape) for p in params if p.requires_grad], dtype=np.int64)
    total = np.sum([np.prod(p.shape) for p in params], dtype=np.int64)
    return trainable, total
