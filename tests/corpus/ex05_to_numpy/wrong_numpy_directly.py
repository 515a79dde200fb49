"""Calling numpy() on t directly: refused when t requires grad."""
EXPECT = "`numpy()` refuses such a tensor"
MISTAKE = "ex05.numpy_of_tracking_tensor"


def to_numpy(t):
    return t.numpy()
