"""Calling numpy() on t directly: refused when t requires grad."""
EXPECT = "`numpy()` refuses such a tensor"


def to_numpy(t):
    return t.numpy()
