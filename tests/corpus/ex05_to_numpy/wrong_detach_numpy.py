"""t.detach().numpy(): right on the CPU, refused for a tensor on a GPU."""
EXPECT = "Move it to the CPU first with `.cpu()`"
MISTAKE = "ex05.not_moved_to_cpu"


def to_numpy(t):
    return t.detach().numpy()
