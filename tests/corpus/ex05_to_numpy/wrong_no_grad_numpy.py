"""numpy() inside torch.no_grad(): accepted for a CPU tensor that requires grad, refused on a GPU."""
EXPECT = "`numpy()` and `np.asarray` refuse a tensor anywhere else"
MISTAKE = "ex05.not_moved_to_cpu"

import torch


def to_numpy(t):
    with torch.no_grad():
        return t.numpy()
