"""np.asarray of the detached CPU tensor: no copy."""
import numpy as np


def to_numpy(t):
    return np.asarray(t.detach().cpu())
