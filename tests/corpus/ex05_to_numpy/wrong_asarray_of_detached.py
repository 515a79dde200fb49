"""np.asarray(t.detach()): shares memory on the CPU, but refused for a tensor on a GPU."""
EXPECT = "`t` lives on another device than the CPU"
MISTAKE = "ex05.not_moved_to_cpu"

import numpy as np


def to_numpy(t):
    return np.asarray(t.detach())
