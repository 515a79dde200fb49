"""np.array(...) of the CPU tensor: right values and dtype, but np.array copies by default."""
EXPECT = "to_numpy returned a copy"
MISTAKE = "ex05.copies"

import numpy as np


def to_numpy(t):
    return np.array(t.detach().cpu())
