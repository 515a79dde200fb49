"""numpy(force=True) detaches and moves to the CPU when needed (no copy for a CPU tensor)."""


def to_numpy(t):
    return t.numpy(force=True)
