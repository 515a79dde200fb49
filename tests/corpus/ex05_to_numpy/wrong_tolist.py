"""np.array(t.tolist()): a copy through Python numbers; float32 becomes float64."""
EXPECT = "Going through Python numbers"
MISTAKE = "ex05.dtype_changed"

import numpy as np


def to_numpy(t):
    return np.array(t.tolist())
