"""Squeezes the detached tensor: a t with size-1 dimensions comes back with another shape."""
EXPECT = "size-1 dimensions stay"
MISTAKE = "ex06.shape_or_dtype_changed"


def stop_gradient(t):
    return t.detach().squeeze()
